package pack

import (
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Resource properties reach the pack as property.Values that may be unknown (computed during a preview), secret,
// or of an unexpected shape. These helpers never panic: a missing or mistyped value reads as absent, and callers
// that care ask known() first, so an unknown value is never mistaken for a violation — it is checked again on the
// update, when the engine has resolved it.

// at walks nested maps by key. An unknown value on the way stays unknown (whatever is inside it is unknown too);
// anything missing or not a map yields the null Value.
func at(v property.Value, keys ...string) property.Value {
	for _, k := range keys {
		if v.IsComputed() {
			return v
		}
		if !v.IsMap() {
			return property.Value{}
		}
		v = v.AsMap().Get(k)
	}
	return v
}

// field is at() starting from a resource's top-level property map.
func field(m property.Map, keys ...string) property.Value {
	return at(property.New(m), keys...)
}

// known reports whether v and everything inside it is resolved.
func known(v property.Value) bool { return !v.HasComputed() }

// unresolved reports whether the property of r at keys is still to be computed. A resource with no properties at
// all counts as unresolved too: in a preview the engine gives a resource whose provider is not configured yet
// (a kubernetes provider whose kubeconfig is the output of a cluster still to be created) an empty state, which
// stands for "every property unknown", not "every property missing" (the provider plugin's Create returns an
// empty map for an unknown configuration). A Kubernetes object that exists always has properties.
func unresolved(r policyx.AnalyzerResource, keys ...string) bool {
	return r.Properties.Len() == 0 || !known(field(r.Properties, keys...))
}

// text returns v as a string: strings as they are, numbers without a trailing ".0", anything else "".
func text(v property.Value) string {
	switch {
	case v.IsString():
		return v.AsString()
	case v.IsNumber():
		return strconv.FormatFloat(v.AsNumber(), 'f', -1, 64)
	case v.IsBool():
		return strconv.FormatBool(v.AsBool())
	}
	return ""
}

// truthy reports whether v is the boolean true (Kubernetes flags such as privileged, hostNetwork).
func truthy(v property.Value) bool { return v.IsBool() && v.AsBool() }

// list returns the elements of an array, or nil for anything else.
func list(v property.Value) []property.Value {
	if !v.IsArray() {
		return nil
	}
	return v.AsArray().AsSlice()
}

// entries returns a map's keys and values, or nil for anything else.
func entries(v property.Value) map[string]property.Value {
	if !v.IsMap() {
		return nil
	}
	return v.AsMap().AsMap()
}

// stringList returns the string elements of an array, skipping anything else.
func stringList(v property.Value) []string {
	var out []string
	for _, e := range list(v) {
		if e.IsString() {
			out = append(out, e.AsString())
		}
	}
	return out
}
