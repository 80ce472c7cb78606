package pack

import (
	"fmt"
	"strings"
	"time"
)

// ExpiryProblem checks a credential's expiry (RFC 3339) at time now against the longest lifetime allowed, and
// explains what is wrong, or returns "" if nothing is. A past expiry is a problem too: Kubernetes RBAC has no
// expiry of its own, so a binding whose time is up still grants access until the program removes it.
func ExpiryProblem(raw string, now time.Time, maxLifetime time.Duration) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "has no expiry, so it never expires"
	}
	expires, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return fmt.Sprintf("expiry %q is not an RFC 3339 time such as 2026-11-26T18:00:00Z", raw)
	}
	if !expires.After(now) {
		return fmt.Sprintf("expired at %s but is still declared, so the access is still granted", expires.UTC().Format(time.RFC3339))
	}
	if left := expires.Sub(now); left > maxLifetime {
		return fmt.Sprintf("expires at %s, %s from now; the most allowed is %s",
			expires.UTC().Format(time.RFC3339), left.Round(time.Second), maxLifetime)
	}
	return ""
}
