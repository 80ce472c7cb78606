// Package ghactions writes GitHub Actions workflow commands: the ::error:: and ::warning:: lines a command prints
// on stdout so that a failure shows as an annotation on the run's summary, not only deep in its log. The
// project's commands print them only when GITHUB_ACTIONS is "true" (Enabled), so a person's terminal stays plain.
package ghactions

import (
	"fmt"
	"io"
	"strings"
)

// Enabled reports whether the process runs in a GitHub Actions job (getenv is os.Getenv, or a test's).
func Enabled(getenv func(string) string) bool { return getenv("GITHUB_ACTIONS") == "true" }

// Error writes an ::error:: annotation with a title.
func Error(w io.Writer, title, message string) { annotate(w, "error", title, message) }

// Warning writes a ::warning:: annotation with a title.
func Warning(w io.Writer, title, message string) { annotate(w, "warning", title, message) }

func annotate(w io.Writer, level, title, message string) {
	fmt.Fprintf(w, "::%s title=%s::%s\n", level, escapeProperty(title), escapeData(message))
}

// escapeData escapes a command's message: a line break would end the command, and % starts an escape.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a property's value, which also ends at ':' and ','.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
