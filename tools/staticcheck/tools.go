//go:build tools

// Package tools pins staticcheck, the static analysis scripts/scan runs over the project's Go code.
package tools

import _ "honnef.co/go/tools/cmd/staticcheck"
