// Package secrets seals secret values for the sealed-secrets controller before they reach a Pulumi resource, state,
// or git, and registers them as SealedSecrets; it also describes the controller's Helm release.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bitnami/sealed-secrets/pkg/crypto"
)

// streamDomain separates this project's sealing stream from any other use of the same hash inputs.
const streamDomain = "lke-platform/secrets/seal/v1"

// Sealer encrypts values for one sealed-secrets controller, identified by its certificate.
type Sealer struct {
	pub         *rsa.PublicKey
	fingerprint string
	notAfter    time.Time
}

// NewSealer reads the controller's certificate (PEM, as `kubeseal --fetch-cert` prints it). Like kubeseal's ParseKey,
// it refuses an expired certificate: the config holds a key the controller no longer vouches for.
func NewSealer(certPEM []byte) (*Sealer, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return nil, errors.New("sealed-secrets certificate: not PEM (expected a -----BEGIN CERTIFICATE----- block)")
	}
	if block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("sealed-secrets certificate: PEM block is %q, not a CERTIFICATE", block.Type)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("sealed-secrets certificate: not an X.509 certificate: %w", err)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("sealed-secrets certificate: public key is %s, the controller uses RSA", cert.PublicKeyAlgorithm)
	}
	if time.Now().After(cert.NotAfter) {
		return nil, fmt.Errorf("sealed-secrets certificate: expired on %s; fetch the controller's current one with kubeseal --fetch-cert",
			cert.NotAfter.UTC().Format(time.RFC3339))
	}
	fp, err := crypto.PublicKeyFingerprint(pub)
	if err != nil {
		return nil, fmt.Errorf("sealed-secrets certificate: %w", err)
	}
	return &Sealer{pub: pub, fingerprint: fp, notAfter: cert.NotAfter}, nil
}

// Fingerprint identifies the controller's key, computed as sealed-secrets does (SHA256 of the SSH wire form of the
// public key). It depends on the key only, so a re-issued certificate for the same key seals identically.
func (s *Sealer) Fingerprint() string { return s.fingerprint }

// NotAfter is when the controller's certificate expires.
func (s *Sealer) NotAfter() time.Time { return s.notAfter }

// Seal encrypts value for the Secret namespace/name under key, in sealed-secrets' strict scope (the controller
// decrypts it only into that very Secret), and returns the base64 text kubeseal writes into encryptedData.
//
// Sealing is deterministic: the session key and the OAEP seed are drawn from a stream seeded with SHA-256 over
// (key fingerprint, namespace, name, key, value), so sealing the same value twice gives the same ciphertext and a
// second `pulumi up` shows no change. The price is that equal plaintexts give equal ciphertexts (and a guessed value
// can be confirmed), which is why secret values must be high-entropy. RSA-OAEP reads its seed from the caller's
// reader whatever GODEBUG cryptocustomrand says (Go keeps that promise on purpose, see
// crypto/internal/fips140/rsa.EncryptOAEP); only FIPS 140-only mode refuses a custom reader, and Seal then fails.
func (s *Sealer) Seal(namespace, name, key string, value []byte) (string, error) {
	if namespace == "" || name == "" || key == "" {
		return "", fmt.Errorf("seal %s/%s key %q: namespace, name and key must all be set", namespace, name, key)
	}
	rnd, err := s.stream(namespace, name, key, value)
	if err != nil {
		return "", err
	}
	out, err := crypto.HybridEncrypt(rnd, s.pub, value, strictScopeLabel(namespace, name))
	if err != nil {
		return "", fmt.Errorf("seal %s/%s key %q: %w", namespace, name, key, err)
	}
	return base64.StdEncoding.EncodeToString(out), nil
}

// strictScopeLabel is the OAEP label of sealed-secrets' strict scope, "namespace/name": upstream's
// v1alpha1.EncryptionLabel(namespace, name, StrictScope) in pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go.
// Reproduced here because importing that package pulls in sprig and the client-go machinery.
func strictScopeLabel(namespace, name string) []byte {
	return []byte(namespace + "/" + name)
}

// stream is an AES-256-CTR keystream keyed by the SHA-256 of the length-prefixed inputs. Length prefixes keep the
// fields apart ("a"+"bc" and "ab"+"c" seed differently); CTR never runs dry, whatever HybridEncrypt reads.
func (s *Sealer) stream(namespace, name, key string, value []byte) (io.Reader, error) {
	h := sha256.New()
	for _, field := range [][]byte{[]byte(streamDomain), []byte(s.fingerprint), []byte(namespace), []byte(name), []byte(key), value} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(field)))
		h.Write(n[:])
		h.Write(field)
	}
	block, err := aes.NewCipher(h.Sum(nil))
	if err != nil {
		return nil, err
	}
	// #nosec G407 -- not encryption: a deterministic keystream, and its key is never reused across inputs (the
	// hash above), so a fixed IV repeats no keystream.
	return cipher.StreamReader{S: cipher.NewCTR(block, make([]byte, aes.BlockSize)), R: zeros{}}, nil
}

// zeros reads as an endless run of zero bytes; XORed with the CTR keystream they yield the keystream itself.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
