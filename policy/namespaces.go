package main

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

// stackNamespace is a Namespace the stack creates.
type stackNamespace struct {
	res  policyx.AnalyzerResource
	name string // metadata.name; "" while unknown
}

func stackNamespaces(resources []policyx.AnalyzerResource) []stackNamespace {
	var out []stackNamespace
	for _, r := range resources {
		if r.Type != namespaceType {
			continue
		}
		out = append(out, stackNamespace{res: r, name: text(field(r.Properties, "metadata", "name"))})
	}
	return out
}

// containsObject reports whether some resource that satisfies want lives in the namespace. In a preview of a new
// stack an object's namespace can still be unknown, because it is the Namespace's own output; such an object
// counts for the Namespace registered under the same parent, which is how the program's Namespace component
// groups a namespace with its guard rails. On the update every namespace is known and compared by name.
func (ns stackNamespace) containsObject(resources []policyx.AnalyzerResource, want func(policyx.AnalyzerResource) bool) bool {
	for _, r := range resources {
		if !want(r) {
			continue
		}
		name, ok := namespaceOf(r)
		if ok && ns.name != "" {
			if name == ns.name {
				return true
			}
			continue
		}
		if r.Parent != "" && r.Parent == ns.res.Parent {
			return true
		}
	}
	return false
}

func ofType(token string) func(policyx.AnalyzerResource) bool {
	return func(r policyx.AnalyzerResource) bool { return r.Type == token }
}
