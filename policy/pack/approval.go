package pack

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
)

// ApprovalEnv is the environment variable CI fills with the approval record of the change it deploys. The
// engine starts policy packs with its own environment, so whatever the CI job exports reaches the pack.
const ApprovalEnv = "PLATFORM_APPROVAL_RECORD"

// DeployedCommitEnv names the commit being deployed: GitHub Actions sets it for every job; elsewhere it is exported
// with the record (GITHUB_SHA=$(git rev-parse HEAD)). The record must name the same commit.
const DeployedCommitEnv = "GITHUB_SHA"

// ApprovalRecord says who approved which change, for which commit, until when. CI writes it from the merged pull
// request's reviews of its head commit by people with write access:
//
//	{"change": "PR#123", "commit": "<40-hex sha>", "author": "alice", "approvers": ["bob", "carol"],
//	 "expires": "2026-11-26T18:00:00Z"}
type ApprovalRecord struct {
	// Change is the change being deployed: "PR#<number>" or a commit SHA (7 to 40 hex digits).
	Change string `json:"change"`
	// Commit is the full SHA of the commit the record approves deploying; the pack refuses any other.
	Commit string `json:"commit"`
	// Author wrote the change; they cannot approve it.
	Author string `json:"author"`
	// Approvers are the distinct reviewers who approved it.
	Approvers []string `json:"approvers"`
	// Expires is when the approval lapses (RFC 3339), so an old record cannot be replayed.
	Expires string `json:"expires"`
}

var (
	changeRef = regexp.MustCompile(`^(?i:PR#[0-9]+|[0-9a-f]{7,40})$`)
	fullSHA   = regexp.MustCompile(`^[0-9a-f]{40}$`)
	// githubLogin is a GitHub login: ASCII letters, digits and hyphens. Anything else (a look-alike Cyrillic
	// letter, a zero-width space, a "[bot]" suffix) is not a person who reviewed on GitHub.
	githubLogin = regexp.MustCompile(`^[A-Za-z0-9-]{1,39}$`)
)

// recordFields are the record's keys, exactly: encoding/json alone would take "Author" for "author" and let a
// second "approvers" replace the first.
var recordFields = []string{"change", "commit", "author", "approvers", "expires"}

// ParseApprovalRecord decodes a record strictly: a key that is unknown, differs in case from a known one, or
// appears twice is refused (more likely a typo or a forgery than something to ignore), and so is any data after
// the object.
func ParseApprovalRecord(raw string) (ApprovalRecord, error) {
	invalid := func(format string, args ...any) (ApprovalRecord, error) {
		return ApprovalRecord{}, fmt.Errorf("%s is not a valid approval record: %s", ApprovalEnv, fmt.Sprintf(format, args...))
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return invalid("want a JSON object with the keys %s", strings.Join(recordFields, ", "))
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return invalid("%v", err)
		}
		key, _ := tok.(string)
		switch {
		case !slices.Contains(recordFields, key):
			return invalid("unknown field %q (the keys are exactly %s, in lower case)", key, strings.Join(recordFields, ", "))
		case fields[key] != nil:
			return invalid("field %q appears twice", key)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return invalid("%v", err)
		}
		fields[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return invalid("%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("extra data after the JSON object")
	}
	var r ApprovalRecord
	for key, target := range map[string]any{
		"change": &r.Change, "commit": &r.Commit, "author": &r.Author, "approvers": &r.Approvers, "expires": &r.Expires,
	} {
		if v, ok := fields[key]; ok {
			if err := json.Unmarshal(v, target); err != nil {
				return invalid("field %q: %v", key, err)
			}
		}
	}
	return r, nil
}

// ApprovalRules are the thresholds a record must meet.
type ApprovalRules struct {
	MinApprovers int           // distinct approvers other than the author
	MaxValidity  time.Duration // how far in the future a record may expire
}

// Problems lists everything that keeps the record from approving the deployment of commit deployed at time now,
// each saying exactly what is missing; none means approved. Logins compare case-insensitively, as GitHub's do.
func (r ApprovalRecord) Problems(now time.Time, deployed string, rules ApprovalRules) []string {
	var problems []string
	change := strings.TrimSpace(r.Change)
	switch {
	case change == "":
		problems = append(problems, `"change" is empty: name the pull request ("PR#123") or commit SHA being deployed`)
	case !changeRef.MatchString(change):
		problems = append(problems, fmt.Sprintf(`"change" = %q is neither "PR#<number>" nor a commit SHA`, r.Change))
	}

	switch {
	case r.Commit == "":
		problems = append(problems, `"commit" is empty: name the full SHA of the commit being deployed`)
	case !fullSHA.MatchString(r.Commit):
		problems = append(problems, fmt.Sprintf(`"commit" = %q is not a full commit SHA (40 lower-case hex digits)`, r.Commit))
	case deployed == "":
		problems = append(problems, "the commit being deployed is unknown: "+DeployedCommitEnv+" is not set")
	case !strings.EqualFold(r.Commit, deployed):
		problems = append(problems, fmt.Sprintf("the record approves commit %s, but this update deploys %s (%s)", r.Commit, deployed, DeployedCommitEnv))
	}

	author := strings.ToLower(r.Author)
	switch {
	case r.Author == "":
		problems = append(problems, `"author" is empty: name who wrote the change, so self-approval can be excluded`)
	case !githubLogin.MatchString(r.Author):
		problems = append(problems, fmt.Sprintf(`"author" = %q is not a GitHub login (letters, digits and '-', at most 39)`, r.Author))
	}
	seen := map[string]bool{}
	var distinct []string
	for i, a := range r.Approvers {
		name := strings.ToLower(a)
		switch {
		case a == "":
			problems = append(problems, fmt.Sprintf(`"approvers"[%d] is empty`, i))
		case !githubLogin.MatchString(a):
			problems = append(problems, fmt.Sprintf(`"approvers"[%d] = %q is not a GitHub login (letters, digits and '-', at most 39)`, i, a))
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
