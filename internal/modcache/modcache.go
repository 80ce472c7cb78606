// Package modcache fetches a module version into the Go module cache for the generators that copy pinned
// upstream files into this repository (upstream/gen, internal/vendorcharts/gen).
package modcache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// Download returns the module cache directory of moduleAtVersion ("<module>@<version>"), fetching it if needed.
// With wantSum set, the module's hash (go.sum's h1: form) must equal it. It runs outside any module so that
// go.mod and go.sum are never touched. GOTOOLCHAIN=auto because a module may declare a newer go line than the
// project's toolchain; the download still only reads source.
func Download(moduleAtVersion, wantSum string) (string, error) {
	tmp, err := os.MkdirTemp("", "modcache-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "mod", "download", "-json", moduleAtVersion) // #nosec G204 -- a pin of this repository, passed as argv
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=auto", "GOFLAGS=-mod=mod", "GO111MODULE=on")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var info struct{ Dir, Sum, Error string }
	if err := json.Unmarshal(stdout.Bytes(), &info); err != nil {
		return "", fmt.Errorf("go mod download %s: %v: %s", moduleAtVersion, errors.Join(runErr, err), stderr.String())
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %s %s", moduleAtVersion, info.Error, stderr.String())
	}
	if wantSum != "" && info.Sum != wantSum {
		return "", fmt.Errorf("go mod download %s: module hash %s, the pin says %s", moduleAtVersion, info.Sum, wantSum)
	}
	return info.Dir, nil
}
