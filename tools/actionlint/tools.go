//go:build tools

// Package tools pins actionlint, the GitHub Actions workflow linter scripts/test runs on .github/workflows/.
package tools

import (
	_ "github.com/rhysd/actionlint/cmd/actionlint"
)
