// Command sealing-key generates a Sealed Secrets key pair the way the controller does (RSA 4096, a self-signed
// certificate): the certificate is what the program seals with (lke-platform:sealedSecretsCertificate); the key
// is the controller's, installed as its active sealing key before the controller starts (docs/secrets.md).
// Existing files are never overwritten: a lost key means every sealed secret must be sealed again.
//
//	go run ./cmd/sealing-key -cert secrets/staging.pem -key /secure/place/staging.key
package main

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/bitnami/sealed-secrets/pkg/crypto"
)

func main() {
	certPath := flag.String("cert", "", "where to write the certificate (PEM, public)")
	keyPath := flag.String("key", "", "where to write the private key (PEM, keep it secret)")
	bits := flag.Int("bits", 4096, "RSA key size (the controller's own default is 4096)")
	validFor := flag.Duration("valid-for", 10*365*24*time.Hour, "certificate lifetime")
	flag.Parse()
	if err := run(*certPath, *keyPath, *bits, *validFor); err != nil {
		fmt.Fprintln(os.Stderr, "sealing-key:", err)
		os.Exit(1)
	}
}

func run(certPath, keyPath string, bits int, validFor time.Duration) error {
	if certPath == "" || keyPath == "" {
		return errors.New("both -cert and -key are required")
	}
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s exists: refusing to replace a sealing key (secrets sealed with it would be lost)", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	key, cert, err := crypto.GeneratePrivateKeyAndCert(bits, validFor, "sealed-secret")
	if err != nil {
		return fmt.Errorf("generating the key pair: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	if err := write(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	return write(certPath, certPEM, 0o644)
}

func write(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode) // #nosec G304 -- a new file (O_EXCL) where the operator asked for it
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return errors.Join(err, f.Close())
	}
	return f.Close()
}
