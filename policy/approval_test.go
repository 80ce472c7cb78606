package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var defaultRules = ApprovalRules{MinApprovers: 2, MaxValidity: 168 * time.Hour}

func validRecord() ApprovalRecord {
	return ApprovalRecord{Change: "PR#123", Author: "alice", Approvers: []string{"bob", "carol"}, Expires: "2026-11-25T18:00:00Z"}
}

func TestParseApprovalRecord(t *testing.T) {
	r, err := ParseApprovalRecord(`{"change": "PR#123", "author": "alice", "approvers": ["bob", "carol"], "expires": "2026-11-25T18:00:00Z"}`)
	require.NoError(t, err)
	assert.Equal(t, validRecord(), r)

	for raw, want := range map[string]string{
		`not json`:                            "not a valid approval record",
		`{"change": "PR#1", "approver": "x"}`: `unknown field "approver"`,
		`{"change": "PR#1"} {}`:               "extra data",
		`{"approvers": "bob"}`:                "cannot unmarshal",
	} {
		_, err := ParseApprovalRecord(raw)
		assert.ErrorContains(t, err, want, raw)
		assert.ErrorContains(t, err, ApprovalEnv, raw)
	}
}

func TestApprovalRecordProblems(t *testing.T) {
	tests := []struct {
		name   string
		change func(*ApprovalRecord)
		want   []string // substrings, one per expected problem, in order
	}{
		{"valid", func(*ApprovalRecord) {}, nil},
		{"commit sha", func(r *ApprovalRecord) { r.Change = "9660e83" }, nil},
		{"full sha and more approvers", func(r *ApprovalRecord) {
			r.Change = strings.Repeat("a1", 20)
			r.Approvers = []string{"bob", "carol", "dave"}
		}, nil},
		{"no change", func(r *ApprovalRecord) { r.Change = " " }, []string{`"change" is empty`}},
		{"change not a PR or commit", func(r *ApprovalRecord) { r.Change = "yolo" }, []string{`"change" = "yolo" is neither`}},
		{"no author", func(r *ApprovalRecord) { r.Author = "" }, []string{`"author" is empty`}},
		{"one approver", func(r *ApprovalRecord) { r.Approvers = []string{"bob"} }, []string{`1 distinct approver(s) other than the author ("bob"); 2 required: 1 more needed`}},
		{"no approvers", func(r *ApprovalRecord) { r.Approvers = nil }, []string{`0 distinct approver(s) other than the author (none); 2 required: 2 more needed`}},
		{"same approver twice, differently cased", func(r *ApprovalRecord) { r.Approvers = []string{"bob", "Bob "} }, []string{"1 distinct approver(s)"}},
		{"author approves own change", func(r *ApprovalRecord) { r.Approvers = []string{"bob", "Alice"} }, []string{
			`approver "Alice" is the change's author`, "1 distinct approver(s)",
		}},
		{"empty approver", func(r *ApprovalRecord) { r.Approvers = []string{"bob", "", "carol"} }, []string{`"approvers"[1] is empty`}},
		{"expired", func(r *ApprovalRecord) { r.Expires = "2026-11-25T11:59:59Z" }, []string{"the approval expired at 2026-11-25T11:59:59Z"}},
		{"expires now", func(r *ApprovalRecord) { r.Expires = "2026-11-25T12:00:00Z" }, []string{"expired"}},
		{"no expiry", func(r *ApprovalRecord) { r.Expires = "" }, []string{`"expires" is empty`}},
		{"bad expiry", func(r *ApprovalRecord) { r.Expires = "tomorrow" }, []string{`"expires" = "tomorrow" is not an RFC 3339 time`}},
		{"valid for too long", func(r *ApprovalRecord) { r.Expires = "2027-01-01T00:00:00Z" }, []string{"more than 168h0m0s ahead"}},
		{"everything missing", func(r *ApprovalRecord) { *r = ApprovalRecord{} }, []string{
			`"change" is empty`, `"author" is empty`, "0 distinct approver(s)", `"expires" is empty`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRecord()
			tt.change(&r)
			got := r.Problems(testNow, defaultRules)
			require.Len(t, got, len(tt.want), "%q", got)
			for i, want := range tt.want {
				assert.Contains(t, got[i], want)
			}
		})
	}
}
