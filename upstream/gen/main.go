// Command gen refreshes the vendored upstream files under upstream/ from the Go module cache: for every pin of
// upstream/internal/pins it asks `go mod download -json` where the module version lives and copies the pinned
// files byte for byte. It writes nothing but those copies, and removes copies a new version no longer ships.
//
// Run it through `go generate ./upstream` (it writes relative to the working directory, upstream/).
package main

import (
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/platform-eng/lke-platform/internal/modcache"
	"github.com/platform-eng/lke-platform/upstream/internal/pins"
)

func main() {
	out := flag.String("out", ".", "directory the copies are written under (upstream/)")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "upstream/gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	dirs := map[string]string{} // module@version -> directory in the module cache
	for _, p := range pins.All {
		key := p.Module + "@" + p.Version
		if _, ok := dirs[key]; ok {
			continue
		}
		dir, err := modcache.Download(key, "")
		if err != nil {
			return err
		}
		dirs[key] = dir
	}
	for _, p := range pins.All {
		if err := copyPin(p, dirs[p.Module+"@"+p.Version], filepath.Join(out, filepath.FromSlash(p.Dest))); err != nil {
			return fmt.Errorf("%s@%s %s: %w", p.Module, p.Version, p.Dir, err)
		}
	}
	return nil
}

// copyPin copies the files of the pin into dest and removes the files of dest the pin no longer selects.
func copyPin(p pins.Pin, moduleDir, dest string) error {
	src := filepath.Join(moduleDir, filepath.FromSlash(p.Dir))
	names, err := Select(src, p.Patterns)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dest, 0o755); err != nil { // #nosec G301 -- upstream/ is committed: public files
		return err
	}
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(src, name)) // #nosec G304 -- a file of the pinned module, in the module cache
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dest, name), data, 0o644); err != nil { // #nosec G306 G703 -- upstream/ is committed: public files
			return err
		}
		fmt.Printf("%s/%s (%d bytes) <- %s@%s %s\n", filepath.ToSlash(dest), name, len(data), p.Module, p.Version, path.Join(p.Dir, name))
	}
	existing, err := os.ReadDir(dest)
	if err != nil {
		return err
	}
	for _, e := range existing {
		if e.Type().IsRegular() && !slices.Contains(names, e.Name()) {
			if err := os.Remove(filepath.Join(dest, e.Name())); err != nil {
				return err
			}
			fmt.Printf("%s/%s removed: not shipped by %s@%s\n", filepath.ToSlash(dest), e.Name(), p.Module, p.Version)
		}
	}
	return nil
}

// Select returns the regular files of dir matched by the patterns, sorted. Every pattern must match at least
// one file: a pin that selects nothing means upstream moved the file, and the copy must not silently vanish.
func Select(dir string, patterns []string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, pattern := range patterns {
		matched := false
		for _, e := range entries {
			ok, err := path.Match(pattern, e.Name())
			if err != nil {
				return nil, fmt.Errorf("pattern %q: %w", pattern, err)
			}
			if ok && e.Type().IsRegular() {
				matched = true
				if !slices.Contains(names, e.Name()) {
					names = append(names, e.Name())
				}
			}
		}
		if !matched {
			return nil, fmt.Errorf("pattern %q matches no file", pattern)
		}
	}
	slices.Sort(names)
	return names, nil
}
