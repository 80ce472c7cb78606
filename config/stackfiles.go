package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// StackValues reads Pulumi.yaml's defaults and Pulumi.<stack>.yaml's values from dir, merged as the CLI merges
// them (a stack value replaces the default whole), and returns them unqualified and encoded as the CLI hands
// them to a program: strings as they are, objects and arrays as JSON. Tests use it to run the real stack files.
func StackValues(dir, stack string) (map[string]string, error) {
	values, err := ProjectValues(dir)
	if err != nil {
		return nil, err
	}
	var stackFile struct {
		Config map[string]any `yaml:"config"`
	}
	if err := readYAML(filepath.Join(dir, "Pulumi."+stack+".yaml"), &stackFile); err != nil {
		return nil, err
	}
	for key, v := range stackFile.Config {
		name, ok := strings.CutPrefix(key, Namespace+":")
		if !ok {
			continue // another package's config, such as linode:url
		}
		values[name] = encode(v)
	}
	return values, nil
}

func readYAML(path string, into any) error {
	b, err := os.ReadFile(path) // #nosec G304 -- a stack file of the project directory the operator runs in
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func encode(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case int:
		return strconv.Itoa(t)
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
}

// StackConfig is StackValues with every key qualified by the project's namespace, as the CLI hands a stack's
// config to the program (pulumi.RunInfo.Config).
func StackConfig(dir, stack string) (map[string]string, error) {
	values, err := StackValues(dir, stack)
	if err != nil {
		return nil, err
	}
	cfg := make(map[string]string, len(values))
	for k, v := range values {
		cfg[Namespace+":"+k] = v
	}
	return cfg, nil
}

// ProjectValues are Pulumi.yaml's defaults in dir, unqualified and encoded as StackValues encodes them: what a
// stack that sets nothing gets.
func ProjectValues(dir string) (map[string]string, error) {
	var project struct {
		Config map[string]struct {
			Default any `yaml:"default"`
		} `yaml:"config"`
	}
	if err := readYAML(filepath.Join(dir, "Pulumi.yaml"), &project); err != nil {
		return nil, err
	}
	values := map[string]string{}
	for key, decl := range project.Config {
		if decl.Default != nil {
			values[key] = encode(decl.Default)
		}
	}
	return values, nil
}
