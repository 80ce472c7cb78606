package vendorcharts

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
)

// Listing is the canonical listing of a chart tree: one line per regular file, "<sha256 hex>  <path>\n" (the
// format of sha256sum), paths slash-separated and relative to the tree, sorted bytewise. Directories count
// only through their files (Git keeps no empty directory) and file modes do not count; a symbolic link or any
// other irregular file is an error, since Helm refuses to load one.
func Listing(fsys fs.FS) (string, error) {
	var lines []string
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", name)
		}
		f, err := fsys.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		lines = append(lines, fmt.Sprintf("%x  %s\n", h.Sum(nil), name))
		return nil
	})
	if err != nil {
		return "", err
	}
	if len(lines) == 0 {
		return "", fmt.Errorf("no file")
	}
	slices.SortFunc(lines, func(a, b string) int { return strings.Compare(a[66:], b[66:]) })
	return strings.Join(lines, ""), nil
}

// TreeSum is "sha256:<hex>" of the tree's Listing: the checksum the pins record.
func TreeSum(fsys fs.FS) (string, error) {
	listing, err := Listing(fsys)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(listing))), nil
}
