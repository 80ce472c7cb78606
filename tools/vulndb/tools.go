//go:build tools

// Package tools pins the Go vulnerability database: the vulndb module carries every report as OSV JSON
// (data/osv) and gendb, the command that writes them out as the database govulncheck reads.
package tools

import _ "golang.org/x/vulndb/cmd/gendb"
