package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Access packages (docs/access-control.md): time-limited RBAC grants to one person, each asked for in Slack.
const (
	// MaxAccessLifetime is how far ahead a package may expire: the spec's 24 hours, and the default of the
	// policy pack's access-credentials-expire (maxHours), so a stack the config accepts is one the pack accepts.
	MaxAccessLifetime = 24 * time.Hour
	// AccessNamespaceName is the short name of the namespace "<env>-access" that holds the packages' service
	// accounts; a workload namespace cannot take it.
	AccessNamespaceName = "access"
	// AccessRequestChannel is where every package is asked for; its request link points there.
	AccessRequestChannel = "#platform-access"
)

// AccessRoles are the roles a package grants: Kubernetes' built-in ClusterRoles of the same names.
var AccessRoles = []string{"view", "edit"}

// AccessPackage is one person's time-limited access to some of the environment's workload namespaces.
type AccessPackage struct {
	Name       string    // DNS label; the service account is "access-<name>"
	Subject    string    // e-mail address of the person, for the record
	Role       string    // one of AccessRoles
	Namespaces []string  // full names ("<env>-<short name>") of the workload namespaces granted
	ExpiresAt  time.Time // when the access ends; the program leaves the package out from then on
	Request    string    // link to the request in #platform-access
}

// Expired reports whether the package's time is up at now.
func (a AccessPackage) Expired(now time.Time) bool { return !a.ExpiresAt.After(now) }

// accessPackageJSON is one element of the accessPackages key as a stack sets it.
type accessPackageJSON struct {
	Name       string   `json:"name"`
	Subject    string   `json:"subject"`
	Role       string   `json:"role"`
	Namespaces []string `json:"namespaces"`
	ExpiresAt  string   `json:"expiresAt"`
	Request    string   `json:"request"`
}

var (
	// A Slack message link: https://<workspace>.slack.com/archives/<channel ID>/p<timestamp>.
	slackWorkspace = regexp.MustCompile(`^[a-z0-9][-a-z0-9]*\.slack\.com$`)
	slackMessage   = regexp.MustCompile(`^/archives/[A-Z0-9]+/p[0-9]{16}$`)
)

// ParseAccessPackages validates only the accessPackages key against the environment's name and the short names
// of its workload namespaces, at time now, for programs that grant access the way an environment does without
// the rest of its configuration (tests/accessprogram).
func ParseAccessPackages(get Values, env string, shortNames []string, now time.Time) ([]AccessPackage, error) {
	p := parser{get: get, isSecret: func(string) bool { return false }}
	packages := p.accessPackages(env, shortNames, now)
	if len(p.errs) > 0 {
		return nil, &Error{Problems: p.errs}
	}
	return packages, nil
}

// accessPackages reads the accessPackages key. A package that has expired is valid (it stays in the stack's
// config until someone removes it); the program leaves it out, so the next update removes its grants. One that
// expires more than MaxAccessLifetime ahead is refused.
func (p *parser) accessPackages(env string, shortNames []string, now time.Time) []AccessPackage {
	for i, n := range shortNames {
		if n == AccessNamespaceName {
			p.fail(fmt.Sprintf("namespaces[%d]", i), n, "a name other than "+AccessNamespaceName+
				`: "<env>-`+AccessNamespaceName+`" holds the access packages' service accounts`)
		}
	}
	var raw []accessPackageJSON
	p.object("accessPackages", &raw)
	var out []AccessPackage
	seen := map[string]bool{}
	for i, r := range raw {
		key := func(field string) string { return fmt.Sprintf("accessPackages[%d].%s", i, field) }
		pkg := AccessPackage{Name: r.Name, Subject: r.Subject, Role: r.Role, Request: r.Request}

		switch {
		case !dnsLabel.MatchString(r.Name) || len("access-"+r.Name) > 63:
			p.fail(key("name"), r.Name, "a DNS label of at most 56 characters (the service account is access-<name>)")
		case seen[r.Name]:
			p.fail(key("name"), r.Name, "a name no other package of the stack has")
		}
		seen[r.Name] = true

		if a, err := mail.ParseAddress(r.Subject); err != nil || a.Address != r.Subject {
			p.fail(key("subject"), r.Subject, "the plain e-mail address of the person the package is for, such as alice@example.com")
		}
		if !slices.Contains(AccessRoles, r.Role) {
			p.fail(key("role"), r.Role, "one of "+strings.Join(AccessRoles, ", ")+" (Kubernetes' built-in ClusterRoles)")
		}

		if len(r.Namespaces) == 0 {
			p.fail(key("namespaces"), "[]", "at least one of the environment's namespaces: "+strings.Join(shortNames, ", "))
		}
		for j, n := range r.Namespaces {
			k := fmt.Sprintf("accessPackages[%d].namespaces[%d]", i, j)
			switch {
			case !slices.Contains(shortNames, n) || n == AccessNamespaceName:
				p.fail(k, n, "one of the environment's namespaces (short names, as in the namespaces key): "+strings.Join(shortNames, ", "))
			case slices.Contains(pkg.Namespaces, env+"-"+n):
				p.fail(k, n, "a namespace not already listed")
			default:
				pkg.Namespaces = append(pkg.Namespaces, env+"-"+n)
			}
		}

		expires, err := time.Parse(time.RFC3339, r.ExpiresAt)
		switch {
		case err != nil:
			p.fail(key("expiresAt"), r.ExpiresAt, "an RFC 3339 time such as "+now.Add(8*time.Hour).UTC().Format(time.RFC3339))
		case expires.Sub(now) > MaxAccessLifetime:
			p.fail(key("expiresAt"), r.ExpiresAt, fmt.Sprintf("a time at most %s ahead (before %s): access packages expire within 24 hours; ask again in %s for more",
				MaxAccessLifetime, now.Add(MaxAccessLifetime).UTC().Format(time.RFC3339), AccessRequestChannel))
		}
		pkg.ExpiresAt = expires.UTC()

		if u, err := url.Parse(r.Request); err != nil || u.Scheme != "https" || !slackWorkspace.MatchString(u.Host) || !slackMessage.MatchString(u.Path) {
			p.fail(key("request"), r.Request, "the link to the request's Slack message in "+AccessRequestChannel+
				" (Copy link), such as https://example.slack.com/archives/C0123ABCD/p1760000000000100")
		}
		out = append(out, pkg)
	}
	return out
}
