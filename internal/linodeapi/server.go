// Package linodeapi is a stand-in for the part of the Linode API v4 that the Pulumi Linode provider calls for
// LKE: clusters, their node pools, kubeconfigs, API endpoints, control plane ACLs, Kubernetes versions and
// Linode types; and for the environments' DNS zones (domains). It serves on 127.0.0.1 (the provider reads the base URL from LINODE_URL), keeps its clusters in
// memory, hands out one kubeconfig for every cluster (a local control plane's, so a stack deploys onto a real API
// server), and records every request, so a test can say exactly what reached "Linode": no DELETE, no write at
// all.
//
// Requests and responses are linodego's types (the client library the provider itself is built on), so the
// wire format is the library's, not a guess. Only what the provider uses is served; anything else answers 404 and
// is recorded as unhandled, so a test sees a call it did not expect.
package linodeapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"

	"github.com/linode/linodego"
)

// Request is one call the stand-in received.
type Request struct {
	Method string
	Path   string
	// Body is the request's JSON body (empty for GET and DELETE).
	Body string
	// Handled is false for a call outside what the stand-in serves (answered 404).
	Handled bool
}

func (r Request) String() string { return r.Method + " " + r.Path }

// Write reports whether the request changes something: any method but GET.
func (r Request) Write() bool { return r.Method != http.MethodGet }

// Cluster is an LKE cluster as the API holds it.
type Cluster struct {
	linodego.LKECluster
	ACL   linodego.LKEClusterControlPlaneACL
	Pools []linodego.LKENodePool
}

// Server is the Linode API stand-in. Start it with Start; its zero value is not usable.
type Server struct {
	token      string
	kubeconfig []byte

	mu       sync.Mutex
	clusters map[int]*Cluster
	domains  map[int]*linodego.Domain
	nextID   int // cluster, pool and domain IDs
	nextNode int
	requests []Request
	versions []string
	types    []linodego.LinodeType
	httpSrv  *httptest.Server
}

// Options configure a Server.
type Options struct {
	// Token is the API token every request must carry (Authorization: Bearer …); empty accepts any.
	Token string
	// Kubeconfig is the kubeconfig (YAML) handed out for every cluster.
	Kubeconfig []byte
	// Versions are the Kubernetes versions LKE offers.
	Versions []string
	// Types are the Linode types (plans) the API lists; nodes of other types are refused.
	Types []linodego.LinodeType
}

// New makes a Server; Start serves it.
func New(o Options) *Server {
	return &Server{
		token: o.Token, kubeconfig: o.Kubeconfig, versions: o.Versions, types: o.Types,
		clusters: map[int]*Cluster{}, domains: map[int]*linodego.Domain{}, nextID: 1000, nextNode: 1,
	}
}

// Start serves the API on a free port of 127.0.0.1 and returns its base URL (for LINODE_URL).
func (s *Server) Start() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	s.httpSrv = httptest.NewUnstartedServer(s.routes())
	_ = s.httpSrv.Listener.Close() // httptest's own listener, replaced before it served anything
	s.httpSrv.Listener = l
	s.httpSrv.Start()
	return s.httpSrv.URL, nil
}

// Close stops serving.
func (s *Server) Close() {
	if s.httpSrv != nil {
		s.httpSrv.Close()
	}
}

// Seed puts an existing cluster into the API (an inventory cluster the program adopts), with ready nodes in each
// of its pools. Pools without an ID get one.
func (s *Server) Seed(c Cluster) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.Status = linodego.LKEClusterReady
	if c.Tier == "" {
		c.Tier = "standard"
	}
	for i := range c.Pools {
		if c.Pools[i].ID == 0 {
			c.Pools[i].ID = s.id()
		}
		s.fillNodes(&c.Pools[i])
	}
	s.clusters[c.ID] = &c
	if c.ID >= s.nextID {
		s.nextID = c.ID + 1
	}
}

// Cluster returns a copy of cluster id as the API holds it now.
func (s *Server) Cluster(id int) (Cluster, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clusters[id]
	if !ok {
		return Cluster{}, false
	}
	cp := *c
	cp.Pools = slices.Clone(c.Pools)
	return cp, true
}

// Clusters returns the IDs of the clusters the API holds, in order.
func (s *Server) Clusters() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.clusters))
}

// Requests returns every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Since returns the requests received after the first n (n from an earlier len(Requests())).
func (s *Server) Since(n int) []Request {
	all := s.Requests()
	if n > len(all) {
		return nil
	}
	return all[n:]
}

// routes is the API: what the provider (linodego v1.50) calls for LKE, by method and path.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h func(w http.ResponseWriter, r *http.Request) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			defer s.mu.Unlock()
			v, err := h(w, r)
			if err != nil {
				writeError(w, err)
				return
			}
			writeJSON(w, http.StatusOK, v)
		})
	}
	handle("GET /v4/lke/versions", func(http.ResponseWriter, *http.Request) (any, error) {
		vs := make([]linodego.LKEVersion, 0, len(s.versions))
		for _, v := range s.versions {
			vs = append(vs, linodego.LKEVersion{ID: v})
		}
		return page(vs), nil
	})
	handle("GET /v4/lke/versions/{version}", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		if v := r.PathValue("version"); slices.Contains(s.versions, v) {
			return linodego.LKEVersion{ID: v}, nil
		}
		return nil, notFound
	})
	handle("GET /v4/linode/types", func(http.ResponseWriter, *http.Request) (any, error) { return page(s.types), nil })
	handle("GET /v4/linode/types/{type}", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		if t, ok := s.linodeType(r.PathValue("type")); ok {
			return t, nil
		}
		return nil, notFound
	})

	handle("GET /v4/lke/clusters", func(http.ResponseWriter, *http.Request) (any, error) {
		list := make([]linodego.LKECluster, 0, len(s.clusters))
		for _, id := range slices.Sorted(maps.Keys(s.clusters)) {
			list = append(list, s.clusters[id].LKECluster)
		}
		return page(list), nil
	})
	handle("POST /v4/lke/clusters", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		var o linodego.LKEClusterCreateOptions
		if err := decode(r, &o); err != nil {
			return nil, err
		}
		return s.create(o)
	})
	handle("GET /v4/lke/clusters/{id}", s.withCluster(func(c *Cluster, _ *http.Request) (any, error) { return c.LKECluster, nil }))
	handle("PUT /v4/lke/clusters/{id}", s.withCluster(func(c *Cluster, r *http.Request) (any, error) {
		var o linodego.LKEClusterUpdateOptions
		if err := decode(r, &o); err != nil {
			return nil, err
		}
		if o.Label != "" {
			c.Label = o.Label
		}
		if o.K8sVersion != "" {
			if !slices.Contains(s.versions, o.K8sVersion) {
				return nil, badRequest("k8s_version", "not a supported version: "+o.K8sVersion)
			}
			c.K8sVersion = o.K8sVersion
		}
		if o.Tags != nil {
			c.Tags = *o.Tags
		}
		if o.ControlPlane != nil {
			setControlPlane(c, o.ControlPlane)
		}
		return c.LKECluster, nil
	}))
	handle("DELETE /v4/lke/clusters/{id}", s.withCluster(func(c *Cluster, _ *http.Request) (any, error) {
		delete(s.clusters, c.ID)
		return struct{}{}, nil
	}))
	handle("GET /v4/lke/clusters/{id}/kubeconfig", s.withCluster(func(*Cluster, *http.Request) (any, error) {
		return linodego.LKEClusterKubeconfig{KubeConfig: base64.StdEncoding.EncodeToString(s.kubeconfig)}, nil
	}))
	handle("GET /v4/lke/clusters/{id}/api-endpoints", s.withCluster(func(c *Cluster, _ *http.Request) (any, error) {
		return page([]linodego.LKEClusterAPIEndpoint{{Endpoint: fmt.Sprintf("https://%d.lke.stand-in:443", c.ID)}}), nil
	}))
	handle("GET /v4/lke/clusters/{id}/dashboard", s.withCluster(func(c *Cluster, _ *http.Request) (any, error) {
		return linodego.LKEClusterDashboard{URL: fmt.Sprintf("https://%d.dashboard.lke.stand-in", c.ID)}, nil
	}))
	handle("GET /v4/lke/clusters/{id}/control_plane_acl", s.withCluster(func(c *Cluster, _ *http.Request) (any, error) {
		return linodego.LKEClusterControlPlaneACLResponse{ACL: c.ACL}, nil
	}))
	handle("PUT /v4/lke/clusters/{id}/control_plane_acl", s.withCluster(func(c *Cluster, r *http.Request) (any, error) {
		var o linodego.LKEClusterControlPlaneACLUpdateOptions
		if err := decode(r, &o); err != nil {
			return nil, err
		}
		setACL(c, &o.ACL)
		return linodego.LKEClusterControlPlaneACLResponse{ACL: c.ACL}, nil
	}))

	handle("GET /v4/lke/clusters/{id}/pools", s.withCluster(func(c *Cluster, _ *http.Request) (any, error) { return page(c.Pools), nil }))
	handle("POST /v4/lke/clusters/{id}/pools", s.withCluster(func(c *Cluster, r *http.Request) (any, error) {
		var o linodego.LKENodePoolCreateOptions
		if err := decode(r, &o); err != nil {
			return nil, err
		}
		p, err := s.newPool(o)
		if err != nil {
			return nil, err
		}
		c.Pools = append(c.Pools, p)
		return p, nil
	}))
	handle("GET /v4/lke/clusters/{id}/pools/{pool}", s.withPool(func(c *Cluster, i int, _ *http.Request) (any, error) {
		return c.Pools[i], nil
	}))
	handle("PUT /v4/lke/clusters/{id}/pools/{pool}", s.withPool(func(c *Cluster, i int, r *http.Request) (any, error) {
		var o linodego.LKENodePoolUpdateOptions
		if err := decode(r, &o); err != nil {
			return nil, err
		}
		p := &c.Pools[i]
		if o.Count > 0 {
			p.Count = o.Count
		}
		if o.Tags != nil {
			p.Tags = *o.Tags
		}
		if o.Labels != nil {
			p.Labels = *o.Labels
		}
		if o.Taints != nil {
			p.Taints = *o.Taints
		}
		if o.Autoscaler != nil {
			p.Autoscaler = *o.Autoscaler
		}
		s.fillNodes(p)
		return *p, nil
	}))
	handle("DELETE /v4/lke/clusters/{id}/pools/{pool}", s.withPool(func(c *Cluster, i int, _ *http.Request) (any, error) {
		c.Pools = slices.Delete(c.Pools, i, i+1)
		return struct{}{}, nil
	}))

	handle("POST /v4/domains", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		var o linodego.DomainCreateOptions
		if err := decode(r, &o); err != nil {
			return nil, err
		}
		return s.createDomain(o)
	})
	handle("GET /v4/domains/{id}", s.withDomain(func(d *linodego.Domain, _ *http.Request) (any, error) { return *d, nil }))
	handle("PUT /v4/domains/{id}", s.withDomain(func(d *linodego.Domain, r *http.Request) (any, error) {
		var o linodego.DomainUpdateOptions
		if err := decode(r, &o); err != nil {
			return nil, err
		}
		if o.SOAEmail != "" {
			d.SOAEmail = o.SOAEmail
		}
		if o.Description != "" {
			d.Description = o.Description
		}
		if o.Tags != nil {
			d.Tags = o.Tags
		}
		return *d, nil
	}))
	handle("DELETE /v4/domains/{id}", s.withDomain(func(d *linodego.Domain, _ *http.Request) (any, error) {
		delete(s.domains, d.ID)
		return struct{}{}, nil
	}))

	// Every request is recorded, and needs the token, before it is routed.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		_, pattern := mux.Handler(r)
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Body: string(body), Handled: pattern != ""})
		s.mu.Unlock()
		if s.token != "" && r.Header.Get("Authorization") != "Bearer "+s.token {
			writeJSON(w, http.StatusUnauthorized, linodego.APIError{Errors: []linodego.APIErrorReason{{Reason: "Invalid Token"}}})
			return
		}
		if pattern == "" {
			writeError(w, notFound) // as the API answers, in JSON
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// withCluster resolves {id} to a cluster (404 if there is none). Called with s.mu held.
func (s *Server) withCluster(h func(c *Cluster, r *http.Request) (any, error)) func(http.ResponseWriter, *http.Request) (any, error) {
	return func(_ http.ResponseWriter, r *http.Request) (any, error) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil {
			return nil, notFound
		}
		c, ok := s.clusters[id]
		if !ok {
			return nil, notFound
		}
		return h(c, r)
	}
}

// withPool resolves {id} and {pool} to the cluster and the pool's index in it (404 if either is missing).
func (s *Server) withPool(h func(c *Cluster, i int, r *http.Request) (any, error)) func(http.ResponseWriter, *http.Request) (any, error) {
	return s.withCluster(func(c *Cluster, r *http.Request) (any, error) {
		id, err := strconv.Atoi(r.PathValue("pool"))
		if err != nil {
			return nil, notFound
		}
		i := slices.IndexFunc(c.Pools, func(p linodego.LKENodePool) bool { return p.ID == id })
		if i < 0 {
			return nil, notFound
		}
		return h(c, i, r)
	})
}

// Domains returns the domains (DNS zones) the API holds, by name.
func (s *Server) Domains() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for _, d := range s.domains {
		names = append(names, d.Domain)
	}
	slices.Sort(names)
	return names
}

// withDomain resolves {id} to a domain (404 if there is none). Called with s.mu held.
func (s *Server) withDomain(h func(d *linodego.Domain, r *http.Request) (any, error)) func(http.ResponseWriter, *http.Request) (any, error) {
	return func(_ http.ResponseWriter, r *http.Request) (any, error) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil {
			return nil, notFound
		}
		d, ok := s.domains[id]
		if !ok {
			return nil, notFound
		}
		return h(d, r)
	}
}

// createDomain makes a zone as the API does: a master zone needs its SOA email, and a name is taken once.
func (s *Server) createDomain(o linodego.DomainCreateOptions) (any, error) {
	switch {
	case o.Domain == "":
		return nil, badRequest("domain", "required")
	case o.Type != linodego.DomainTypeMaster && o.Type != linodego.DomainTypeSlave:
		return nil, badRequest("type", "master or slave")
	case o.Type == linodego.DomainTypeMaster && o.SOAEmail == "":
		return nil, badRequest("soa_email", "required for a master domain")
	}
	for _, d := range s.domains {
		if d.Domain == o.Domain {
			return nil, badRequest("domain", "a domain with this name already exists")
		}
	}
	d := &linodego.Domain{
		ID: s.id(), Domain: o.Domain, Type: o.Type, SOAEmail: o.SOAEmail, Description: o.Description,
		Status: linodego.DomainStatusActive, Tags: o.Tags, MasterIPs: []string{}, AXfrIPs: []string{},
	}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	s.domains[d.ID] = d
	return *d, nil
}

// create makes a cluster from the create options, as LKE does: ready at once here, every node ready.
func (s *Server) create(o linodego.LKEClusterCreateOptions) (any, error) {
	switch {
	case o.Label == "":
		return nil, badRequest("label", "required")
	case o.Region == "":
		return nil, badRequest("region", "required")
	case !slices.Contains(s.versions, o.K8sVersion):
		return nil, badRequest("k8s_version", "not a supported version: "+o.K8sVersion)
	case len(o.NodePools) == 0:
		return nil, badRequest("node_pools", "at least one node pool")
	}
	for _, c := range s.clusters {
		if c.Label == o.Label {
			return nil, badRequest("label", "a cluster with this label already exists")
		}
	}
	c := &Cluster{LKECluster: linodego.LKECluster{
		ID: s.id(), Label: o.Label, Region: o.Region, K8sVersion: o.K8sVersion, Tags: o.Tags,
		Status: linodego.LKEClusterReady, Tier: "standard",
	}}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if o.ControlPlane != nil {
		setControlPlane(c, o.ControlPlane)
	}
	for _, po := range o.NodePools {
		p, err := s.newPool(po)
		if err != nil {
			return nil, err
		}
		c.Pools = append(c.Pools, p)
	}
	s.clusters[c.ID] = c
	return c.LKECluster, nil
}

func (s *Server) newPool(o linodego.LKENodePoolCreateOptions) (linodego.LKENodePool, error) {
	if _, ok := s.linodeType(o.Type); !ok {
		return linodego.LKENodePool{}, badRequest("type", "not a Linode type: "+o.Type)
	}
	if o.Count < 1 {
		return linodego.LKENodePool{}, badRequest("count", "at least 1")
	}
	p := linodego.LKENodePool{
		ID: s.id(), Count: o.Count, Type: o.Type, Tags: o.Tags, Labels: o.Labels, Taints: o.Taints,
		Disks: []linodego.LKENodePoolDisk{}, Autoscaler: linodego.LKENodePoolAutoscaler{Min: o.Count, Max: o.Count},
	}
	if o.Autoscaler != nil {
		p.Autoscaler = *o.Autoscaler
	}
	if p.Tags == nil {
		p.Tags = []string{}
	}
	if p.Labels == nil {
		p.Labels = linodego.LKENodePoolLabels{}
	}
	if p.Taints == nil {
		p.Taints = []linodego.LKENodePoolTaint{}
	}
	s.fillNodes(&p)
	return p, nil
}

// fillNodes gives a pool exactly Count nodes, all ready.
func (s *Server) fillNodes(p *linodego.LKENodePool) {
	for len(p.Linodes) < p.Count {
		n := s.nextNode
		s.nextNode++
		p.Linodes = append(p.Linodes, linodego.LKENodePoolLinode{
			ID: fmt.Sprintf("%d-%d", p.ID, n), InstanceID: 90000 + n, Status: linodego.LKELinodeReady,
		})
	}
	p.Linodes = p.Linodes[:p.Count]
}

func (s *Server) id() int {
	id := s.nextID
	s.nextID++
	return id
}

func (s *Server) linodeType(id string) (linodego.LinodeType, bool) {
	i := slices.IndexFunc(s.types, func(t linodego.LinodeType) bool { return t.ID == id })
	if i < 0 {
		return linodego.LinodeType{}, false
	}
	return s.types[i], true
}

// setControlPlane applies control plane options: high availability, and the ACL when given.
func setControlPlane(c *Cluster, o *linodego.LKEClusterControlPlaneOptions) {
	if o.HighAvailability != nil {
		c.ControlPlane.HighAvailability = *o.HighAvailability
	}
	if o.ACL != nil {
		setACL(c, o.ACL)
	}
}

// setACL applies ACL options as LKE does: a family of addresses left out is kept.
func setACL(c *Cluster, o *linodego.LKEClusterControlPlaneACLOptions) {
	if o.Enabled != nil {
		c.ACL.Enabled = *o.Enabled
	}
	if o.Addresses != nil {
		if c.ACL.Addresses == nil {
			c.ACL.Addresses = &linodego.LKEClusterControlPlaneACLAddresses{}
		}
		if o.Addresses.IPv4 != nil {
			c.ACL.Addresses.IPv4 = *o.Addresses.IPv4
		}
		if o.Addresses.IPv6 != nil {
			c.ACL.Addresses.IPv6 = *o.Addresses.IPv6
		}
	}
	c.ACL.RevisionID = o.RevisionID
}

// page is a list answer: one page holding everything.
func page[T any](data []T) any {
	if data == nil {
		data = []T{}
	}
	return struct {
		Data    []T `json:"data"`
		Page    int `json:"page"`
		Pages   int `json:"pages"`
		Results int `json:"results"`
	}{data, 1, 1, len(data)}
}

// apiError is an error answer: its status and the API's error body.
type apiError struct {
	status int
	body   linodego.APIError
}

func (e apiError) Error() string { return fmt.Sprintf("%d %v", e.status, e.body.Errors) }

var notFound = apiError{http.StatusNotFound, linodego.APIError{Errors: []linodego.APIErrorReason{{Reason: "Not found"}}}}

func badRequest(field, reason string) apiError {
	return apiError{http.StatusBadRequest, linodego.APIError{Errors: []linodego.APIErrorReason{{Field: field, Reason: reason}}}}
}

func writeError(w http.ResponseWriter, err error) {
	if e, ok := err.(apiError); ok {
		writeJSON(w, e.status, e.body)
		return
	}
	writeJSON(w, http.StatusBadRequest, badRequest("", err.Error()).body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func decode(r *http.Request, v any) error {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return badRequest("", "a JSON body: "+err.Error())
	}
	return nil
}
