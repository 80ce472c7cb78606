package pack

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"k8s.io/apimachinery/pkg/api/resource"
)

// A setting is one key of a policy's config. Its JSON schema carries the default, which the CLI fills in before
// it configures the pack; the code applies the same default when a key is absent, so a pack configured by other
// means (unit tests, a policy config file that names only a few keys) behaves the same.
type setting interface {
	name() string
	schema() map[string]any
}

// configSchema declares a policy's settings to the engine, which validates policy config files against it.
func configSchema(settings ...setting) *policyx.ConfigSchema {
	props := make(map[string]map[string]any, len(settings))
	for _, s := range settings {
		props[s.name()] = s.schema()
	}
	return &policyx.ConfigSchema{Properties: props}
}

// intSetting is a whole-number threshold.
type intSetting struct {
	Key, Description string
	Default, Min     int
}

func (s intSetting) name() string { return s.Key }

func (s intSetting) schema() map[string]any {
	return map[string]any{"type": "integer", "description": s.Description, "default": s.Default, "minimum": s.Min}
}

func (s intSetting) from(cfg map[string]any) (int, error) {
	v, ok := cfg[s.Key]
	if !ok || v == nil {
		return s.Default, nil
	}
	var n int
	switch t := v.(type) {
	case float64: // JSON numbers, as the engine hands policy config over
		if t != float64(int(t)) {
			return 0, fmt.Errorf("policy config %s = %v: want a whole number", s.Key, v)
		}
		n = int(t)
	case int:
		n = t
	default:
		return 0, fmt.Errorf("policy config %s = %v (%T): want a whole number", s.Key, v, v)
	}
	if n < s.Min {
		return 0, fmt.Errorf("policy config %s = %d: want at least %d", s.Key, n, s.Min)
	}
	return n, nil
}

// stringSetting is a single name, such as a namespace.
type stringSetting struct {
	Key, Description, Default string
}

func (s stringSetting) name() string { return s.Key }

func (s stringSetting) schema() map[string]any {
	return map[string]any{"type": "string", "description": s.Description, "default": s.Default}
}

func (s stringSetting) from(cfg map[string]any) (string, error) {
	v, ok := cfg[s.Key]
	if !ok || v == nil {
		return s.Default, nil
	}
	str, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("policy config %s = %v (%T): want a string", s.Key, v, v)
	}
	return str, nil
}

// stringsSetting is a list of names, such as namespaces or environments.
type stringsSetting struct {
	Key, Description string
	Default          []string
}

func (s stringsSetting) name() string { return s.Key }

func (s stringsSetting) schema() map[string]any {
	// structpb, which carries the schema to the engine, takes []any but not []string.
	def := make([]any, len(s.Default))
	for i, d := range s.Default {
		def[i] = d
	}
	return map[string]any{
		"type": "array", "items": map[string]any{"type": "string"}, "description": s.Description, "default": def,
	}
}

func (s stringsSetting) from(cfg map[string]any) ([]string, error) {
	v, ok := cfg[s.Key]
	if !ok || v == nil {
		return slices.Clone(s.Default), nil
	}
	switch t := v.(type) {
	case []string:
		return t, nil
	case []any:
		out := make([]string, 0, len(t))
		for i, e := range t {
			str, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("policy config %s[%d] = %v (%T): want a string", s.Key, i, e, e)
			}
			out = append(out, str)
		}
		return out, nil
	}
	return nil, fmt.Errorf("policy config %s = %v (%T): want a list of strings", s.Key, v, v)
}

// quantityPattern is the shape of a Kubernetes quantity ("500m", "32", "128Gi"), so the engine refuses a typo
// in a policy config file before the pack runs.
const quantityPattern = `^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$`

// quantitySetting is a Kubernetes quantity bound, such as the most CPU a namespace's quota may request.
type quantitySetting struct {
	Key, Description, Default string
}

func (s quantitySetting) name() string { return s.Key }

func (s quantitySetting) schema() map[string]any {
	return map[string]any{
		"type": "string", "pattern": quantityPattern, "description": s.Description, "default": s.Default,
	}
}

func (s quantitySetting) from(cfg map[string]any) (resource.Quantity, error) {
	raw, err := stringSetting{Key: s.Key, Default: s.Default}.from(cfg)
	if err != nil {
		return resource.Quantity{}, err
	}
	q, err := resource.ParseQuantity(raw)
	if err != nil {
		return resource.Quantity{}, fmt.Errorf("policy config %s = %q: want a Kubernetes quantity such as 32 or 128Gi: %w", s.Key, raw, err)
	}
	return q, nil
}

// environmentsSetting is the usual "which environments does this rule apply to" setting.
func environmentsSetting(description string, def ...string) stringsSetting {
	return stringsSetting{Key: "environments", Description: description, Default: def}
}
