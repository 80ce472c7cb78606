//go:build tools

// Package tools pins govulncheck, which scripts/scan runs against the vulnerability database built from the
// vulndb module (tools/vulndb).
package tools

import _ "golang.org/x/vuln/cmd/govulncheck"
