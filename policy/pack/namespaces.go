package pack

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

// verdict is what a rule can say about a resource while some of its values may still be unknown: during a
// preview an object's properties, or its namespace, can be the output of a resource that does not exist yet.
type verdict int

const (
	isNot     verdict = iota // known not to hold
	undecided                // depends on values that are not known yet
	is                       // known to hold
)

// both is the verdict on two conditions that must hold together.
func both(a, b verdict) verdict { return min(a, b) }

// ofType is the verdict of a condition on the type alone, which is always known.
func ofType(token string) func(policyx.AnalyzerResource) verdict {
	return func(r policyx.AnalyzerResource) verdict {
		if r.Type == token {
			return is
		}
		return isNot
	}
}

// holds says whether an object lives in the namespace. Once both names are known they are compared. While
// either is unknown (a preview of a new stack, where the object's namespace is the Namespace's own output, or
// where the kubernetes provider has no cluster yet and every output is unknown), an object registered under the
// same parent as the Namespace is in it: that is how the program's Namespace component groups a namespace with
// its guard rails. Any other object may or may not be in it until the names are known.
func (ns stackNamespace) holds(r policyx.AnalyzerResource) verdict {
	name, ok := namespaceOf(r)
	switch {
	case ok && ns.name != "":
		if name == ns.name {
			return is
		}
		return isNot
	case r.Parent != "" && r.Parent == ns.res.Parent:
		return is
	default:
		return undecided
	}
}

// containsObject is the verdict on "some object of the stack in this namespace satisfies want". A rule reports a
// namespace only when the verdict is isNot: an undecided one is judged again on the update, once every value is
// known, so a preview never fails on what it cannot see and an update still refuses the real violation.
func (ns stackNamespace) containsObject(resources []policyx.AnalyzerResource, want func(policyx.AnalyzerResource) verdict) verdict {
	found := isNot
	for _, r := range resources {
		w := want(r)
		if w == isNot {
			continue
		}
		found = max(found, both(w, ns.holds(r)))
		if found == is {
			break
		}
	}
	return found
}
