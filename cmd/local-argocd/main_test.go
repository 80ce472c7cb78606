package main

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGitPortIsKept: the daemon's port is chosen once per folder, so a stack's gitopsRepoUrl stays the same from
// one start to the next.
func TestGitPortIsKept(t *testing.T) {
	dir := t.TempDir()
	first, err := gitPort(dir)
	require.NoError(t, err)
	assert.Positive(t, first)
	again, err := gitPort(dir)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	assert.Equal(t, "git://127.0.0.1:"+strconv.Itoa(first)+"/lke-platform.git", repoURL(first))
}

// TestMirrorServesTheCheckedOutCommitAsMain: whatever the clone's branch, the mirror's main is the commit
// checked out, and a later commit replaces it.
func TestMirrorServesTheCheckedOutCommitAsMain(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "lke-platform.git")
	run(t, src, "init", "--quiet", "--initial-branch=feature")
	commit := func(msg string) string {
		run(t, src, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "--quiet", "--allow-empty", "-m", msg)
		return run(t, src, "rev-parse", "HEAD")
	}
	first := commit("first")
	require.NoError(t, mirror(src, dst))
	assert.Equal(t, first, run(t, dst, "rev-parse", "main"))
	second := commit("second")
	require.NoError(t, mirror(src, dst))
	assert.Equal(t, second, run(t, dst, "rev-parse", "main"))
}

func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %s: %s", strings.Join(args, " "), out)
	return strings.TrimSpace(string(out))
}
