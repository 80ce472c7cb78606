// Package analyzer serves a policy pack over Pulumi's analyzer protocol, as the SDK's policyx.Main does, with
// one difference: each resource the engine sends is decoded once per request, not once per policy.
//
// The engine asks the pack about every resource before acting on it, one resource at a time, in the step that
// plans the update: every millisecond the pack spends is a millisecond of every preview and update. policyx's
// server decodes a resource's properties (and its provider's) again for each of the pack's policies, so with
// this pack's 15 resource policies the root Application's 41 KB of values was decoded 15 times for each
// preview. The policies themselves are unchanged: they are policyx.Policy values, served here with the same
// names, descriptions, enforcement levels, configuration and violation messages.
//
// Remediation is not served (the pack has no remediation policy): the engine takes the protocol's Unimplemented
// answer as "nothing to remediate" and goes on, as it does for any pack that predates remediation.
package analyzer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Main serves the pack the factory makes (once the engine has said which stack it analyzes) on a port of the
// kernel's choosing, prints the port as the protocol requires, and returns when the engine stops it.
func Main(factory func(*pulumi.Context) (policyx.PolicyPack, error)) error {
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterAnalyzerServer(srv, &Server{factory: factory})
			return nil
		},
	})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// errNotConfigured answers a request that needs the pack before the engine has named the stack (ConfigureStack).
var errNotConfigured = errors.New("analyzer has not had its stack configured")

// Server is the analyzer protocol's server for one pack.
type Server struct {
	pulumirpc.UnimplementedAnalyzerServer

	factory   func(*pulumi.Context) (policyx.PolicyPack, error)
	pack      policyx.PolicyPack
	handshake *pulumirpc.AnalyzerHandshakeRequest
	stackTags map[string]string
	config    map[string]policyx.PolicyConfig
}

// NewServer is a server for the pack the factory makes (for tests; Main serves one).
func NewServer(factory func(*pulumi.Context) (policyx.PolicyPack, error)) *Server {
	return &Server{factory: factory}
}

func (s *Server) Handshake(_ context.Context, req *pulumirpc.AnalyzerHandshakeRequest) (*pulumirpc.AnalyzerHandshakeResponse, error) {
	s.handshake = req
	return &pulumirpc.AnalyzerHandshakeResponse{}, nil
}

// ConfigureStack makes the pack for the stack the engine names: its config, whether this is a preview.
func (s *Server) ConfigureStack(_ context.Context, req *pulumirpc.AnalyzerStackConfigureRequest) (*pulumirpc.AnalyzerStackConfigureResponse, error) {
	if s.handshake == nil {
		return nil, errors.New("analyzer has not had handshake called")
	}
	ctx, err := pulumi.NewContext(context.Background(), pulumi.RunInfo{
		Stack: req.GetStack(), Project: req.GetProject(), Organization: req.GetOrganization(),
		RootDirectory: s.handshake.GetRootDirectory(), EngineAddr: s.handshake.GetEngineAddress(),
		Config: req.GetConfig(), ConfigSecretKeys: req.GetConfigSecretKeys(), DryRun: req.GetDryRun(), Parallel: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("creating context: %w", err)
	}
	s.stackTags = req.GetTags()
	if s.pack, err = s.factory(ctx); err != nil {
		return nil, fmt.Errorf("failed to create policy pack: %w", err)
	}
	return &pulumirpc.AnalyzerStackConfigureResponse{}, nil
}

func (s *Server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	if s.pack == nil {
		return nil, errNotConfigured
	}
	return &pulumirpc.PluginInfo{Version: s.pack.Version().String()}, nil
}

// GetAnalyzerInfo describes the pack's policies to the engine, with their configuration schemas.
func (s *Server) GetAnalyzerInfo(context.Context, *emptypb.Empty) (*pulumirpc.AnalyzerInfo, error) {
	if s.pack == nil {
		return nil, errNotConfigured
	}
	var policies []*pulumirpc.PolicyInfo
	for _, p := range s.pack.Policies() {
		info := &pulumirpc.PolicyInfo{
			Name: p.Name(), Description: p.Description(), EnforcementLevel: pulumirpc.EnforcementLevel(p.EnforcementLevel()),
		}
		if schema := p.ConfigSchema(); schema != nil {
			properties := make(map[string]any, len(schema.Properties))
			for k, v := range schema.Properties {
				properties[k] = v
			}
			proto, err := structpb.NewStruct(properties)
			if err != nil {
				return nil, fmt.Errorf("policy %q: config schema: %w", p.Name(), err)
			}
			info.ConfigSchema = &pulumirpc.PolicyConfigSchema{Properties: proto, Required: schema.Required}
		}
		policies = append(policies, info)
	}
	return &pulumirpc.AnalyzerInfo{
		Name: s.pack.Name(), Version: s.pack.Version().String(), Policies: policies, SupportsConfig: true,
	}, nil
}

// Configure takes each policy's enforcement level and properties from the engine (--policy-pack-config).
func (s *Server) Configure(_ context.Context, req *pulumirpc.ConfigureAnalyzerRequest) (*emptypb.Empty, error) {
	config := map[string]policyx.PolicyConfig{}
	for name, c := range req.GetPolicyConfig() {
		raw, err := c.GetProperties().MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("policy %q: config: %w", name, err)
		}
		var properties map[string]any
		if err := json.Unmarshal(raw, &properties); err != nil {
			return nil, fmt.Errorf("policy %q: config: %w", name, err)
		}
		config[name] = policyx.PolicyConfig{EnforcementLevel: policyx.EnforcementLevel(c.GetEnforcementLevel()), Properties: properties}
	}
	s.config = config
	return &emptypb.Empty{}, nil
}

// Analyze runs every enabled resource policy over one resource, decoded once, on its first use.
func (s *Server) Analyze(ctx context.Context, req *pulumirpc.AnalyzeRequest) (*pulumirpc.AnalyzeResponse, error) {
	if s.pack == nil {
		return nil, errNotConfigured
	}
	var diagnostics []*pulumirpc.AnalyzeDiagnostic
	var res *policyx.AnalyzerResource
	for _, p := range s.pack.Policies() {
		policy, ok := p.(policyx.ResourceValidationPolicy)
		if !ok {
			continue
		}
		level, properties := s.settings(policy)
		if level == policyx.EnforcementLevelDisabled {
			continue
		}
		if res == nil {
			decoded, err := decode(req)
			if err != nil {
				return nil, fmt.Errorf("resource %q: %w", req.GetUrn(), err)
			}
			res = &decoded
		}
		err := policy.Validate(ctx, policyx.ResourceValidationArgs{
			Manager:   s.reporter(policy, level, req.GetUrn(), &diagnostics),
			Resource:  *res,
			Config:    properties,
			StackTags: s.stackTags,
		})
		if err != nil {
			return nil, fmt.Errorf("failed to validate resource %q with policy %q: %w", req.GetUrn(), policy.Name(), err)
		}
	}
	return &pulumirpc.AnalyzeResponse{Diagnostics: diagnostics}, nil
}

// AnalyzeStack runs every enabled stack policy over the whole stack, each resource decoded once.
func (s *Server) AnalyzeStack(ctx context.Context, req *pulumirpc.AnalyzeStackRequest) (*pulumirpc.AnalyzeResponse, error) {
	if s.pack == nil {
		return nil, errNotConfigured
	}
	resources := make([]policyx.AnalyzerResource, 0, len(req.GetResources()))
	for _, r := range req.GetResources() {
		res, err := decode(r)
		if err != nil {
			return nil, fmt.Errorf("resource %q: %w", r.GetUrn(), err)
		}
		res.Parent = r.GetParent()
		res.Dependencies = r.GetDependencies()
		res.PropertyDependencies = map[string][]string{}
		for key, deps := range r.GetPropertyDependencies() {
			if len(deps.GetUrns()) > 0 {
				res.PropertyDependencies[key] = deps.GetUrns()
			}
		}
		resources = append(resources, res)
	}
	var diagnostics []*pulumirpc.AnalyzeDiagnostic
	for _, p := range s.pack.Policies() {
		policy, ok := p.(policyx.StackValidationPolicy)
		if !ok {
			continue
		}
		level, _ := s.settings(policy)
		if level == policyx.EnforcementLevelDisabled {
			continue
		}
		err := policy.Validate(ctx, policyx.StackValidationArgs{
			Manager: s.reporter(policy, level, "", &diagnostics), Resources: resources,
		})
		if err != nil {
			return nil, fmt.Errorf("failed to validate stack with policy %q: %w", policy.Name(), err)
		}
	}
	return &pulumirpc.AnalyzeResponse{Diagnostics: diagnostics}, nil
}

func (s *Server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// settings are a policy's enforcement level and properties: the engine's configuration, else its own level.
func (s *Server) settings(p policyx.Policy) (policyx.EnforcementLevel, map[string]any) {
	if c, ok := s.config[p.Name()]; ok {
		return c.EnforcementLevel, c.Properties
	}
	return p.EnforcementLevel(), nil
}

// reporter collects a policy's violations as the engine's diagnostics: the policy's description, then the
// violation's message, on the resource urn unless the violation names another.
func (s *Server) reporter(p policyx.Policy, level policyx.EnforcementLevel, urn string, into *[]*pulumirpc.AnalyzeDiagnostic) policyx.PolicyManager {
	return reportFunc(func(message, at string) {
		if at == "" {
			at = urn
		}
		text := p.Description()
		if message != "" {
			text += "\n" + message
		}
		*into = append(*into, &pulumirpc.AnalyzeDiagnostic{
			PolicyName: p.Name(), PolicyPackName: s.pack.Name(), PolicyPackVersion: s.pack.Version().String(),
			Description: p.Description(), Message: text, EnforcementLevel: pulumirpc.EnforcementLevel(level), Urn: at,
		})
	})
}

type reportFunc func(message, urn string)

func (f reportFunc) ReportViolation(message, urn string) { f(message, urn) }

// request is what Analyze and AnalyzeStack send of each resource.
type request interface {
	GetUrn() string
	GetType() string
	GetName() string
	GetProperties() *structpb.Struct
	GetOptions() *pulumirpc.AnalyzerResourceOptions
	GetProvider() *pulumirpc.AnalyzerProviderResource
}

// decode is a resource as the policies see it, as policyx builds it: properties with unknowns, secrets and
// resource references kept.
func decode(r request) (policyx.AnalyzerResource, error) {
	properties, err := unmarshal(r.GetProperties())
	if err != nil {
		return policyx.AnalyzerResource{}, err
	}
	res := policyx.AnalyzerResource{
		Type: r.GetType(), Properties: properties, URN: r.GetUrn(), Name: r.GetName(),
		Options: options(r.GetOptions()), Parent: r.GetOptions().GetParent(),
	}
	if p := r.GetProvider(); p != nil {
		providerProperties, err := unmarshal(p.GetProperties())
		if err != nil {
			return policyx.AnalyzerResource{}, fmt.Errorf("provider: %w", err)
		}
		res.Provider = policyx.AnalyzerProviderResource{
			Type: p.GetType(), Properties: providerProperties, URN: p.GetUrn(), Name: p.GetName(),
		}
	}
	return res, nil
}

func unmarshal(s *structpb.Struct) (property.Map, error) {
	m, err := plugin.UnmarshalProperties(s, plugin.MarshalOptions{
		KeepUnknowns: true, KeepSecrets: true, KeepResources: true, KeepOutputValues: true,
	})
	if err != nil {
		return property.Map{}, err
	}
	return resource.FromResourcePropertyMap(m), nil
}

// options are a resource's options as policyx gives them to policies.
func options(o *pulumirpc.AnalyzerResourceOptions) pulumi.ResourceOptions {
	if o == nil {
		return pulumi.ResourceOptions{}
	}
	out := pulumi.ResourceOptions{
		Protect:                 o.GetProtect(),
		IgnoreChanges:           o.GetIgnoreChanges(),
		DeleteBeforeReplace:     o.GetDeleteBeforeReplaceDefined() && o.GetDeleteBeforeReplace(),
		AdditionalSecretOutputs: o.GetAdditionalSecretOutputs(),
		Aliases:                 []pulumi.Alias{},
	}
	for _, alias := range o.GetAliases() {
		out.Aliases = append(out.Aliases, pulumi.Alias{URN: pulumi.URN(alias)})
	}
	if t := o.GetCustomTimeouts(); t != nil && (t.GetCreate() != 0 || t.GetUpdate() != 0 || t.GetDelete() != 0 || t.GetRead() != 0) {
		out.CustomTimeouts = &pulumi.CustomTimeouts{
			Create: timeout(t.GetCreate()), Update: timeout(t.GetUpdate()), Delete: timeout(t.GetDelete()), Read: timeout(t.GetRead()),
		}
	}
	return out
}

func timeout(seconds float64) string {
	if seconds == 0 {
		return ""
	}
	return time.Duration(seconds * float64(time.Second)).String()
}
