package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// ApprovalEnv is the environment variable CI fills with the approval record of the change it deploys. The
// engine starts policy packs with its own environment, so whatever the CI job exports reaches the pack.
const ApprovalEnv = "PLATFORM_APPROVAL_RECORD"

// ApprovalRecord says who approved which change, until when. CI writes it from the pull request's reviews:
//
//	{"change": "PR#123", "author": "alice", "approvers": ["bob", "carol"], "expires": "2026-11-26T18:00:00Z"}
type ApprovalRecord struct {
	// Change is the change being deployed: "PR#<number>" or a commit SHA (7 to 40 hex digits).
	Change string `json:"change"`
	// Author wrote the change; they cannot approve it.
	Author string `json:"author"`
	// Approvers are the distinct reviewers who approved it.
	Approvers []string `json:"approvers"`
	// Expires is when the approval lapses (RFC 3339), so an old record cannot be replayed.
	Expires string `json:"expires"`
}

var changeRef = regexp.MustCompile(`^(?i:PR#[0-9]+|[0-9a-f]{7,40})$`)

// ParseApprovalRecord decodes a record strictly: an unknown field is more likely a typo ("approver") than
// something to ignore.
func ParseApprovalRecord(raw string) (ApprovalRecord, error) {
	var r ApprovalRecord
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return ApprovalRecord{}, fmt.Errorf("%s is not a valid approval record: %w", ApprovalEnv, err)
	}
	if dec.More() {
		return ApprovalRecord{}, fmt.Errorf("%s is not a valid approval record: extra data after the JSON object", ApprovalEnv)
	}
	return r, nil
}

// ApprovalRules are the thresholds a record must meet.
type ApprovalRules struct {
	MinApprovers int           // distinct approvers other than the author
	MaxValidity  time.Duration // how far in the future a record may expire
}

// Problems lists everything that keeps the record from approving a change at time now, each saying exactly
// what is missing; none means approved. Names compare case-insensitively, as Git hosts treat logins.
func (r ApprovalRecord) Problems(now time.Time, rules ApprovalRules) []string {
	var problems []string
	change := strings.TrimSpace(r.Change)
	switch {
	case change == "":
		problems = append(problems, `"change" is empty: name the pull request ("PR#123") or commit SHA being deployed`)
	case !changeRef.MatchString(change):
		problems = append(problems, fmt.Sprintf(`"change" = %q is neither "PR#<number>" nor a commit SHA`, r.Change))
	}

	author := strings.ToLower(strings.TrimSpace(r.Author))
	if author == "" {
		problems = append(problems, `"author" is empty: name who wrote the change, so self-approval can be excluded`)
	}
	seen := map[string]bool{}
	var distinct []string
	for i, a := range r.Approvers {
		name := strings.ToLower(strings.TrimSpace(a))
		switch {
		case name == "":
			problems = append(problems, fmt.Sprintf(`"approvers"[%d] is empty`, i))
		case author != "" && name == author:
			problems = append(problems, fmt.Sprintf(`approver %q is the change's author and cannot approve it`, a))
		case !seen[name]:
			seen[name] = true
			distinct = append(distinct, a)
		}
	}
	if len(distinct) < rules.MinApprovers {
		problems = append(problems, fmt.Sprintf("%d distinct approver(s) other than the author (%s); %d required: %d more needed",
			len(distinct), quoteList(distinct), rules.MinApprovers, rules.MinApprovers-len(distinct)))
	}

	if strings.TrimSpace(r.Expires) == "" {
		problems = append(problems, `"expires" is empty: give the approval's end as an RFC 3339 time`)
	} else if expires, err := time.Parse(time.RFC3339, r.Expires); err != nil {
		problems = append(problems, fmt.Sprintf(`"expires" = %q is not an RFC 3339 time such as 2026-11-26T18:00:00Z`, r.Expires))
	} else if !expires.After(now) {
		problems = append(problems, fmt.Sprintf("the approval expired at %s (now %s)", expires.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	} else if rules.MaxValidity > 0 && expires.Sub(now) > rules.MaxValidity {
		problems = append(problems, fmt.Sprintf("the approval is valid until %s, more than %s ahead: records must be short-lived",
			expires.UTC().Format(time.RFC3339), rules.MaxValidity))
	}
	return problems
}

func quoteList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
