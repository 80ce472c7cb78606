// Command rotation-check is the quarterly secrets-rotation control (docs/runbooks/quarterly-controls.md): for one
// stack, how long each secret value has been deployed unchanged (from the stack's history) and how old the Sealed
// Secrets certificate it seals with is. Exit 0 when everything is younger than -max-age, 2 when something is
// overdue (rotate it: docs/secrets.md, docs/linode-access.md), 1 when the check itself fails. Values are compared
// by hash in memory and never printed.
//
//	go run ./cmd/rotation-check -stack production [-max-age 2160h] [-dir .]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/platform-eng/lke-platform/config"
	"github.com/platform-eng/lke-platform/rollback"
	"github.com/platform-eng/lke-platform/rotation"
)

func main() {
	stack := flag.String("stack", "", "the stack to check (required)")
	dir := flag.String("dir", ".", "the project's folder")
	maxAge := flag.Duration("max-age", 90*24*time.Hour, "the rotation period: older is overdue")
	at := flag.String("now", "", "judge as of this RFC 3339 time instead of now (a drill: what will be overdue)")
	flag.Parse()
	now := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fmt.Fprintf(os.Stderr, "rotation-check: -now %q: want an RFC 3339 time\n", *at)
			os.Exit(1)
		}
		now = t
	}
	if *stack == "" {
		fmt.Fprintln(os.Stderr, "rotation-check: -stack is required")
		os.Exit(1)
	}
	overdue, err := run(os.Stdout, *dir, *stack, now, *maxAge)
	switch {
	case err != nil:
		fmt.Fprintf(os.Stderr, "rotation-check of stack %s: %v\n", *stack, err)
		os.Exit(1)
	case overdue:
		os.Exit(2)
	}
}

// run prints the report and says whether anything is overdue.
func run(w io.Writer, dir, stack string, now time.Time, period time.Duration) (bool, error) {
	history, err := rollback.History(dir, stack)
	if err != nil {
		return false, err
	}
	ages, err := rotation.Secrets(history, now, period)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(w, "secrets of stack %s, rotation period %s, as of %s:\n", stack, days(period), now.UTC().Format(time.RFC3339))
	overdue := false
	for _, a := range ages {
		fmt.Fprintf(w, "  %-40s unchanged since update %d (%s), %s  %s\n", a.Key, a.Version, a.Since.UTC().Format(time.DateOnly), days(a.Age), verdict(a.Overdue))
		overdue = overdue || a.Overdue
	}

	latest, err := rotation.Latest(history)
	if err != nil {
		return overdue, err
	}
	certPath := latest.Config[config.Namespace+":sealedSecretsCertificate"].Value
	if certPath == "" {
		return overdue, fmt.Errorf("the stack sets no %s:sealedSecretsCertificate to check", config.Namespace)
	}
	if !filepath.IsAbs(certPath) {
		certPath = filepath.Join(dir, certPath)
	}
	pem, err := os.ReadFile(certPath) // #nosec G304 -- the certificate the stack configuration names (sealedSecretsCertificate)
	if err != nil {
		return overdue, fmt.Errorf("the sealing certificate: %w", err)
	}
	age, certOverdue, err := rotation.Certificate(pem, now, period)
	if err != nil {
		return overdue, fmt.Errorf("the sealing certificate %s: %w", certPath, err)
	}
	fmt.Fprintf(w, "  %-40s %s old  %s\n", "sealing certificate", days(age), verdict(certOverdue))
	return overdue || certOverdue, nil
}

func days(d time.Duration) string { return fmt.Sprintf("%.1f days", d.Hours()/24) }

func verdict(overdue bool) string {
	if overdue {
		return "OVERDUE: rotate it"
	}
	return "ok"
}
