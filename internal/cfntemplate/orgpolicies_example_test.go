package cfntemplate_test

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/cfntemplate"
	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
)

// sampleSSM are values of the SSM parameters cfn/org-policies.yaml reads
// (the README's deployment steps put them into Parameter Store).
var sampleSSM = map[string]string{
	"TargetOuIds":     "ou-a1b2-prod0001,ou-a1b2-dev00001",
	"TargetRegions":   "us-east-1,eu-west-1",
	"CentralVaultArn": "arn:aws:backup:us-east-1:333333333333:backup-vault:central-backup-vault",
	"OrganizationId":  "o-a1b2c3d4e5",
}

// TestOrgPoliciesExample: the example policies of cfn/org-policies.yaml,
// rendered as the policy manager renders them with sample SSM values, are
// what the issue asks for and what Organizations accepts: the backup
// policies pass pkg/backuppolicy validation, the SCPs are JSON within 5,120
// characters. Without the SSM values (they exist only at deploy time) the
// targets, Regions and variables are deferred, not taken from the
// parameters' defaults, which are parameter names.
func TestOrgPoliciesExample(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "cfn", "org-policies.yaml"))
	d := cfntemplate.Deployment{Parameters: sampleSSM, Pseudo: stack("backup-as-code-org-policies", "1c2fa620-982a-11e3-aff7-50e2416294e0")}

	daily, _ := tpl.Resource("DailyBackupPolicy")
	if _, deferred := tpl.RequestProperties(daily, cfntemplate.Deployment{Pseudo: d.Pseudo}); !cmp.Equal(slices.Sorted(maps.Keys(deferred)), []string{"PolicyRegions", "PolicyTargets", "ServiceToken", "Variables"}) {
		t.Errorf("without SSM values deferred %v, want PolicyRegions, PolicyTargets, ServiceToken, Variables", slices.Sorted(maps.Keys(deferred)))
	}

	rendered := map[string]string{}
	for _, r := range tpl.Resources() {
		if r.Type != orgPolicyType {
			continue
		}
		props, deferred := tpl.RequestProperties(r, d)
		if got := slices.Collect(maps.Keys(deferred)); !cmp.Equal(got, []string{"ServiceToken"}) {
			t.Errorf("%s: deferred %v with the sample values, want only ServiceToken", r.LogicalID, got)
		}
		p, err := orgpolicy.DecodeProperties(props, orgpolicy.Defaults{})
		if err != nil {
			t.Fatalf("%s: %v", r.LogicalID, err)
		}
		if !cmp.Equal(p.Targets, []string{"ou-a1b2-prod0001", "ou-a1b2-dev00001"}) {
			t.Errorf("%s: targets %v", r.LogicalID, p.Targets)
		}
		doc, err := orgpolicy.RenderDocument(p.Content.Inline, p)
		if err != nil {
			t.Errorf("%s: %v", r.LogicalID, err)
			continue
		}
		if strings.Contains(doc, "$vault_name") || strings.Contains(doc, "$central_vault_arn") || strings.Contains(doc, "$backup_role_name") {
			t.Errorf("%s: a placeholder is left: %s", r.LogicalID, doc)
		}
		if !json.Valid([]byte(doc)) {
			t.Errorf("%s: not JSON: %s", r.LogicalID, doc)
		}
		if p.PolicyType == "SERVICE_CONTROL_POLICY" {
			if n := utf8.RuneCountInString(doc); n > 5120 {
				t.Errorf("%s: the SCP is %d characters; SCPs are limited to 5,120", r.LogicalID, n)
			}
		} else {
			// Validate once more on the parsed document: RenderDocument's
			// validation is the point of the test, so state it.
			root, err := backuppolicy.ParseJSON([]byte(doc))
			if err == nil {
				err = backuppolicy.Validate(root)
			}
			if err != nil {
				t.Errorf("%s: %v", r.LogicalID, err)
			}
		}
		rendered[r.LogicalID] = doc
	}

	const vault = "arn:aws:backup:us-east-1:333333333333:backup-vault:central-backup-vault"
	rule := func(cron, days string) map[string]any {
		return map[string]any{
			"schedule_expression":            map[string]any{"@@assign": cron},
			"start_backup_window_minutes":    map[string]any{"@@assign": "60"},
			"complete_backup_window_minutes": map[string]any{"@@assign": "1200"},
			"target_backup_vault_name":       map[string]any{"@@assign": "org-backup-vault"},
			"lifecycle":                      map[string]any{"delete_after_days": map[string]any{"@@assign": days}},
			"copy_actions": map[string]any{vault: map[string]any{
				"target_backup_vault_arn": map[string]any{"@@assign": vault},
				"lifecycle":               map[string]any{"delete_after_days": map[string]any{"@@assign": days}},
			}},
		}
	}
	plan := func(name, ruleName, cron, days, tag string) map[string]any {
		return map[string]any{"plans": map[string]any{name: map[string]any{
			"regions": map[string]any{"@@assign": []any{"us-east-1", "eu-west-1"}},
			"rules":   map[string]any{ruleName: rule(cron, days)},
			"selections": map[string]any{"tags": map[string]any{"backup-" + tag: map[string]any{
				"iam_role_arn": map[string]any{"@@assign": "arn:aws:iam::$account:role/BackupServiceRole"},
				"tag_key":      map[string]any{"@@assign": "backup"},
				"tag_value":    map[string]any{"@@assign": []any{tag}},
			}}},
		}}}
	}
	dailyPlan := plan("backup-as-code-daily", "daily", "cron(0 5 ? * * *)", "35", "daily")
	// The tag the audit framework's frequency control is scoped to.
	dailyPlan["plans"].(map[string]any)["backup-as-code-daily"].(map[string]any)["backup_plan_tags"] = map[string]any{
		"backup-as-code-frequency": map[string]any{
			"tag_key":   map[string]any{"@@assign": "backup-as-code-frequency"},
			"tag_value": map[string]any{"@@assign": "daily"},
		},
	}
	want := map[string]map[string]any{
		"DailyBackupPolicy":   dailyPlan,
		"MonthlyBackupPolicy": plan("backup-as-code-monthly", "monthly", "cron(0 5 1 * ? *)", "366", "monthly"),
	}
	for id, w := range want {
		var got map[string]any
		if err := json.Unmarshal([]byte(rendered[id]), &got); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s rendered (-want +got):\n%s", id, diff)
		}
	}

	// Every deny of the SCPs exempts the StackSet execution roles, or the
	// StackSets could no longer update the resources the SCPs protect.
	for _, id := range []string{"KeepBackupsInOrganizationScp", "ProtectSolutionResourcesScp"} {
		var scp struct{ Statement []map[string]any }
		if err := json.Unmarshal([]byte(rendered[id]), &scp); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		for _, s := range scp.Statement {
			if s["Sid"] == "DenyCopyOutsideOrganization" || s["Sid"] == "DenyExternalResourceShares" || s["Sid"] == "DenyAssociationsWithExternalShares" {
				continue // denied to everyone: nothing of the solution copies or shares outside
			}
			exempt := jsonOf(s["Condition"])
			for _, role := range []string{"role/stacksets-exec-*", "role/AWSCloudFormationStackSetExecutionRole"} {
				if !strings.Contains(exempt, role) {
					t.Errorf("%s %s does not exempt %s: %s", id, s["Sid"], role, exempt)
				}
			}
		}
	}
	if !strings.Contains(rendered["KeepBackupsInOrganizationScp"], `"o-a1b2c3d4e5/*"`) {
		t.Errorf("the copy deny does not name the organization: %s", rendered["KeepBackupsInOrganizationScp"])
	}
}

// renderSCPs renders the SCPs of cfn/org-policies.yaml as the policy
// manager does, with the sample SSM values and params, and returns their
// statements, all of both policies.
func renderSCPs(t *testing.T, params map[string]string) []any {
	t.Helper()
	tpl := load(t, filepath.Join(root, "cfn", "org-policies.yaml"))
	all := maps.Clone(sampleSSM)
	maps.Copy(all, params)
	d := cfntemplate.Deployment{Parameters: all, Pseudo: stack("backup-as-code-org-policies", "1c2fa620-982a-11e3-aff7-50e2416294e0")}
	var out []any
	for _, id := range []string{"KeepBackupsInOrganizationScp", "ProtectSolutionResourcesScp"} {
		r, _ := tpl.Resource(id)
		props, _ := tpl.RequestProperties(r, d)
		p, err := orgpolicy.DecodeProperties(props, orgpolicy.Defaults{})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		doc, err := orgpolicy.RenderDocument(p.Content.Inline, p)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		var scp struct{ Statement []any }
		if err := json.Unmarshal([]byte(doc), &scp); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		out = append(out, scp.Statement...)
	}
	return out
}

// TestSCPsScope: what the example SCPs deny, evaluated on requests of an
// administrator whose IAM policies allow everything. RAM shares are judged
// by the request's ram:RequestedAllowsExternalPrincipals on create and
// update (AWS RAM User Guide, "Example service control policies": Deny RAM
// from sharing resources to external accounts) and by the share's
// ram:AllowsExternalPrincipals on association. Vault denies cover the
// solution's vaults only (by name, in any account and Region), not every
// vault of the target accounts, and the central account's deploy role
// (CentralDeployRoleName) is exempt in the central account only.
func TestSCPsScope(t *testing.T) {
	t.Parallel()
	admin := map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}
	const (
		member  = "arn:aws:iam::444444444444:role/Admin"
		deploy  = "arn:aws:iam::333333333333:role/CentralDeploy"
		central = "arn:aws:backup:us-east-1:333333333333:backup-vault:central-backup-vault"
	)
	solutionAlias := map[string]string{"kms:ResourceAliases": "alias/backup-as-code/central-backup-vault"}
	for _, c := range []struct {
		name, deployRole, caller, action, resource string
		context                                    map[string]string
		want                                       bool
	}{
		{"share created for external principals", "", member, "ram:CreateResourceShare", "*", map[string]string{"ram:RequestedAllowsExternalPrincipals": "true"}, false},
		{"share updated to external principals", "", member, "ram:UpdateResourceShare", "*", map[string]string{"ram:RequestedAllowsExternalPrincipals": "true"}, false},
		{"share created for the organization only", "", member, "ram:CreateResourceShare", "*", map[string]string{"ram:RequestedAllowsExternalPrincipals": "false"}, true},
		{"association with an external share", "", member, "ram:AssociateResourceShare", "*", map[string]string{"ram:AllowsExternalPrincipals": "true"}, false},
		{"association with an internal share", "", member, "ram:AssociateResourceShare", "*", map[string]string{"ram:AllowsExternalPrincipals": "false"}, true},
		{"member vault's policy", "", member, "backup:PutBackupVaultAccessPolicy", "arn:aws:backup:eu-west-1:444444444444:backup-vault:org-backup-vault", nil, false},
		{"a team's own vault policy", "", member, "backup:PutBackupVaultAccessPolicy", "arn:aws:backup:eu-west-1:444444444444:backup-vault:team-vault", nil, true},
		{"a team's own vault deleted", "", member, "backup:DeleteBackupVault", "arn:aws:backup:eu-west-1:444444444444:backup-vault:team-vault", nil, true},
		{"member vault deleted", "", member, "backup:DeleteBackupVault", "arn:aws:backup:eu-west-1:444444444444:backup-vault:org-backup-vault", nil, false},
		{"central vault locked, no exemption", "", deploy, "backup:PutBackupVaultLockConfiguration", central, nil, false},
		{"central vault locked by its deploy role", "CentralDeploy", deploy, "backup:PutBackupVaultLockConfiguration", central, nil, true},
		{"central vault policy by its deploy role", "CentralDeploy", deploy, "backup:PutBackupVaultAccessPolicy", central, nil, true},
		{"central key policy by its deploy role", "CentralDeploy", deploy, "kms:PutKeyPolicy", "arn:aws:kms:us-east-1:333333333333:key/k", solutionAlias, true},
		{"central key policy, no exemption", "", deploy, "kms:PutKeyPolicy", "arn:aws:kms:us-east-1:333333333333:key/k", solutionAlias, false},
		{"the deploy role's name in another account", "CentralDeploy", "arn:aws:iam::444444444444:role/CentralDeploy", "backup:DeleteBackupVault", "arn:aws:backup:eu-west-1:444444444444:backup-vault:org-backup-vault", nil, false},
		{"a team's own key", "", member, "kms:ScheduleKeyDeletion", "arn:aws:kms:eu-west-1:444444444444:key/k", map[string]string{"kms:ResourceAliases": "alias/team"}, true},
		{"StackSet execution role", "", "arn:aws:iam::444444444444:role/stacksets-exec-0123456789abcdef", "backup:DeleteBackupVault", "arn:aws:backup:eu-west-1:444444444444:backup-vault:org-backup-vault", nil, true},
	} {
		statements := append([]any{admin}, renderSCPs(t, map[string]string{"CentralDeployRoleName": c.deployRole})...)
		ctx := map[string]string{"aws:PrincipalArn": c.caller}
		maps.Copy(ctx, c.context)
		got, err := cfntemplate.Allowed(statements, cfntemplate.Request{Action: c.action, Resource: c.resource, Context: ctx})
		if err != nil || got != c.want {
			t.Errorf("%s: %s by %s allowed %v (%v), want %v", c.name, c.action, c.caller, got, err, c.want)
		}
	}
}
