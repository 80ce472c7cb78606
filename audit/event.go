// Package audit turns the latest update of a Pulumi stack into one infra_change_applied event: pushed to Loki
// (one tenant per environment) and summarised on Slack. cmd/audit runs it after every `pulumi up`; what is
// emitted and how to query it is in docs/audit.md.
package audit

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// EventName is the event every record carries, as the spec names it.
const EventName = "infra_change_applied"

// Job is the fixed job label of every stream the command pushes, so one selector finds all audit events.
const Job = "lke-platform-audit"

// Update is one entry of a stack's history, as the event reports it.
type Update struct {
	Version    int
	Kind       string // update, destroy, refresh, import, ...
	Result     string // succeeded, failed, in-progress
	Start, End time.Time
	// Changes counts resources by operation (create, update, delete, replace, same, ...), as Pulumi records it.
	Changes map[string]int
	// Metadata is what Pulumi recorded of the update's environment (git.head, exec.kind, ...).
	Metadata map[string]string
	// Config holds the plain config values at the time of the update (secrets are left out).
	Config map[string]string
}

// historyTime is the layout of the times in `pulumi stack history --json` (RFC 5424, milliseconds).
const historyTime = "2006-01-02T15:04:05.000Z07:00"

// FromSummary reads one history entry of the Automation API.
func FromSummary(s auto.UpdateSummary) (Update, error) {
	u := Update{Version: s.Version, Kind: s.Kind, Result: s.Result, Metadata: s.Environment,
		Changes: map[string]int{}, Config: map[string]string{}}
	var err error
	if u.Start, err = time.Parse(historyTime, s.StartTime); err != nil {
		return Update{}, fmt.Errorf("history entry %d: start time %q: %w", s.Version, s.StartTime, err)
	}
	if s.EndTime != nil {
		if u.End, err = time.Parse(historyTime, *s.EndTime); err != nil {
			return Update{}, fmt.Errorf("history entry %d: end time %q: %w", s.Version, *s.EndTime, err)
		}
	}
	if s.ResourceChanges != nil {
		maps.Copy(u.Changes, *s.ResourceChanges)
	}
	for k, v := range s.Config {
		if !v.Secret {
			u.Config[k] = v.Value
		}
	}
	return u, nil
}

// Reportable says whether u is a change the event reports, and when it is not, why, in a sentence.
//
// An update and a destroy change the infrastructure, so both are reported, whatever their result (a failed
// update may have changed part of it). A refresh, a stack import, a rename or a resource import only change
// Pulumi's state, and an update still in progress has no counts yet: those are not reported.
func Reportable(u Update) (bool, string) {
	switch {
	case u.Kind != "update" && u.Kind != "destroy":
		return false, fmt.Sprintf("it is a %s, which changes no infrastructure (only an update or a destroy is reported)", u.Kind)
	case u.Result == "in-progress" || u.End.IsZero():
		return false, fmt.Sprintf("the %s has not finished (result %q); run the command after it ends", u.Kind, u.Result)
	}
	return true, ""
}

// Event is one infra_change_applied record: who changed which stack of which environment, and how.
type Event struct {
	Environment string // the stack's environment: Loki tenant and label
	Stack       string
	Actor       string
	ArgoApp     string // the stack's root Application, empty when it has none
	Commit      string
	Update      Update
}

// Labels are the stream labels of the event. Loki indexes them: only values with few distinct values (no
// version, commit or time, which are in the line). Every value is valid for Loki: non-empty UTF-8 within its
// length limit.
func (e Event) Labels() map[string]string {
	labels := map[string]string{
		"job":         Job,
		"event":       EventName,
		"environment": labelValue(e.Environment),
		"stack":       labelValue(e.Stack),
		"actor":       labelValue(e.Actor),
	}
	if e.ArgoApp != "" {
		labels["argo_app"] = labelValue(e.ArgoApp)
	}
	return labels
}

// maxLabelValue is Loki's default max_label_value_length, in bytes.
const maxLabelValue = 2048

// labelValue makes v a value Loki accepts: an empty value would drop the label, invalid UTF-8 is refused.
func labelValue(v string) string {
	v = strings.ToValidUTF8(strings.TrimSpace(v), "\uFFFD")
	if v == "" {
		return "unknown"
	}
	for len(v) > maxLabelValue {
		_, size := utf8.DecodeLastRuneInString(v)
		v = v[:len(v)-size]
	}
	return v
}

// Line is the event's log line: a JSON object, so that LogQL's `| json` turns each field into a label.
type Line struct {
	Event           string         `json:"event"`
	Kind            string         `json:"kind"`
	Result          string         `json:"result"`
	Version         int            `json:"version"`
	Commit          string         `json:"commit"`
	DurationSeconds float64        `json:"duration_seconds"`
	ResourceChanges map[string]int `json:"resource_changes"`
	// Changed counts the resources the update touched (every operation but same), for `| json | changed > 0`.
	Changed   int    `json:"changed"`
	StartTime string `json:"start_time"`
	EndTime   string `json:"end_time"`
}

// Line is the event's log line.
func (e Event) Line() Line {
	return Line{
		Event: EventName, Kind: e.Update.Kind, Result: e.Update.Result, Version: e.Update.Version,
		Commit: e.Commit, DurationSeconds: e.Update.End.Sub(e.Update.Start).Seconds(),
		ResourceChanges: e.Update.Changes, Changed: changed(e.Update.Changes),
		StartTime: e.Update.Start.UTC().Format(time.RFC3339), EndTime: e.Update.End.UTC().Format(time.RFC3339),
	}
}

// changed counts every operation but "same".
func changed(changes map[string]int) int {
	n := 0
	for op, count := range changes {
		if op != "same" {
			n += count
		}
	}
	return n
}

// summaryOps are the operations the one-line summary names first, in this order, with their wording.
var summaryOps = []struct{ op, word string }{
	{"create", "created"}, {"update", "updated"}, {"replace", "replaced"}, {"delete", "deleted"}, {"same", "unchanged"},
}

// Counts says the resource counts in words: "2 created, 1 updated, 0 replaced, 0 deleted, 14 unchanged", then any
// other operation Pulumi recorded ("1 import").
func (e Event) Counts() string {
	var parts []string
	named := map[string]bool{}
	for _, o := range summaryOps {
		parts = append(parts, fmt.Sprintf("%d %s", e.Update.Changes[o.op], o.word))
		named[o.op] = true
	}
	for _, op := range slices.Sorted(maps.Keys(e.Update.Changes)) {
		if !named[op] {
			parts = append(parts, fmt.Sprintf("%d %s", e.Update.Changes[op], op))
		}
	}
	return strings.Join(parts, ", ")
}

// Summary is the one-line Slack summary.
func (e Event) Summary() string {
	return fmt.Sprintf("%s: %s of stack %s (version %d) %s: %s; by %s at %s in %s",
		e.Environment, e.Update.Kind, e.Stack, e.Update.Version, e.Update.Result, e.Counts(), e.Actor,
		shortCommit(e.Commit), e.Update.End.Sub(e.Update.Start).Round(time.Second))
}

// shortCommit is the 7-character form of a hash, as git and GitHub show it; anything else stays as it is.
func shortCommit(c string) string {
	if len(c) > 7 && strings.Trim(c, "0123456789abcdef") == "" {
		return c[:7]
	}
	return c
}

// MarshalLine is the line as Loki stores it.
func (e Event) MarshalLine() (string, error) {
	b, err := json.Marshal(e.Line())
	return string(b), err
}
