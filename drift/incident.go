package drift

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// WebhookEnv names the environment variable holding the incident webhook's URL. The URL is a secret (it
// authorises whoever holds it): it is never printed, not even in an error.
const WebhookEnv = "PLATFORM_INCIDENT_WEBHOOK"

// webhookTimeout bounds the whole POST, so a hanging receiver cannot stall the hourly job.
const webhookTimeout = 15 * time.Second

// Incident is the JSON body posted to the webhook for major drift.
type Incident struct {
	Title       string     `json:"title"`
	Severity    Severity   `json:"severity"`
	Stack       string     `json:"stack"`
	Environment string     `json:"environment,omitempty"`
	DetectedAt  time.Time  `json:"detectedAt"`
	Resources   []Resource `json:"resources"`
}

// NewIncident describes the report's drift as an incident.
func NewIncident(r *Report, now time.Time) Incident {
	major := 0
	for _, res := range r.Resources {
		if res.Severity == Major {
			major++
		}
	}
	where := r.Stack
	if r.Environment != "" {
		where = fmt.Sprintf("%s (stack %s)", r.Environment, r.Stack)
	}
	return Incident{
		Title:       fmt.Sprintf("Major infrastructure drift in %s: %d resource(s) changed outside Pulumi", where, major),
		Severity:    r.Severity(),
		Stack:       r.Stack,
		Environment: r.Environment,
		DetectedAt:  now.UTC(),
		Resources:   r.Resources,
	}
}

// PostIncident posts the incident as JSON to the webhook. Any answer but 2xx is an error. Errors never contain
// the webhook's URL.
func PostIncident(ctx context.Context, client *http.Client, webhook string, incident Incident) error {
	body, err := json.Marshal(incident)
	if err != nil {
		return fmt.Errorf("encoding the incident: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhook, bytes.NewReader(body))
	if err != nil {
		// url.Parse errors quote the URL: drop it.
		return fmt.Errorf("the incident webhook (%s) is not a valid URL", WebhookEnv)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		// The client's errors are *url.Error, which quote the URL: keep only what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("posting the incident to the webhook (%s): %w", WebhookEnv, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the incident webhook (%s) answered %s", WebhookEnv, resp.Status)
	}
	return nil
}
