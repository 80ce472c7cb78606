// Package audittest holds stand-ins for the receivers of audit events: Loki's push API, checked as strictly as
// Loki checks a push, and a Slack incoming webhook. The audit package's unit tests and the integration tests
// (tests/audit_test.go) point the command at them.
package audittest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Push is one push Loki accepted: the tenant and the streams, decoded.
type Push struct {
	Tenant  string
	Streams []Stream
}

// Stream is one stream of a push: its labels and entries.
type Stream struct {
	Labels  map[string]string
	Entries []Entry
}

// Entry is one log entry: its time, its line, and the line's JSON fields.
type Entry struct {
	Time   time.Time
	Line   string
	Fields map[string]any
}

// Limits a push is checked against: Loki's defaults (max_label_names_per_series, max_label_name_length,
// max_label_value_length, reject_old_samples_max_age, creation_grace_period) and its tenant ID rules.
const (
	MaxLabels        = 15
	MaxLabelName     = 1024
	MaxLabelValue    = 2048
	MaxAge           = 168 * time.Hour
	GracePeriod      = 10 * time.Minute
	MaxTenantID      = 150
	EventName        = "infra_change_applied"
	pushPath         = "/loki/api/v1/push"
	tenantCharacters = "!-_.*'()"
)

// labelName is Prometheus' (and so Loki's) label name syntax.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// wire is the JSON body of Loki's push API. Decoding with DisallowUnknownFields makes any other field an
// error. Each value is ["<unix ns>", "<line>"]: Loki also takes a third element (structured metadata), which
// the audit command does not send, so here it is refused.
type wire struct {
	Streams []struct {
		Stream map[string]string `json:"stream"`
		Values [][]string        `json:"values"`
	} `json:"streams"`
}

// LineCheck checks one entry's line and returns its JSON fields.
type LineCheck func(line string) (map[string]any, error)

// ValidatePush checks a push request of audit events as Loki's push API would, at time now, and returns it
// decoded: ValidatePushOf with AuditLine.
func ValidatePush(r *http.Request, body []byte, now time.Time) (Push, error) {
	return ValidatePushOf(r, body, now, AuditLine)
}

// ValidatePushOf checks a push request as Loki's push API would, at time now, each line with line, and returns
// it decoded.
func ValidatePushOf(r *http.Request, body []byte, now time.Time, line LineCheck) (Push, error) {
	if r.Method != http.MethodPost {
		return Push{}, fmt.Errorf("method %s: the push API takes POST", r.Method)
	}
	if r.URL.Path != pushPath {
		return Push{}, fmt.Errorf("path %s: the push API is %s", r.URL.Path, pushPath)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return Push{}, fmt.Errorf("Content-Type %q: a JSON push needs application/json", r.Header.Get("Content-Type"))
	}
	tenant := r.Header.Get("X-Scope-OrgID")
	if err := validTenant(tenant); err != nil {
		return Push{}, err
	}
	var w wire
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Push{}, fmt.Errorf("body: %w", err)
	}
	if dec.More() {
		return Push{}, errors.New("body: more than one JSON value")
	}
	if len(w.Streams) == 0 {
		return Push{}, errors.New("no streams")
	}
	push := Push{Tenant: tenant}
	for i, s := range w.Streams {
		if err := validLabels(s.Stream); err != nil {
			return Push{}, fmt.Errorf("stream %d: %w", i, err)
		}
		if len(s.Values) == 0 {
			return Push{}, fmt.Errorf("stream %d: no values", i)
		}
		stream := Stream{Labels: s.Stream}
		for j, v := range s.Values {
			e, err := validEntry(v, now, line)
			if err != nil {
				return Push{}, fmt.Errorf("stream %d, value %d: %w", i, j, err)
			}
			stream.Entries = append(stream.Entries, e)
		}
		push.Streams = append(push.Streams, stream)
	}
	return push, nil
}

func validTenant(tenant string) error {
	switch {
	case tenant == "":
		return errors.New("no X-Scope-OrgID header: Loki is multi-tenant (a tenant per environment)")
	case len(tenant) > MaxTenantID, tenant == ".", tenant == "..":
		return fmt.Errorf("X-Scope-OrgID %q is not a valid tenant ID", tenant)
	}
	for _, r := range tenant {
		ok := r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune(tenantCharacters, r))
		if !ok {
			return fmt.Errorf("X-Scope-OrgID %q: character %q is not allowed in a tenant ID", tenant, r)
		}
	}
	return nil
}

func validLabels(labels map[string]string) error {
	if len(labels) == 0 {
		return errors.New("no labels: a stream needs at least one")
	}
	if len(labels) > MaxLabels {
		return fmt.Errorf("%d labels, more than %d", len(labels), MaxLabels)
	}
	for name, value := range labels {
		switch {
		case !labelName.MatchString(name) || len(name) > MaxLabelName:
			return fmt.Errorf("label name %q is not valid ([a-zA-Z_][a-zA-Z0-9_]*)", name)
		case strings.HasPrefix(name, "__"):
			return fmt.Errorf("label name %q is reserved", name)
		case value == "":
			return fmt.Errorf("label %s is empty (Loki would drop it)", name)
		case !utf8.ValidString(value) || len(value) > MaxLabelValue:
			return fmt.Errorf("label %s: value is not UTF-8 of at most %d bytes", name, MaxLabelValue)
		}
	}
	return nil
}

func validEntry(v []string, now time.Time, check LineCheck) (Entry, error) {
	if len(v) != 2 {
		return Entry{}, fmt.Errorf("%d elements, want [timestamp, line]", len(v))
	}
	ns, err := strconv.ParseInt(v[0], 10, 64)
	if err != nil {
		return Entry{}, fmt.Errorf("timestamp %q is not an int64 of Unix nanoseconds", v[0])
	}
	ts := time.Unix(0, ns)
	if ts.Before(now.Add(-MaxAge)) || ts.After(now.Add(GracePeriod)) {
		return Entry{}, fmt.Errorf("timestamp %s is outside [now-%s, now+%s]", ts.UTC().Format(time.RFC3339Nano), MaxAge, GracePeriod)
	}
	if v[1] == "" || !utf8.ValidString(v[1]) {
		return Entry{}, errors.New("line is empty or not UTF-8")
	}
	fields, err := check(v[1])
	if err != nil {
		return Entry{}, fmt.Errorf("line %s: %w", v[1], err)
	}
	return Entry{Time: ts, Line: v[1], Fields: fields}, nil
}

// JSONLine checks the line is one JSON object, and returns its fields (numbers as json.Number).
func JSONLine(line string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	return fields, nil
}

// AuditLine checks the line is one JSON object with the fields of an infra_change_applied event.
func AuditLine(line string) (map[string]any, error) {
	fields, err := JSONLine(line)
	if err != nil {
		return nil, err
	}
	if fields["event"] != EventName {
		return nil, fmt.Errorf("event is %v, want %s", fields["event"], EventName)
	}
	for _, name := range []string{"kind", "result", "commit", "start_time", "end_time"} {
		if s, ok := fields[name].(string); !ok || s == "" {
			return nil, fmt.Errorf("%s is %v, want a non-empty string", name, fields[name])
		}
	}
	for _, name := range []string{"version", "changed"} {
		if n, err := integer(fields[name]); err != nil || n < 0 {
			return nil, fmt.Errorf("%s is %v, want a count", name, fields[name])
		}
	}
	if d, ok := fields["duration_seconds"].(json.Number); !ok {
		return nil, fmt.Errorf("duration_seconds is %v, want a number", fields["duration_seconds"])
	} else if f, err := d.Float64(); err != nil || f < 0 {
		return nil, fmt.Errorf("duration_seconds is %v, want seconds", d)
	}
	changes, ok := fields["resource_changes"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("resource_changes is %v, want an object of counts by operation", fields["resource_changes"])
	}
	for op, count := range changes {
		if n, err := integer(count); err != nil || n < 0 {
			return nil, fmt.Errorf("resource_changes.%s is %v, want a count", op, count)
		}
	}
	return fields, nil
}

func integer(v any) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%v is not a number", v)
	}
	return n.Int64()
}

// Changes is an entry's resource_changes as counts, for comparing with `pulumi stack history --json`.
func (e Entry) Changes() map[string]int {
	out := map[string]int{}
	changes, _ := e.Fields["resource_changes"].(map[string]any)
	for op, count := range changes {
		n, _ := integer(count)
		out[op] = int(n)
	}
	return out
}

// Loki is a Loki push API on loopback that accepts a push only if ValidatePushOf does, answering 204 like Loki,
// and 400 with the reason otherwise.
type Loki struct {
	*httptest.Server
	mu      sync.Mutex
	pushes  []Push
	refused []string
}

// NewLoki starts the stand-in for audit events (AuditLine); it stops when the test ends.
func NewLoki(t testing.TB) *Loki { return NewLokiOf(t, AuditLine) }

// NewLokiOf starts a stand-in that checks each line with line; it stops when the test ends.
func NewLokiOf(t testing.TB, line LineCheck) *Loki {
	l := &Loki{}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var push Push
		if err == nil {
			push, err = ValidatePushOf(r, body, time.Now(), line)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if err != nil {
			l.refused = append(l.refused, err.Error())
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		l.pushes = append(l.pushes, push)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(l.Close)
	return l
}

// Pushes are the pushes accepted so far.
func (l *Loki) Pushes() []Push {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Push(nil), l.pushes...)
}

// Refused are the reasons of the pushes refused so far.
func (l *Loki) Refused() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.refused...)
}

// Message is what a Slack incoming webhook takes from the audit command.
type Message struct {
	Channel string `json:"channel"`
	Text    string `json:"text"`
}

// Slack is an incoming webhook on loopback at a path that plays the webhook's secret. It takes a JSON
// {"channel", "text"} message with a one-line text, and answers "ok" like Slack.
type Slack struct {
	*httptest.Server
	// Webhook is the full URL to post to; its path is the secret tests look for in the command's output.
	Webhook string
	mu      sync.Mutex
	msgs    []Message
	refused []string
}

// SecretPath is the webhook's path, shaped like Slack's, easy to search for in output.
const SecretPath = "/services/TAUDIT000/BAUDIT000/auditWebhookSecret3Xq"

// NewSlack starts the stand-in; it stops when the test ends.
func NewSlack(t testing.TB) *Slack {
	s := &Slack{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msg, err := validMessage(r)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			s.refused = append(s.refused, err.Error())
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		s.msgs = append(s.msgs, msg)
		_, _ = io.WriteString(w, "ok")
	}))
	s.Webhook = s.URL + SecretPath
	t.Cleanup(s.Close)
	return s
}

func validMessage(r *http.Request) (Message, error) {
	var msg Message
	if r.Method != http.MethodPost || r.URL.Path != SecretPath {
		return msg, fmt.Errorf("%s %s: not the webhook", r.Method, r.URL.Path)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return msg, fmt.Errorf("Content-Type %q, want application/json", r.Header.Get("Content-Type"))
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&msg); err != nil {
		return msg, err
	}
	if !strings.HasPrefix(msg.Channel, "#") || msg.Text == "" || strings.ContainsAny(msg.Text, "\r\n") {
		return msg, fmt.Errorf("message %+v: want a #channel and a one-line text", msg)
	}
	return msg, nil
}

// Messages are the messages accepted so far.
func (s *Slack) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Refused are the reasons of the messages refused so far.
func (s *Slack) Refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refused...)
}
