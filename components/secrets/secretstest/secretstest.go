// Package secretstest gives unit tests a sealed-secrets controller of their own: a key pair generated once per test
// binary, a Sealer for its certificate, a way to unseal what was sealed, and checks that no plaintext reached the
// resources a component registered or the objects it built as data.
package secretstest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitnami/sealed-secrets/pkg/crypto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/components/secrets"
	"github.com/platform-eng/lke-platform/internal/mocks"
)

// Controller is a test stand-in for the sealed-secrets controller: its private key and its certificate.
type Controller struct {
	Key     *rsa.PrivateKey
	CertPEM []byte
}

var (
	once       sync.Once
	controller Controller
	genErr     error
)

// NewController returns the test binary's controller, generating its 2048-bit key on first use (as the real
// controller does, with the upstream helper).
func NewController(t testing.TB) Controller {
	t.Helper()
	once.Do(func() {
		key, cert, err := crypto.GeneratePrivateKeyAndCert(2048, 24*time.Hour, "sealed-secrets-test")
		if err != nil {
			genErr = err
			return
		}
		controller = Controller{Key: key, CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})}
	})
	require.NoError(t, genErr)
	return controller
}

// Sealer returns a Sealer for the test controller's certificate.
func Sealer(t testing.TB) *secrets.Sealer {
	t.Helper()
	s, err := secrets.NewSealer(NewController(t).CertPEM)
	require.NoError(t, err)
	return s
}

// Unseal decrypts a value of spec.encryptedData as the controller would for the Secret namespace/name
// (strict scope), failing the test if it cannot.
func (c Controller) Unseal(t testing.TB, namespace, name, sealed string) string {
	t.Helper()
	plain, err := c.TryUnseal(namespace, name, sealed)
	require.NoError(t, err)
	return plain
}

// TryUnseal is Unseal returning the error instead of failing.
func (c Controller) TryUnseal(namespace, name, sealed string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", err
	}
	fp, err := crypto.PublicKeyFingerprint(&c.Key.PublicKey)
	if err != nil {
		return "", err
	}
	plain, err := crypto.HybridDecrypt(rand.Reader, map[string]*rsa.PrivateKey{fp: c.Key}, raw, []byte(namespace+"/"+name))
	return string(plain), err
}

// CertificatePEM encodes a certificate as PEM.
func CertificatePEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// AssertNoPlaintext fails the test if any recorded resource input (keys included, secrets unwrapped) contains one of
// the plaintexts, as is or base64-encoded.
func AssertNoPlaintext(t testing.TB, rec *mocks.Recorder, plaintexts ...string) {
	t.Helper()
	needles := needles(t, plaintexts)
	for _, r := range rec.Resources() {
		for _, s := range Strings(resource.NewObjectProperty(r.Inputs)) {
			for _, n := range needles {
				if strings.Contains(s, n) {
					t.Errorf("%s %s: a recorded input contains a plaintext secret", r.Type, r.Name)
				}
			}
		}
	}
}

// AssertNoPlaintextInData fails the test if any string of v (keys included), as it marshals to JSON, contains one
// of the plaintexts, as is or base64-encoded: v is what a component builds as data for Argo CD (its objects).
func AssertNoPlaintextInData(t testing.TB, v any, plaintexts ...string) {
	t.Helper()
	needles := needles(t, plaintexts)
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	var data any
	require.NoError(t, json.Unmarshal(raw, &data))
	for _, s := range DataStrings(data) {
		for _, n := range needles {
			if strings.Contains(s, n) {
				t.Errorf("%T: the data contains a plaintext secret", v)
			}
		}
	}
}

// needles are the plaintexts and their base64 encodings.
func needles(t testing.TB, plaintexts []string) []string {
	t.Helper()
	var out []string
	for _, p := range plaintexts {
		require.NotEmpty(t, p, "an empty plaintext would match everything")
		out = append(out, p, base64.StdEncoding.EncodeToString([]byte(p)))
	}
	return out
}

// DataStrings lists every string inside a decoded JSON value: object keys and string values, in arrays too.
func DataStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, DataStrings(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for k, e := range x {
			out = append(out, k)
			out = append(out, DataStrings(e)...)
		}
		return out
	}
	return nil
}

// Strings lists every string inside a property value: object keys, string values, and the contents of secrets,
// outputs and arrays.
func Strings(v resource.PropertyValue) []string {
	switch {
	case v.IsString():
		return []string{v.StringValue()}
	case v.IsSecret():
		return Strings(v.SecretValue().Element)
	case v.IsOutput():
		return Strings(v.OutputValue().Element)
	case v.IsComputed():
		return Strings(v.Input().Element)
	case v.IsArray():
		var out []string
		for _, e := range v.ArrayValue() {
			out = append(out, Strings(e)...)
		}
		return out
	case v.IsObject():
		var out []string
		for k, e := range v.ObjectValue() {
			out = append(out, string(k))
			out = append(out, Strings(e)...)
		}
		return out
	}
	return nil
}
