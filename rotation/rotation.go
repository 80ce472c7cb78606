// Package rotation is the quarterly secrets-rotation check: how long each secret of a stack has kept its value,
// read from the stack's history (the update since which every later update ran with the same value), and how old
// the Sealed Secrets certificate the stack seals with is. What is older than the rotation period is overdue.
// Values are compared by hash and never kept or printed.
package rotation

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/platform-eng/lke-platform/rollback"
)

// Age is how long one secret has kept its value.
type Age struct {
	Key     string    // fully qualified, "lke-platform:slackWebhookUrl"
	Since   time.Time // start of the first update that ran with the current value
	Version int       // that update's version
	Age     time.Duration
	Overdue bool // older than the rotation period
}

// Secrets returns the age of each secret key of the stack's latest succeeded update, sorted by key. history is
// `pulumi stack history --json --show-secrets`, newest first, numbered (rollback.History). Only succeeded updates
// count: a failed one may never have applied its values.
func Secrets(history []rollback.Update, now time.Time, period time.Duration) ([]Age, error) {
	updates := succeeded(history)
	if len(updates) == 0 {
		return nil, errNoUpdate
	}
	var ages []Age
	for key, latest := range updates[0].Config {
		if !latest.Secret {
			continue
		}
		want := digest(latest)
		since := updates[0]
		for _, older := range updates[1:] {
			v, ok := older.Config[key]
			if !ok || !v.Secret || digest(v) != want {
				break
			}
			since = older
		}
		start, err := time.Parse(time.RFC3339, since.StartTime)
		if err != nil {
			return nil, fmt.Errorf("update %d: start time %q: %w", since.Version, since.StartTime, err)
		}
		age := now.Sub(start)
		ages = append(ages, Age{Key: key, Since: start, Version: since.Version, Age: age, Overdue: age > period})
	}
	slices.SortFunc(ages, func(a, b Age) int { return strings.Compare(a.Key, b.Key) })
	return ages, nil
}

var errNoUpdate = errors.New("the stack has no succeeded update: nothing was deployed with its secrets yet")

// succeeded are the updates of history that succeeded, newest first.
func succeeded(history []rollback.Update) []rollback.Update {
	var updates []rollback.Update
	for _, h := range history {
		if h.Kind == "update" && h.Result == "succeeded" {
			updates = append(updates, h)
		}
	}
	return updates
}

// Latest is the newest succeeded update of history: what the stack runs with now.
func Latest(history []rollback.Update) (rollback.Update, error) {
	updates := succeeded(history)
	if len(updates) == 0 {
		return rollback.Update{}, errNoUpdate
	}
	return updates[0], nil
}

// digest identifies a value without keeping it.
func digest(v rollback.Value) [32]byte {
	if v.Object != nil {
		b, _ := json.Marshal(v.Object)
		return sha256.Sum256(b)
	}
	return sha256.Sum256([]byte(v.Value))
}

// Certificate returns how old the Sealed Secrets certificate in certPEM is (since its NotBefore), and whether it
// is past the rotation period or expired. The controller renews its key on its own (every 30 days by default);
// a stack that still seals with an old certificate seals for a key the controller may no longer favour.
func Certificate(certPEM []byte, now time.Time, period time.Duration) (age time.Duration, overdue bool, err error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return 0, false, errors.New("no PEM CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return 0, false, fmt.Errorf("not an X.509 certificate: %w", err)
	}
	age = now.Sub(cert.NotBefore)
	return age, age > period || now.After(cert.NotAfter), nil
}
