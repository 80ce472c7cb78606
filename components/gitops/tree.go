package gitops

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/platform-eng/lke-platform/internal/manifest"
)

// ArgoDir is the folder of an environment's rendered tree (generated/<env>/, render mode) that holds its
// Applications: the root and every Application the root holds. Each Folder has a folder of its own beside it
// (network/, secrets/, observability/), holding its objects: what Argo CD applies, for review and promotion.
const ArgoDir = "argo"

// WriteTree writes the environment's Applications and its folders' objects as YAML under dir, one object per
// file, replacing what an earlier render left in those folders. The same arguments always give the same bytes.
func WriteTree(dir string, args *InfrastructureArgs) error {
	children := Children(args)
	files := map[string]any{} // path under dir -> object
	for _, app := range append([]Application{Root(args, children)}, children...) {
		files[filepath.Join(ArgoDir, app.Metadata.Name+".yaml")] = app
	}
	for _, f := range args.Folders {
		for _, obj := range f.Objects {
			m := manifest.Untyped(obj)
			kind, _ := m["kind"].(string)
			meta, _ := m["metadata"].(map[string]any)
			name, _ := meta["name"].(string)
			parts := []string{strings.ToLower(kind)}
			if ns, _ := meta["namespace"].(string); ns != "" {
				parts = append(parts, ns)
			}
			path := filepath.Join(f.Name, strings.Join(append(parts, name), "-")+".yaml")
			if _, dup := files[path]; dup {
				return fmt.Errorf("gitops: folder %s holds %s twice", f.Name, path)
			}
			files[path] = m
		}
	}
	for _, sub := range append([]string{ArgoDir}, folderNames(args.Folders)...) {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return fmt.Errorf("gitops: clearing %s: %w", sub, err)
		}
	}
	for path, obj := range files {
		doc, err := yaml.Marshal(obj)
		if err != nil {
			return fmt.Errorf("gitops: %s: %w", path, err)
		}
		full := filepath.Join(dir, path)
		// #nosec G301 G306 -- the rendered tree is committed and public: no secret is in it (only sealed ones)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, doc, 0o644); err != nil { // #nosec G306 -- as above: committed and public
			return fmt.Errorf("gitops: writing %s: %w", path, err)
		}
	}
	return nil
}

func folderNames(folders []Folder) []string {
	out := make([]string, len(folders))
	for i, f := range folders {
		out[i] = f.Name
	}
	return out
}
