package pack

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var defaultRules = ApprovalRules{MinApprovers: 2, MaxValidity: 4 * time.Hour}

// deployedSHA is the commit the tests' updates deploy (GITHUB_SHA).
var deployedSHA = strings.Repeat("9f", 20)

func validRecord() ApprovalRecord {
	return ApprovalRecord{Change: "PR#123", Commit: deployedSHA, Author: "alice", Approvers: []string{"bob", "carol"}, Expires: "2026-11-25T15:00:00Z"}
}

func TestParseApprovalRecord(t *testing.T) {
	r, err := ParseApprovalRecord(`{"change": "PR#123", "commit": "` + deployedSHA + `", "author": "alice", "approvers": ["bob", "carol"], "expires": "2026-11-25T15:00:00Z"}`)
	require.NoError(t, err)
	assert.Equal(t, validRecord(), r)

	for raw, want := range map[string]string{
		`not json`:                            "want a JSON object",
		`["PR#1"]`:                            "want a JSON object",
		`{"change": "PR#1", "approver": "x"}`: `unknown field "approver"`,
		// encoding/json alone matches keys case-insensitively and lets the last duplicate win.
		`{"change": "PR#1", "Author": "mallory"}`:                               `unknown field "Author"`,
		`{"approvers": ["bob", "carol"], "approvers": ["mallory", "mallory2"]}`: `field "approvers" appears twice`,
		`{"author": "alice", "AUTHOR": "bob"}`:                                  `unknown field "AUTHOR"`,
		`{"change": "PR#1"} {}`:                                                 "extra data",
		`{"approvers": "bob"}`:                                                  `field "approvers"`,
		`{"change": "PR#1"`:                                                     "not a valid approval record",
	} {
		_, err := ParseApprovalRecord(raw)
		assert.ErrorContains(t, err, want, raw)
		assert.ErrorContains(t, err, ApprovalEnv, raw)
	}
}

func TestApprovalRecordProblems(t *testing.T) {
	tests := []struct {
		name     string
		change   func(*ApprovalRecord)
		deployed string   // default deployedSHA
		want     []string // substrings, one per expected problem, in order
	}{
		{"valid", func(*ApprovalRecord) {}, "", nil},
		{"change as a commit sha", func(r *ApprovalRecord) { r.Change = "9660e83" }, "", nil},
		{"more approvers, logins in other cases", func(r *ApprovalRecord) { r.Approvers = []string{"Bob", "carol", "dave-2"} }, "", nil},
		{"no change", func(r *ApprovalRecord) { r.Change = " " }, "", []string{`"change" is empty`}},
		{"change not a PR or commit", func(r *ApprovalRecord) { r.Change = "yolo" }, "", []string{`"change" = "yolo" is neither`}},
		{"no commit", func(r *ApprovalRecord) { r.Commit = "" }, "", []string{`"commit" is empty`}},
		{"short commit", func(r *ApprovalRecord) { r.Commit = "9f9f9f9" }, "", []string{`"commit" = "9f9f9f9" is not a full commit SHA`}},
		{"record for another commit", func(*ApprovalRecord) {}, strings.Repeat("0a", 20), []string{"the record approves commit 9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f, but this update deploys 0a0a"}},
		{"deployed commit unknown", func(*ApprovalRecord) {}, "-", []string{"the commit being deployed is unknown: GITHUB_SHA is not set"}},
		{"no author", func(r *ApprovalRecord) { r.Author = "" }, "", []string{`"author" is empty`}},
		{"author not a login", func(r *ApprovalRecord) { r.Author = "alice smith" }, "", []string{`"author" = "alice smith" is not a GitHub login`}},
		{"one approver", func(r *ApprovalRecord) { r.Approvers = []string{"bob"} }, "", []string{`1 distinct approver(s) other than the author ("bob"); 2 required: 1 more needed`}},
		{"no approvers", func(r *ApprovalRecord) { r.Approvers = nil }, "", []string{`0 distinct approver(s) other than the author (none); 2 required: 2 more needed`}},
		{"same approver twice, differently cased", func(r *ApprovalRecord) { r.Approvers = []string{"bob", "BOB"} }, "", []string{"1 distinct approver(s)"}},
		{"author approves own change", func(r *ApprovalRecord) { r.Approvers = []string{"bob", "Alice"} }, "", []string{
			`approver "Alice" is the change's author`, "1 distinct approver(s)",
		}},
		// The forgeries of the security review: look-alikes of the author, and a bot.
		{"zero-width space and Cyrillic a", func(r *ApprovalRecord) {
			r.Author = "mallory"
			r.Approvers = []string{"mallory\u200b", "m\u0430llory"}
		}, "", []string{`"approvers"[0] = "mallory\u200b" is not a GitHub login`, "\"approvers\"[1] = \"m\u0430llory\" is not a GitHub login", "0 distinct approver(s)"}},
		{"a bot", func(r *ApprovalRecord) { r.Approvers = []string{"bob", "dependabot[bot]"} }, "", []string{`"approvers"[1] = "dependabot[bot]" is not a GitHub login`, "1 distinct approver(s)"}},
		{"padded login", func(r *ApprovalRecord) { r.Approvers = []string{"bob", " carol"} }, "", []string{`"approvers"[1] = " carol" is not a GitHub login`, "1 distinct approver(s)"}},
		{"empty approver", func(r *ApprovalRecord) { r.Approvers = []string{"bob", "", "carol"} }, "", []string{`"approvers"[1] is empty`}},
		{"expired", func(r *ApprovalRecord) { r.Expires = "2026-11-25T11:59:59Z" }, "", []string{"the approval expired at 2026-11-25T11:59:59Z"}},
		{"expires now", func(r *ApprovalRecord) { r.Expires = "2026-11-25T12:00:00Z" }, "", []string{"expired"}},
		{"no expiry", func(r *ApprovalRecord) { r.Expires = "" }, "", []string{`"expires" is empty`}},
		{"bad expiry", func(r *ApprovalRecord) { r.Expires = "tomorrow" }, "", []string{`"expires" = "tomorrow" is not an RFC 3339 time`}},
		{"valid for too long", func(r *ApprovalRecord) { r.Expires = "2026-11-25T18:00:00Z" }, "", []string{"more than 4h0m0s ahead"}},
		{"everything missing", func(r *ApprovalRecord) { *r = ApprovalRecord{} }, "", []string{
			`"change" is empty`, `"commit" is empty`, `"author" is empty`, "0 distinct approver(s)", `"expires" is empty`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRecord()
			tt.change(&r)
			deployed := deployedSHA
			switch tt.deployed {
			case "-":
				deployed = ""
			case "":
			default:
				deployed = tt.deployed
			}
			got := r.Problems(testNow, deployed, defaultRules)
			require.Len(t, got, len(tt.want), "%q", got)
			for i, want := range tt.want {
				assert.Contains(t, got[i], want)
			}
		})
	}
}
