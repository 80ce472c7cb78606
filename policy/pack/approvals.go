package pack

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/platform-eng/lke-platform/internal/rules"
)

var (
	approvalEnvironments = environmentsSetting("Environments whose updates need an approval record.", production)
	minApprovers         = intSetting{Key: "minApprovers", Default: 2, Min: 1, Description: "Distinct approvers, other than the change's author, an update needs."}
	maxValidityHours     = intSetting{Key: "maxValidityHours", Default: 4, Min: 1, Description: "How far ahead an approval record may expire, in hours; longer-lived records are refused."}
)

// approvalPolicy refuses an update of a protected environment that carries no valid approval record.
//
// It is a resource policy, not a stack policy, on purpose: the engine analyses each resource before acting on it,
// so the first resource (the pulumi:pulumi:Stack root) already stops an unapproved update before anything
// changes, whereas stack policies only run once the update is done. Every resource is checked, not only the
// root: it costs one environment lookup, and the refusal then does not depend on the engine analysing the root
// first (it does in v3.274.1, targeted updates included) or at all.
func approvalPolicy(stack Stack, lookupEnv func(string) (string, bool), now func() time.Time) policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(rules.ProductionApproved, policyx.ResourceValidationPolicyArgs{
		Description: "An update of a production stack carries an approval record (" + ApprovalEnv + "): " +
			"the change, the deployed commit (" + DeployedCommitEnv + "), its author, at least minApprovers (default 2) distinct " +
			"approvers other than the author (GitHub logins), expiring within maxValidityHours (default 4). " +
			"Previews are never blocked.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ConfigSchema:     configSchema(approvalEnvironments, minApprovers, maxValidityHours),
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			if stack.DryRun {
				return nil // previews show what would change; only applying it needs approval
			}
			envs, err := approvalEnvironments.from(args.Config)
			if err != nil {
				return fmt.Errorf("production-change-approved: %w", err)
			}
			if !stack.in(envs) {
				return nil
			}
			approvers, err := minApprovers.from(args.Config)
			if err != nil {
				return fmt.Errorf("production-change-approved: %w", err)
			}
			hours, err := maxValidityHours.from(args.Config)
			if err != nil {
				return fmt.Errorf("production-change-approved: %w", err)
			}
			rules := ApprovalRules{MinApprovers: approvers, MaxValidity: time.Duration(hours) * time.Hour}

			subject := fmt.Sprintf("update of stack %q (environment %s), at %s", stack.Name, stack.Environment, describe(args.Resource))
			fix := fmt.Sprintf(`have CI export %s={"change": "PR#<n> or <commit sha>", "commit": "<the deployed commit's full sha>", `+
				`"author": "<login>", "approvers": [%d or more logins other than the author], "expires": "<RFC 3339 time, at most %d h ahead>"} `+
				`from the merged pull request's approving reviews of its head commit by people with write access, and %s `+
				`with the deployed commit, then run the update again`, ApprovalEnv, approvers, hours, DeployedCommitEnv)

			raw, ok := lookupEnv(ApprovalEnv)
			if !ok || strings.TrimSpace(raw) == "" {
				violation(args.Manager, "", subject, "no approval record: "+ApprovalEnv+" is not set", fix)
				return nil
			}
			record, err := ParseApprovalRecord(raw)
			if err != nil {
				violation(args.Manager, "", subject, err.Error(), fix)
				return nil
			}
			deployed, _ := lookupEnv(DeployedCommitEnv)
			if problems := record.Problems(now(), strings.TrimSpace(deployed), rules); len(problems) > 0 {
				violation(args.Manager, "", subject, "the approval record is not sufficient: "+strings.Join(problems, "; "), fix)
			}
			return nil
		},
	})
}
