// Command alert-drill is the quarterly alert simulation (docs/runbooks/quarterly-controls.md): it posts the test
// alert PlatformAlertDrill to an environment's Alertmanager (API v2), which routes it like any other: critical
// (the default) pages #platform-pager, warning goes to #platform-infra. It then reads the alert back from
// Alertmanager, so a drill that was not accepted fails here; whether it reached Slack is for the person running
// the drill to see in the channel. The alert ends by itself after -for.
//
//	kubectl -n monitoring port-forward svc/alertmanager-operated 9093 &
//	go run ./cmd/alert-drill -alertmanager http://127.0.0.1:9093 -environment production
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/monitoring"
)

// Name is the drill's alert name.
const Name = "PlatformAlertDrill"

// alert is an alert as Alertmanager's API v2 takes and lists it.
type alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
}

func main() {
	am := flag.String("alertmanager", "http://127.0.0.1:9093", "the Alertmanager's base URL")
	env := flag.String("environment", "", "the environment whose Alertmanager it is (required)")
	severity := flag.String("severity", "critical", "critical (pages #platform-pager) or warning (#platform-infra)")
	lasting := flag.Duration("for", 5*time.Minute, "how long the drill alert fires before it ends by itself")
	flag.Parse()
	if err := run(os.Stdout, *am, *env, *severity, *lasting, time.Now()); err != nil {
		fmt.Fprintln(os.Stderr, "alert-drill:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, am, env, severity string, lasting time.Duration, now time.Time) error {
	if !slices.Contains(config.Environments, env) {
		return fmt.Errorf("-environment %q: want one of development, staging, production, system", env)
	}
	if severity != "critical" && severity != "warning" {
		return fmt.Errorf("-severity %q: want critical or warning", severity)
	}
	drill := alert{
		Labels: map[string]string{"alertname": Name, "severity": severity, "environment": env, "namespace": "monitoring"},
		Annotations: map[string]string{
			"summary":     "Alert drill in " + env + ": nothing is wrong",
			"description": "A quarterly drill posted this alert to Alertmanager; it proves routing to Slack and ends by itself.",
			"runbook_url": monitoring.RunbookURL(Name),
		},
		StartsAt: now.UTC(), EndsAt: now.Add(lasting).UTC(),
	}
	body, err := json.Marshal([]alert{drill})
	if err != nil {
		return err
	}
	resp, err := http.Post(am+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("posting to %s: %w (is the port-forward running?)", am, err)
	}
	msg, _ := io.ReadAll(resp.Body) // only for the error message below
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s refused the drill alert: %s %s", am, resp.Status, bytes.TrimSpace(msg))
	}

	filter := url.Values{"filter": {`alertname="` + Name + `"`, `environment="` + env + `"`}}
	resp, err = http.Get(am + "/api/v2/alerts?" + filter.Encode())
	if err != nil {
		return fmt.Errorf("reading the drill alert back from %s: %w", am, err)
	}
	defer resp.Body.Close()
	var held []alert
	if err := json.NewDecoder(resp.Body).Decode(&held); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reading the drill alert back from %s: %s %v", am, resp.Status, err)
	}
	if len(held) == 0 {
		return fmt.Errorf("%s accepted the drill alert but does not list it", am)
	}
	channel := "#platform-pager"
	if severity == "warning" {
		channel = "#platform-infra"
	}
	fmt.Fprintf(w, "%s (%s, %s) is firing in %s until %s: it should appear in %s within a minute (Alertmanager's group_wait)\n",
		Name, severity, env, am, drill.EndsAt.Format(time.RFC3339), channel)
	return nil
}
