package pack

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestExpiryProblem(t *testing.T) {
	tests := []struct {
		raw  string
		want string // substring; "" means fine
	}{
		{"2026-11-25T13:00:00Z", ""},
		{"2026-11-26T12:00:00Z", ""},      // exactly 24h
		{"2026-11-26T13:00:00+01:00", ""}, // the same instant in another zone
		{"2026-11-26T12:00:01Z", "expires at 2026-11-26T12:00:01Z, 24h0m1s from now; the most allowed is 24h0m0s"},
		{"2027-01-01T00:00:00Z", "the most allowed is 24h0m0s"},
		{"2026-11-25T11:00:00Z", "expired at 2026-11-25T11:00:00Z but is still declared"},
		{"", "never expires"},
		{"next week", `expiry "next week" is not an RFC 3339 time`},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got := ExpiryProblem(tt.raw, testNow, 24*time.Hour)
			if tt.want == "" {
				assert.Empty(t, got)
			} else {
				assert.Contains(t, got, tt.want)
			}
		})
	}
}
