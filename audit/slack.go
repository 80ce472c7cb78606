package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// SlackChannel is where summaries go (spec section 2).
const SlackChannel = "#platform-infra"

// slackMessage is an incoming-webhook message.
type slackMessage struct {
	Channel string `json:"channel"`
	Text    string `json:"text"`
}

// slackWhat names the webhook in errors instead of its URL, which is a secret (anyone with it can post).
const slackWhat = "Slack webhook (PLATFORM_AUDIT_SLACK_WEBHOOK)"

// PostSlack posts the event's summary to the incoming webhook. The caller bounds ctx. No error holds any part
// of the webhook's URL.
func PostSlack(ctx context.Context, client *http.Client, webhook string, e Event) error {
	return redact(postSlack(ctx, client, webhook, e), webhook)
}

func postSlack(ctx context.Context, client *http.Client, webhook string, e Event) error {
	body, err := json.Marshal(slackMessage{Channel: SlackChannel, Text: e.Summary()})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhook, bytes.NewReader(body))
	if err != nil {
		return errors.New("the " + slackWhat + " is not a valid URL")
	}
	req.Header.Set("Content-Type", "application/json")
	// send leaves out the url.Error, which would print the whole URL.
	return send(client, req, slackWhat)
}

// redact removes the webhook and its path (the secret part) from err's message, in case anything quoted them.
func redact(err error, webhook string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	secrets := []string{webhook}
	if u, perr := url.Parse(webhook); perr == nil {
		secrets = append(secrets, u.Path, u.EscapedPath(), u.RawQuery)
	}
	for _, s := range secrets {
		if len(s) > 1 { // "/" alone is no secret, and replacing it would mangle the message
			msg = strings.ReplaceAll(msg, s, "<redacted>")
		}
	}
	return errors.New(msg)
}
