package secrets_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/bitnami/sealed-secrets/pkg/crypto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/components/secrets"
	"github.com/platform-eng/lke-platform/components/secrets/secretstest"
)

func TestNewSealerRefusesWhatIsNotAControllerCertificate(t *testing.T) {
	c := secretstest.NewController(t)

	expired, err := crypto.SignKeyWithNotBefore(rand.Reader, c.Key, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), 24*time.Hour, "old")
	require.NoError(t, err)

	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ec"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	ecDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ecKey.PublicKey, ecKey)
	require.NoError(t, err)

	for _, tc := range []struct {
		name, pem, want string
	}{
		{"empty", "", "not PEM"},
		{"not PEM", "sealed-secrets-controller", "not PEM"},
		{"private key", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{1}})), `PEM block is "RSA PRIVATE KEY", not a CERTIFICATE`},
		{"garbage certificate", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("nope")})), "not an X.509 certificate"},
		{"not RSA", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ecDER})), "public key is ECDSA, the controller uses RSA"},
		{"expired", string(secretstest.CertificatePEM(expired)), "expired on 2020-01-02T00:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := secrets.NewSealer([]byte(tc.pem))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestFingerprintIsTheControllersKeyFingerprint(t *testing.T) {
	c := secretstest.NewController(t)
	want, err := crypto.PublicKeyFingerprint(&c.Key.PublicKey)
	require.NoError(t, err)
	s := secretstest.Sealer(t)
	assert.Equal(t, want, s.Fingerprint())
	assert.True(t, strings.HasPrefix(s.Fingerprint(), "SHA256:"))
	assert.True(t, s.NotAfter().After(time.Now()))
}

func TestSealingIsDeterministic(t *testing.T) {
	c := secretstest.NewController(t)
	a, err := secrets.NewSealer(c.CertPEM)
	require.NoError(t, err)
	b, err := secrets.NewSealer(c.CertPEM)
	require.NoError(t, err)

	first, err := a.Seal("staging-apps", "sample-service", "api-key", []byte("s3cr3t-value"))
	require.NoError(t, err)
	// Several times: a library that consumed a random extra byte of the stream now and then (as crypto/rsa does
	// for key generation) would pass one comparison half of the time.
	for range 16 {
		again, err := a.Seal("staging-apps", "sample-service", "api-key", []byte("s3cr3t-value"))
		require.NoError(t, err)
		require.Equal(t, first, again)
	}
	other, err := b.Seal("staging-apps", "sample-service", "api-key", []byte("s3cr3t-value"))
	require.NoError(t, err)
	assert.Equal(t, first, other, "a second Sealer for the same certificate seals identically")
}

func TestAnyChangedInputChangesTheCiphertext(t *testing.T) {
	s := secretstest.Sealer(t)
	base, err := s.Seal("ns", "name", "key", []byte("value"))
	require.NoError(t, err)

	_, otherCert, err := crypto.GeneratePrivateKeyAndCert(2048, time.Hour, "other")
	require.NoError(t, err)
	otherSealer, err := secrets.NewSealer(secretstest.CertificatePEM(otherCert))
	require.NoError(t, err)

	for _, tc := range []struct {
		name                string
		sealer              *secrets.Sealer
		namespace, obj, key string
		value               string
	}{
		{"namespace", s, "ns2", "name", "key", "value"},
		{"name", s, "ns", "name2", "key", "value"},
		{"key", s, "ns", "name", "key2", "value"},
		{"value", s, "ns", "name", "key", "value2"},
		{"field boundary", s, "ns", "name", "keyv", "alue"},
		{"controller key", otherSealer, "ns", "name", "key", "value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.sealer.Seal(tc.namespace, tc.obj, tc.key, []byte(tc.value))
			require.NoError(t, err)
			assert.NotEqual(t, base, got)
		})
	}
}

func TestSealedValuesUnsealOnlyIntoTheirOwnSecret(t *testing.T) {
	c := secretstest.NewController(t)
	s := secretstest.Sealer(t)
	sealed, err := s.Seal("production-apps", "db", "password", []byte("correct horse battery staple"))
	require.NoError(t, err)

	assert.Equal(t, "correct horse battery staple", c.Unseal(t, "production-apps", "db", sealed))
	for _, scope := range [][2]string{{"staging-apps", "db"}, {"production-apps", "db2"}, {"", ""}} {
		_, err := c.TryUnseal(scope[0], scope[1], sealed)
		assert.Error(t, err, "strict scope: %s/%s must not unseal it", scope[0], scope[1])
	}
}

func TestCiphertextNeverContainsThePlaintext(t *testing.T) {
	s := secretstest.Sealer(t)
	plain := "plaintext-that-must-not-leak-0123456789"
	sealed, err := s.Seal("ns", "name", "key", []byte(plain))
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(sealed)
	require.NoError(t, err, "the ciphertext is standard base64, as kubeseal writes it")
	assert.NotContains(t, string(raw), plain)
	assert.NotContains(t, sealed, plain)
	assert.NotContains(t, sealed, base64.StdEncoding.EncodeToString([]byte(plain)))
}

func TestSealRefusesAnIncompleteScope(t *testing.T) {
	s := secretstest.Sealer(t)
	for _, in := range [][3]string{{"", "name", "key"}, {"ns", "", "key"}, {"ns", "name", ""}} {
		_, err := s.Seal(in[0], in[1], in[2], []byte("v"))
		assert.Error(t, err, "%q", in)
	}
}
