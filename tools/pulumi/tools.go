//go:build tools

// Package tools pins the pulumi CLI so that `go build` of it is reproducible from go.sum.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
