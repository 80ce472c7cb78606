//go:build tools

// Package tools pins gosec, the security linter scripts/scan runs over the project's Go code.
package tools

import _ "github.com/securego/gosec/v2/cmd/gosec"
