// Command gen refreshes the vendored Helm charts under charts/vendor/ from the pins of internal/vendorcharts.
//
// For every pin it gathers the chart's sources, builds the tree as `helm package` would pack it (the chart's
// .helmignore applied; cert-manager assembled as its Makefile does), puts every dependency into the chart's
// charts/ folder, checks with Helm's loader that each dependency of Chart.yaml is there at a version its range
// accepts, compares the tree's sum with the pin's and only then replaces charts/vendor/<name>.
//
// Sources: a Go module version is downloaded with `go mod download` (the Go module proxy). A Git commit is read
// from a local clone, bare or not, given with -git owner/name=DIR: the command reaches no Git host. A chart
// whose clones are not given is left as it is, and the command says which clone and commit it needs.
//
// Run it through `go generate ./internal/vendorcharts` (it writes under -root, the repository's root).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/ignore"

	"github.com/platform-eng/lke-platform/internal/modcache"
	"github.com/platform-eng/lke-platform/internal/vendorcharts"
)

// clones maps owner/name to a local Git directory.
type clones map[string]string

func (c clones) String() string { return fmt.Sprint(map[string]string(c)) }

func (c clones) Set(v string) error {
	repo, dir, ok := strings.Cut(v, "=")
	if !ok || strings.Count(repo, "/") != 1 || dir == "" {
		return fmt.Errorf("want owner/name=DIR, got %q", v)
	}
	c[strings.TrimPrefix(repo, "github.com/")] = dir
	return nil
}

func main() {
	root := flag.String("root", ".", "the repository's root: trees are written to <root>/"+vendorcharts.Dir+"/<name>")
	gits := clones{}
	flag.Var(gits, "git", "owner/name=DIR: a local clone (bare or not) of a repository the pins name; repeatable")
	only := flag.String("charts", "", "comma-separated names of the charts to refresh (default: every pin)")
	accept := flag.Bool("accept", false, "write trees whose sum differs from the pin's (a bump) and print the new sums")
	flag.Parse()
	var names []string
	if *only != "" {
		names = strings.Split(*only, ",")
	}
	if err := run(*root, gits, names, *accept, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vendorcharts/gen:", err)
		os.Exit(1)
	}
}

func run(root string, gits clones, names []string, accept bool, out io.Writer) error {
	for _, n := range names {
		if _, ok := vendorcharts.Lookup(n); !ok {
			return fmt.Errorf("no pin for chart %q (pins: %s)", n, strings.Join(vendorcharts.Names(), ", "))
		}
	}
	vendorDir := filepath.Join(root, filepath.FromSlash(vendorcharts.Dir))
	if err := os.MkdirAll(vendorDir, 0o755); err != nil {
		return err
	}
	modules := map[string]string{} // module@version -> module cache directory
	var errs []error
	for _, c := range vendorcharts.All {
		if len(names) > 0 && !slices.Contains(names, c.Name) {
			continue
		}
		if need := needed(c, gits); len(need) > 0 {
			fmt.Fprintf(out, "%s %s: left as it is (%s): needs %s\n", c.Name, c.Version, state(c), strings.Join(need, "; "))
			continue
		}
		if err := refresh(c, root, gits, modules, accept, out); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", c.Name, c.Version, err))
		}
	}
	if len(names) == 0 {
		errs = append(errs, removeUnpinned(vendorDir, out))
	}
	return errors.Join(errs...)
}

func state(c vendorcharts.Chart) string {
	if c.Vendored() {
		return "vendored"
	}
	return "not vendored"
}

// needed lists the clones the chart's sources need that gits lacks, as instructions: one per repository.
func needed(c vendorcharts.Chart, gits clones) []string {
	var repos []string
	commits := map[string][]string{}
	for _, s := range sources(c) {
		if !s.Git() {
			continue
		}
		if _, ok := gits[s.Repo]; ok {
			continue
		}
		if _, ok := commits[s.Repo]; !ok {
			repos = append(repos, s.Repo)
		}
		commit := s.Commit
		if s.Ref != "" {
			commit += " (tag " + s.Ref + ")"
		}
		commits[s.Repo] = append(commits[s.Repo], commit)
	}
	need := make([]string, len(repos))
	for i, r := range repos {
		need[i] = fmt.Sprintf("-git %s=DIR, a clone of https://github.com/%s holding %s", r, r, strings.Join(commits[r], ", "))
	}
	return need
}

func sources(c vendorcharts.Chart) []vendorcharts.Source {
	s := []vendorcharts.Source{c.Source}
	for _, d := range c.Dependencies {
		s = append(s, d.Source)
	}
	return s
}

// refresh builds the chart's tree next to its destination and swaps it in when its sum is the pin's.
func refresh(c vendorcharts.Chart, root string, gits clones, modules map[string]string, accept bool, out io.Writer) error {
	work, err := os.MkdirTemp("", "vendorcharts-"+c.Name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	tree := filepath.Join(work, "tree")
	if err := build(c, tree, filepath.Join(work, "src"), gits, modules); err != nil {
		return err
	}
	sum, err := vendorcharts.TreeSum(os.DirFS(tree))
	if err != nil {
		return err
	}
	if sum != c.Sum && !accept {
		return fmt.Errorf("the tree built from the pins has sum %s, the pin says %q: if this is a bump, run with -accept and put the new sum into pins.go", sum, c.Sum)
	}
	dest := filepath.Join(root, filepath.FromSlash(c.Path()))
	// Staged beside the destination, so the swap is a rename on one file system.
	staged := dest + ".new"
	if err := os.RemoveAll(staged); err != nil {
		return err
	}
	if err := copyTree(tree, staged); err != nil {
		return err
	}
	if err := os.RemoveAll(dest); err != nil {
		return err
	}
	if err := os.Rename(staged, dest); err != nil {
		return err
	}
	files, size, err := treeSize(dest)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: %s %s <- %s (%d files, %d bytes) %s\n", c.Path(), c.Name, c.Version, c.Source, files, size, sum)
	for _, d := range c.Dependencies {
		fmt.Fprintf(out, "    charts/: %s %s <- %s\n", d.Name, d.Version, d.Source)
	}
	if sum != c.Sum {
		fmt.Fprintf(out, "    NEW SUM: set Sum of %q in internal/vendorcharts/pins.go to %q\n", c.Name, sum)
	}
	if !c.Vendored() {
		fmt.Fprintf(out, "    NOW VENDORED: clear Missing of %q in internal/vendorcharts/pins.go\n", c.Name)
	}
	return nil
}

// build writes the chart's tree to tree, using src as scratch space for the sources.
func build(c vendorcharts.Chart, tree, src string, gits clones, modules map[string]string) error {
	dir, err := materialize(c.Source, filepath.Join(src, "chart"), gits, modules)
	if err != nil {
		return err
	}
	staging := filepath.Join(src, "staging")
	switch c.Build {
	case vendorcharts.Packaged:
		err = pack(dir, staging)
	case vendorcharts.CertManagerMake:
		err = certManager(dir, staging, c.Version)
	default:
		err = fmt.Errorf("unknown build %d", c.Build)
	}
	if err != nil {
		return err
	}
	for i, d := range c.Dependencies {
		ddir, err := materialize(d.Source, filepath.Join(src, "dep"+strconv.Itoa(i)), gits, modules)
		if err != nil {
			return fmt.Errorf("dependency %s: %w", d.Name, err)
		}
		if strings.HasSuffix(d.Source.Path, ".tgz") {
			err = copyFile(ddir, filepath.Join(staging, "charts", path.Base(d.Source.Path)))
		} else {
			err = pack(ddir, filepath.Join(staging, "charts", d.Name))
		}
		if err != nil {
			return fmt.Errorf("dependency %s: %w", d.Name, err)
		}
	}
	// Once more with the chart's own .helmignore over the whole tree: Helm applies it to the subcharts' files
	// too when it loads the chart, so whatever it would drop is left out here.
	if err := pack(staging, tree); err != nil {
		return err
	}
	return check(c, tree)
}

// check loads the tree with Helm's loader, as `helm template` does, and checks the chart's name and version and
// that every dependency of its Chart.yaml is in charts/ at a version the dependency's range accepts: a missing
// one makes Argo CD run `helm dependency build`, and one out of range is dropped by Helm.
func check(c vendorcharts.Chart, tree string) error {
	chrt, err := loader.Load(tree)
	if err != nil {
		return err
	}
	if chrt.Name() != c.Name || chrt.Metadata.Version != c.Version {
		return fmt.Errorf("the tree is chart %s %s, the pin wants %s %s", chrt.Name(), chrt.Metadata.Version, c.Name, c.Version)
	}
	for _, req := range chrt.Metadata.Dependencies {
		i := slices.IndexFunc(chrt.Dependencies(), func(sub *chart.Chart) bool { return sub.Name() == req.Name })
		if i < 0 {
			return fmt.Errorf("dependency %s %s of Chart.yaml is not in charts/", req.Name, req.Version)
		}
		sub := chrt.Dependencies()[i]
		if !chartutil.IsCompatibleRange(req.Version, sub.Metadata.Version) {
			return fmt.Errorf("dependency %s: charts/ has %s, Chart.yaml wants %s", req.Name, sub.Metadata.Version, req.Version)
		}
		if j := slices.IndexFunc(c.Dependencies, func(d vendorcharts.Dependency) bool { return d.Name == req.Name }); j >= 0 &&
			c.Dependencies[j].Version != sub.Metadata.Version {
			return fmt.Errorf("dependency %s: charts/ has %s, the pin says %s", req.Name, sub.Metadata.Version, c.Dependencies[j].Version)
		}
	}
	return nil
}

// materialize returns a local directory (or, for a packaged chart, file) holding the source's Path.
func materialize(s vendorcharts.Source, scratch string, gits clones, modules map[string]string) (string, error) {
	if s.Git() {
		if err := gitExtract(gits[s.Repo], s, scratch); err != nil {
			return "", fmt.Errorf("%s: %w", s, err)
		}
		if strings.HasSuffix(s.Path, ".tgz") {
			return filepath.Join(scratch, path.Base(s.Path)), nil
		}
		return scratch, nil
	}
	key := s.Module + "@" + s.Version
	dir, ok := modules[key]
	if !ok {
		var err error
		if dir, err = modcache.Download(key, s.Sum); err != nil {
			return "", err
		}
		modules[key] = dir
	}
	return filepath.Join(dir, filepath.FromSlash(s.Path)), nil
}

// gitExtract writes the files of s.Path at s.Commit from the clone at dir into dest (a directory's files relative
// to it; a single file under its base name). It checks that the commit is there and that the tag, when the clone
// has it, names that commit.
func gitExtract(dir string, s vendorcharts.Source, dest string) error {
	if _, err := git(dir, nil, "cat-file", "-e", s.Commit+"^{commit}"); err != nil {
		return fmt.Errorf("the clone %s lacks commit %s (fetch tag %q): %w", dir, s.Commit, s.Ref, err)
	}
	if s.Ref != "" {
		if got, err := git(dir, nil, "rev-parse", "--verify", "-q", "refs/tags/"+s.Ref+"^{commit}"); err == nil {
			if c := strings.TrimSpace(string(got)); c != s.Commit {
				return fmt.Errorf("tag %s of the clone %s is commit %s, the pin says %s", s.Ref, dir, c, s.Commit)
			}
		}
	}
	listing, err := git(dir, nil, "ls-tree", "-r", "-z", "--full-tree", s.Commit, "--", s.Path)
	if err != nil {
		return err
	}
	type entry struct{ mode, object, path string }
	var entries []entry
	for _, rec := range strings.Split(strings.TrimSuffix(string(listing), "\x00"), "\x00") {
		meta, p, ok := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 {
			continue
		}
		switch f[0] {
		case "100644", "100755":
		default:
			return fmt.Errorf("%s: mode %s: only regular files can be vendored", p, f[0])
		}
		entries = append(entries, entry{f[0], f[2], p})
	}
	if len(entries) == 0 {
		return fmt.Errorf("commit %s has no file at %s", s.Commit, s.Path)
	}
	var objects bytes.Buffer
	for _, e := range entries {
		objects.WriteString(e.object + "\n")
	}
	batch, err := git(dir, &objects, "cat-file", "--batch")
	if err != nil {
		return err
	}
	r := bufio.NewReader(bytes.NewReader(batch))
	for _, e := range entries {
		header, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		f := strings.Fields(header)
		if len(f) != 3 || f[0] != e.object || f[1] != "blob" {
			return fmt.Errorf("%s: unexpected object header %q", e.path, header)
		}
		size, err := strconv.Atoi(f[2])
		if err != nil {
			return err
		}
		data := make([]byte, size+1) // the content and its trailing newline
		if _, err := io.ReadFull(r, data); err != nil {
			return err
		}
		rel := path.Base(e.path)
		if e.path != s.Path {
			rel = strings.TrimPrefix(e.path, s.Path+"/")
		}
		target := filepath.Join(dest, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, data[:size], 0o644); err != nil {
			return err
		}
	}
	return nil
}

func git(dir string, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// pack copies the chart directory src to dest as Helm's loader reads it and `helm package` packs it: the rules
// of src/.helmignore (and Helm's defaults) leave files and directories out. It walks the tree as
// loader.LoadDir does, so the same paths are matched against the same rules.
func pack(src, dest string) error {
	rules := ignore.Empty()
	if f, err := os.Open(filepath.Join(src, ignore.HelmIgnore)); err == nil {
		rules, err = ignore.Parse(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", ignore.HelmIgnore, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	rules.AddDefaults()
	return filepath.WalkDir(src, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, name)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		n := filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rules.Ignore(n, fi) {
				return filepath.SkipDir
			}
			return nil
		}
		if rules.Ignore(n, fi) {
			return nil
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s: not a regular file", n)
		}
		return copyFile(name, filepath.Join(dest, rel))
	})
}

// certManager assembles the cert-manager chart from its template directory as cert-manager's Makefile does
// (make/manifests.mk, the $(bin_dir)/helm/cert-manager targets) before `helm package`.
func certManager(src, dest, version string) error {
	templates, err := filepath.Glob(filepath.Join(src, "templates", "*.yaml"))
	if err != nil {
		return err
	}
	if len(templates) == 0 {
		return fmt.Errorf("no template in %s", filepath.Join(src, "templates"))
	}
	copies := []string{"templates/_helpers.tpl", "templates/NOTES.txt", "values.yaml", "values.schema.json", ".helmignore"}
	for _, t := range templates {
		copies = append(copies, "templates/"+filepath.Base(t))
	}
	for _, name := range copies {
		if err := copyFile(filepath.Join(src, filepath.FromSlash(name)), filepath.Join(dest, filepath.FromSlash(name))); err != nil {
			return err
		}
	}
	readme, err := os.ReadFile(filepath.Join(src, "README.template.md"))
	if err != nil {
		return err
	}
	readme = bytes.ReplaceAll(readme, []byte("{{RELEASE_VERSION}}"), []byte(version))
	if err := os.WriteFile(filepath.Join(dest, "README.md"), readme, 0o644); err != nil {
		return err
	}
	chartYAML, err := os.ReadFile(filepath.Join(src, "Chart.yaml"))
	if err != nil {
		return err
	}
	signKey, err := os.ReadFile(filepath.Join(src, "signkey_annotation.txt"))
	if err != nil {
		return err
	}
	edited, err := CertManagerChartYAML(chartYAML, string(signKey), version)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dest, "Chart.yaml"), edited, 0o644)
}

// CertManagerChartYAML is the Makefile's yq edit of Chart.yaml:
//
//	.annotations."artifacthub.io/signKey" = strenv(SIGNKEY_ANNOTATION) | .annotations."artifacthub.io/prerelease" = "$(IS_PRERELEASE)" | .version = "$(VERSION)" | .appVersion = "$(VERSION)"
//
// where IS_PRERELEASE is "true" when the version has a pre-release part (a '-'). Comments and key order are kept.
func CertManagerChartYAML(chartYAML []byte, signKey, version string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(chartYAML, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("the chart's Chart.yaml is not a mapping")
	}
	top := doc.Content[0]
	prerelease := strconv.FormatBool(strings.Contains(version, "-"))
	annotations := mapping(top, "annotations")
	setString(annotations, "artifacthub.io/signKey", signKey, yaml.LiteralStyle)
	setString(annotations, "artifacthub.io/prerelease", prerelease, yaml.DoubleQuotedStyle)
	setString(top, "version", version, 0)
	setString(top, "appVersion", version, 0)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// mapping returns the mapping under key of m, adding an empty one when m has none.
func mapping(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	v := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
	return v
}

// setString sets key of mapping m to the string value, in place when the key exists (keeping its comments).
func setString(m *yaml.Node, key, value string, style yaml.Style) {
	v := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Style: style}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			old := m.Content[i+1]
			v.HeadComment, v.LineComment, v.FootComment = old.HeadComment, old.LineComment, old.FootComment
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

func copyFile(src, dest string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dest, data, 0o644)
}

func copyTree(src, dest string) error {
	return filepath.WalkDir(src, func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, name)
		if err != nil {
			return err
		}
		return copyFile(name, filepath.Join(dest, rel))
	})
}

func treeSize(dir string) (files int, size int64, err error) {
	err = filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		files++
		size += fi.Size()
		return nil
	})
	return files, size, err
}

// removeUnpinned removes the chart directories of charts/vendor that no pin names any more.
func removeUnpinned(vendorDir string, out io.Writer) error {
	entries, err := os.ReadDir(vendorDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, ok := vendorcharts.Lookup(e.Name()); ok {
			continue
		}
		if _, err := os.Stat(filepath.Join(vendorDir, e.Name(), "Chart.yaml")); err != nil {
			continue
		}
		if err := os.RemoveAll(filepath.Join(vendorDir, e.Name())); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s/%s removed: no pin names it\n", vendorcharts.Dir, e.Name())
	}
	return nil
}
