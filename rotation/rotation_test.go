package rotation

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/rollback"
)

func update(kind, result, start string, config rollback.Config) rollback.Update {
	return rollback.Update{Kind: kind, Result: result, StartTime: start, Config: config}
}

func secret(v string) rollback.Value { return rollback.Value{Value: v, Secret: true} }

// A secret's age runs from the first update of the latest unbroken run with its current value; failed updates,
// previews and refreshes do not count; plain keys are not secrets.
func TestSecretsAgeFromTheirLastChange(t *testing.T) {
	history := []rollback.Update{ // newest first, as the CLI lists it
		update("update", "failed", "2026-12-01T00:00:00Z", rollback.Config{"p:token": secret("t3")}),
		update("update", "succeeded", "2026-11-01T00:00:00Z", rollback.Config{"p:token": secret("t2"), "p:hook": secret("h1"), "p:plain": {Value: "x"}}),
		update("refresh", "succeeded", "2026-10-15T00:00:00Z", rollback.Config{"p:token": secret("t1"), "p:hook": secret("h1")}),
		update("update", "succeeded", "2026-10-01T00:00:00Z", rollback.Config{"p:token": secret("t2"), "p:hook": secret("h1")}),
		update("update", "succeeded", "2026-08-01T00:00:00Z", rollback.Config{"p:token": secret("t1"), "p:hook": secret("h1")}),
		update("update", "succeeded", "2026-07-01T00:00:00Z", rollback.Config{"p:token": secret("t1")}),
	}
	rollback.Number(history)
	now := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	ages, err := Secrets(history, now, 90*24*time.Hour)
	require.NoError(t, err)
	require.Len(t, ages, 2)

	hook, token := ages[0], ages[1]
	assert.Equal(t, "p:hook", hook.Key)
	assert.Equal(t, time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), hook.Since, "unchanged since it first appeared")
	assert.Equal(t, 2, hook.Version)
	assert.True(t, hook.Overdue, "124 days")
	assert.Equal(t, "p:token", token.Key)
	assert.Equal(t, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), token.Since, "changed to t2 on 1 October")
	assert.False(t, token.Overdue, "63 days")

	_, err = Secrets(history[:1], now, time.Hour)
	require.Error(t, err, "a failed update only")
}

func TestCertificateAge(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	issued := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sealed-secret"},
		NotBefore: issued, NotAfter: issued.AddDate(10, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})

	age, overdue, err := Certificate(certPEM, issued.AddDate(0, 0, 30), 90*24*time.Hour)
	require.NoError(t, err)
	assert.Equal(t, 30*24*time.Hour, age)
	assert.False(t, overdue)
	_, overdue, err = Certificate(certPEM, issued.AddDate(0, 0, 91), 90*24*time.Hour)
	require.NoError(t, err)
	assert.True(t, overdue)

	_, _, err = Certificate([]byte("not a certificate"), issued, time.Hour)
	require.Error(t, err)
}
