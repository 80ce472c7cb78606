package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// PushPath is where Loki takes pushes, under its base URL.
const PushPath = "loki/api/v1/push"

// pushRequest is the body of Loki's push API in its JSON form: streams of labels, each with
// [["<unix epoch in nanoseconds>", "<line>"]] values.
type pushRequest struct {
	Streams []pushStream `json:"streams"`
}

type pushStream struct {
	Stream map[string]string `json:"stream"`
	Values [][2]string       `json:"values"`
}

// PushBody is the push request of the event: one stream, one entry, timed at the end of the update, so that
// the record sits where the change happened and a second run for the same update sends the same entry
// (Loki keeps one copy of an entry with the same stream, time and line).
func (e Event) PushBody() ([]byte, error) {
	line, err := e.MarshalLine()
	if err != nil {
		return nil, err
	}
	return json.Marshal(pushRequest{Streams: []pushStream{{
		Stream: e.Labels(),
		Values: [][2]string{{strconv.FormatInt(e.Update.End.UnixNano(), 10), line}},
	}}})
}

// maxExcerpt bounds how much of an answer's body a failure quotes.
const maxExcerpt = 512

// PushLoki sends the event to Loki at base (its base URL; basic-auth credentials may be in it), as tenant
// e.Environment. The caller bounds ctx. Errors never hold the URL's password.
func PushLoki(ctx context.Context, client *http.Client, base string, e Event) error {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("PLATFORM_AUDIT_LOKI_URL is not an absolute URL (e.g. http://loki.monitoring:3100)")
	}
	endpoint := u.JoinPath(PushPath)
	body, err := e.PushBody()
	if err != nil {
		return fmt.Errorf("encoding the Loki push: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("push to Loki at %s: %w", endpoint.Redacted(), err)
	}
	req.Header.Set("Content-Type", "application/json")
	// Loki's tenant: one per environment (spec section 4).
	req.Header.Set("X-Scope-OrgID", e.Environment)
	// net/http strips the password from its errors (url.Error); the rest of the URL is no secret.
	return send(client, req, "push to Loki at "+endpoint.Redacted())
}

// send does req and turns a transport error or a non-2xx answer into an error that names what, the status,
// and the start of the answer's body.
func send(client *http.Client, req *http.Request, what string) error {
	resp, err := client.Do(req)
	var ue *url.Error
	if errors.As(err, &ue) {
		// url.Error repeats the method and URL that what already names.
		err = ue.Err
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, maxExcerpt))
	_, _ = io.Copy(io.Discard, resp.Body) // lets the connection be reused
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: answered %s: %s", what, resp.Status, strings.TrimSpace(string(excerpt)))
	}
	return nil
}
