package cfntemplate_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/cfntemplate"
)

// stack is the pseudo parameters of a sample deployment.
func stack(name, uuid string) map[string]string {
	return map[string]string{
		"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "222222222222",
		"AWS::URLSuffix": "amazonaws.com", "AWS::StackName": name,
		"AWS::StackId": "arn:aws:cloudformation:us-east-1:222222222222:stack/" + name + "/" + uuid,
	}
}

// roleStatements returns the statements the policy manager's role has in
// a deployment with the given parameters.
func roleStatements(t *testing.T, tpl *cfntemplate.Template, params map[string]string) []any {
	t.Helper()
	docs, err := tpl.PolicyDocuments("BackupOrgPolicyManagerFunction")
	if err != nil {
		t.Fatal(err)
	}
	var out []any
	for _, doc := range docs {
		v, err := tpl.Evaluate(doc, cfntemplate.Deployment{Parameters: params, Pseudo: stack("backup-org-policy-manager", "1c2fa620-982a-11e3-aff7-50e2416294e0")})
		if err != nil {
			t.Fatal(err)
		}
		st, _ := v.(map[string]any)["Statement"].([]any)
		out = append(out, st...)
	}
	return out
}

// Sample ARNs in the form the Service Authorization Reference gives for
// AWS Organizations (resource types policy, root, organizationalunit,
// account): arn:${Partition}:organizations::${Account}:policy/o-${OrganizationId}/${PolicyType}/p-${PolicyId}
// with the policy type in lower case.
const (
	org        = "arn:aws:organizations::111111111111:"
	backupARN  = org + "policy/o-a1b2c3d4e5/backup_policy/p-0123456789"
	scpARN     = org + "policy/o-a1b2c3d4e5/service_control_policy/p-abcdefghij"
	tagPolARN  = org + "policy/o-a1b2c3d4e5/tag_policy/p-9876543210"
	rootARN    = org + "root/o-a1b2c3d4e5/r-ab12"
	ouARN      = org + "ou/o-a1b2c3d4e5/ou-ab12-34cd56ef"
	accountARN = org + "account/o-a1b2c3d4e5/333333333333"
)

func typed(action, resource, policyType string) cfntemplate.Request {
	return cfntemplate.Request{Action: action, Resource: resource, Context: map[string]string{"organizations:PolicyType": policyType}}
}

// TestPolicyManagerOrganizationsScope: as a delegated administrator
// (OrgManagementAccount empty) the policy manager may act only on policies
// of ManagedPolicyTypes, by ARN and by the organizations:PolicyType
// condition, may attach them to roots, OUs and accounts, and has "*" only
// where AWS Organizations has no resource type (ListPolicies).
func TestPolicyManagerOrganizationsScope(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "template.yaml"))
	policyActions := []string{"CreatePolicy", "UpdatePolicy", "DescribePolicy", "DeletePolicy", "ListTargetsForPolicy", "TagResource", "UntagResource", "ListTagsForResource", "AttachPolicy", "DetachPolicy"}
	type check struct {
		req  cfntemplate.Request
		want bool
	}
	var backupAndSCP, backupOnly []check
	for _, a := range policyActions {
		a = "organizations:" + a
		backupAndSCP = append(backupAndSCP,
			check{typed(a, backupARN, "BACKUP_POLICY"), true},
			check{typed(a, scpARN, "SERVICE_CONTROL_POLICY"), true},
			check{typed(a, tagPolARN, "TAG_POLICY"), false},
			// A request that does not carry the key is still held to the ARN.
			check{cfntemplate.Request{Action: a, Resource: tagPolARN}, false},
		)
		backupOnly = append(backupOnly,
			check{typed(a, backupARN, "BACKUP_POLICY"), true},
			check{typed(a, scpARN, "SERVICE_CONTROL_POLICY"), false},
		)
	}
	for _, target := range []string{rootARN, ouARN, accountARN} {
		for _, a := range []string{"organizations:AttachPolicy", "organizations:DetachPolicy"} {
			backupAndSCP = append(backupAndSCP, check{typed(a, target, "SERVICE_CONTROL_POLICY"), true}, check{typed(a, target, "TAG_POLICY"), false})
			backupOnly = append(backupOnly, check{typed(a, target, "BACKUP_POLICY"), true}, check{typed(a, target, "SERVICE_CONTROL_POLICY"), false})
		}
		// The code tags only its policies, never a root, OU or account.
		backupAndSCP = append(backupAndSCP, check{typed("organizations:TagResource", target, "BACKUP_POLICY"), false})
	}
	backupAndSCP = append(backupAndSCP,
		check{typed("organizations:ListPolicies", "*", "BACKUP_POLICY"), true},
		check{typed("organizations:ListPolicies", "*", "SERVICE_CONTROL_POLICY"), true},
		check{typed("organizations:ListPolicies", "*", "TAG_POLICY"), false},
		check{typed("organizations:DescribePolicy", "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess", "SERVICE_CONTROL_POLICY"), false},
		check{typed("organizations:EnablePolicyType", rootARN, "BACKUP_POLICY"), false},
	)
	// CreatePolicy has no resource type: IAM matches it against "*", and
	// only the policy type limits it.
	backupAndSCP = append(backupAndSCP,
		check{typed("organizations:CreatePolicy", "*", "BACKUP_POLICY"), true},
		check{typed("organizations:CreatePolicy", "*", "SERVICE_CONTROL_POLICY"), true},
		check{typed("organizations:CreatePolicy", "*", "TAG_POLICY"), false},
		check{cfntemplate.Request{Action: "organizations:CreatePolicy", Resource: "*"}, false},
	)
	backupOnly = append(backupOnly,
		check{typed("organizations:CreatePolicy", "*", "BACKUP_POLICY"), true},
		check{typed("organizations:CreatePolicy", "*", "SERVICE_CONTROL_POLICY"), false},
	)
	backupOnly = append(backupOnly,
		check{typed("organizations:ListPolicies", "*", "BACKUP_POLICY"), true},
		check{typed("organizations:ListPolicies", "*", "SERVICE_CONTROL_POLICY"), false},
		check{cfntemplate.Request{Action: "sts:AssumeRole", Resource: "arn:aws:iam::111111111111:role/BackupOrgPolicyManagerOrgAdmin"}, false},
	)
	for _, tt := range []struct {
		name   string
		params map[string]string
		checks []check
	}{
		{"default types", nil, backupOnly},
		{"backup and SCP", map[string]string{"ManagedPolicyTypes": "BACKUP_POLICY,SERVICE_CONTROL_POLICY"}, backupAndSCP},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			statements := roleStatements(t, tpl, tt.params)
			for _, c := range tt.checks {
				got, err := cfntemplate.Allowed(statements, c.req)
				if err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("%s on %s (%v): allowed %v, want %v", c.req.Action, c.req.Resource, c.req.Context, got, c.want)
				}
			}
			// "*" only for actions without a resource type, and every
			// Organizations statement carries the policy-type condition.
			noResourceType := []string{"organizations:CreatePolicy", "organizations:ListPolicies", "organizations:DescribeOrganization", "organizations:ListRoots"}
			for _, st := range statements {
				s := st.(map[string]any)
				actions := strs(s["Action"])
				if !slices.ContainsFunc(actions, func(a string) bool { return strings.HasPrefix(a, "organizations:") }) {
					continue
				}
				if slices.Contains(strs(s["Resource"]), "*") {
					for _, a := range actions {
						if !slices.Contains(noResourceType, a) {
							t.Errorf("statement %v grants %s on \"*\"; only actions without a resource type may", s["Sid"], a)
						}
					}
				}
				wantTypes := "BACKUP_POLICY"
				if tt.params != nil {
					wantTypes = tt.params["ManagedPolicyTypes"]
				}
				operator := "StringLikeIfExists"
				if slices.Contains(actions, "organizations:CreatePolicy") {
					// Every CreatePolicy request carries the key.
					operator = "StringEquals"
				}
				if got := jsonOf(s["Condition"]); got != jsonOf(map[string]any{operator: map[string]any{"organizations:PolicyType": strings.Split(wantTypes, ",")}}) {
					t.Errorf("statement %v condition %s, want organizations:PolicyType in %s", s["Sid"], got, wantTypes)
				}
			}
		})
	}

	// ListRoots and EnablePolicyType (on roots, ManagedPolicyTypes) only
	// with AllowEnablePolicyType, and only as delegated administrator.
	for _, tt := range []struct {
		params map[string]string
		req    cfntemplate.Request
		want   bool
	}{
		{nil, cfntemplate.Request{Action: "organizations:ListRoots", Resource: "*"}, false},
		{map[string]string{"AllowEnablePolicyType": "true"}, cfntemplate.Request{Action: "organizations:ListRoots", Resource: "*"}, true},
		{map[string]string{"AllowEnablePolicyType": "true"}, typed("organizations:EnablePolicyType", rootARN, "BACKUP_POLICY"), true},
		{map[string]string{"AllowEnablePolicyType": "true"}, typed("organizations:EnablePolicyType", rootARN, "SERVICE_CONTROL_POLICY"), false},
		{map[string]string{"AllowEnablePolicyType": "true"}, typed("organizations:EnablePolicyType", ouARN, "BACKUP_POLICY"), false},
		{map[string]string{"AllowEnablePolicyType": "true"}, typed("organizations:DisablePolicyType", rootARN, "BACKUP_POLICY"), false},
		{map[string]string{"AllowEnablePolicyType": "true", "OrgManagementAccount": "111111111111"}, typed("organizations:EnablePolicyType", rootARN, "BACKUP_POLICY"), false},
		{map[string]string{"AllowEnablePolicyType": "true", "OrgManagementAccount": "111111111111"}, cfntemplate.Request{Action: "organizations:ListRoots", Resource: "*"}, false},
	} {
		got, err := cfntemplate.Allowed(roleStatements(t, tpl, tt.params), tt.req)
		if err != nil || got != tt.want {
			t.Errorf("%v: %s on %s (%v): allowed %v (%v), want %v", tt.params, tt.req.Action, tt.req.Resource, tt.req.Context, got, err, tt.want)
		}
	}

	// With the management account's role, the function itself calls no
	// Organizations action: it may only assume that role.
	statements := roleStatements(t, tpl, map[string]string{"OrgManagementAccount": "111111111111", "ManagedPolicyTypes": "BACKUP_POLICY,SERVICE_CONTROL_POLICY"})
	for _, c := range []check{
		{cfntemplate.Request{Action: "sts:AssumeRole", Resource: "arn:aws:iam::111111111111:role/BackupOrgPolicyManagerOrgAdmin"}, true},
		{cfntemplate.Request{Action: "sts:AssumeRole", Resource: "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"}, false},
		{typed("organizations:CreatePolicy", backupARN, "BACKUP_POLICY"), false},
		{typed("organizations:ListPolicies", "*", "BACKUP_POLICY"), false},
	} {
		if got, err := cfntemplate.Allowed(statements, c.req); err != nil || got != c.want {
			t.Errorf("management-account role: %s on %s: allowed %v (%v), want %v", c.req.Action, c.req.Resource, got, err, c.want)
		}
	}
}

// TestManagedPolicyTypesCoverAllTypes: ManagedPolicyTypes accepts exactly
// the policy types AWS Organizations has (the SDK's PolicyType values),
// and naming one type grants the policy ARNs of that type and no other.
func TestManagedPolicyTypesCoverAllTypes(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "template.yaml"))
	p, _ := tpl.Section("Parameters")["ManagedPolicyTypes"].(map[string]any)
	if p["Default"] != "BACKUP_POLICY" {
		t.Errorf("ManagedPolicyTypes default %v, want BACKUP_POLICY", p["Default"])
	}
	pattern := regexp.MustCompile(fmt.Sprint(p["AllowedPattern"]))
	all := types.PolicyType("").Values()
	var names []string
	for _, pt := range all {
		names = append(names, string(pt))
	}
	for _, v := range []string{strings.Join(names, ","), "BACKUP_POLICY,SERVICE_CONTROL_POLICY"} {
		if !pattern.MatchString(v) {
			t.Errorf("AllowedPattern rejects %q", v)
		}
	}
	for _, v := range []string{"", "backup_policy", "BACKUP_POLICY,", "BACKUP_POLICY, TAG_POLICY", "BACKUP_POLICYX", "NO_SUCH_POLICY"} {
		if pattern.MatchString(v) {
			t.Errorf("AllowedPattern accepts %q", v)
		}
	}
	for _, pt := range all {
		statements := roleStatements(t, tpl, map[string]string{"ManagedPolicyTypes": string(pt)})
		var allowed []string
		for _, other := range all {
			arn := org + "policy/o-a1b2c3d4e5/" + strings.ToLower(string(other)) + "/p-0123456789"
			ok, err := cfntemplate.Allowed(statements, typed("organizations:UpdatePolicy", arn, string(other)))
			if err != nil {
				t.Fatal(err)
			}
			// Without the condition key only the ARN decides.
			okARN, _ := cfntemplate.Allowed(statements, cfntemplate.Request{Action: "organizations:UpdatePolicy", Resource: arn})
			if ok {
				allowed = append(allowed, string(other))
			}
			if okARN != ok {
				t.Errorf("ManagedPolicyTypes=%s: %s allowed by ARN %v, with the condition key %v", pt, other, okARN, ok)
			}
		}
		if diff := cmp.Diff([]string{string(pt)}, allowed); diff != "" {
			t.Errorf("ManagedPolicyTypes=%s: policy types allowed (-want +got):\n%s", pt, diff)
		}
	}
}

// TestPolicyManagerRole: the manager runs as the template's own role, which
// PolicyManagerRoleName can name (the Python solution's org-admin roles
// trust a role by name), with what SAM's generated role had for Lambda's
// logs and X-Ray, and the output names that role.
func TestPolicyManagerRole(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "template.yaml"))
	fn, _ := tpl.Resource("BackupOrgPolicyManagerFunction")
	if got := jsonOf(fn.Properties["Role"]); got != `{"Fn::GetAtt":["BackupOrgPolicyManagerFunctionRole","Arn"]}` {
		t.Fatalf("manager Role %s, want the template's BackupOrgPolicyManagerFunctionRole", got)
	}
	role, _ := tpl.Resource("BackupOrgPolicyManagerFunctionRole")
	d := func(params map[string]string) cfntemplate.Deployment {
		return cfntemplate.Deployment{Parameters: params, Pseudo: stack("s", "u")}
	}
	for name, want := range map[string]any{"": nil, "BackupOrgPolicyManager": "BackupOrgPolicyManager"} {
		props, err := tpl.Evaluate(role.Properties, d(map[string]string{"PolicyManagerRoleName": name}))
		if err != nil {
			t.Fatal(err)
		}
		if got := props.(map[string]any)["RoleName"]; got != want {
			t.Errorf("PolicyManagerRoleName=%q: RoleName %v, want %v", name, got, want)
		}
	}
	if got := jsonOf(role.Properties["AssumeRolePolicyDocument"]); got != `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"}}],"Version":"2012-10-17"}` {
		t.Errorf("trust policy %s: want Lambda only", got)
	}
	if got := jsonOf(role.Properties["ManagedPolicyArns"]); got != `[{"Fn::Sub":"arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},{"Fn::Sub":"arn:${AWS::Partition}:iam::aws:policy/AWSXrayWriteOnlyAccess"}]` {
		t.Errorf("managed policies %s: want SAM's AWSLambdaBasicExecutionRole and, for Tracing: Active, AWSXrayWriteOnlyAccess", got)
	}
	out, _ := tpl.Section("Outputs")["PolicyManagerRoleArn"].(map[string]any)
	if got := jsonOf(out["Value"]); got != `{"Fn::GetAtt":["BackupOrgPolicyManagerFunctionRole","Arn"]}` {
		t.Errorf("PolicyManagerRoleArn %s, want the manager's role", got)
	}
}

func strs(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	var out []string
	l, _ := v.([]any)
	for _, e := range l {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// TestTagReapplierBackupScope: backup:ListTags has resource types in the
// Service Authorization Reference (AWS Backup: recoveryPoint, backupVault,
// backupPlan...), so the re-applier may call it only on recovery points of
// its own account and Region, the only ARNs its code asks about.
func TestTagReapplierBackupScope(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "template.yaml"))
	docs, err := tpl.PolicyDocuments("TagReapplierFunction")
	if err != nil {
		t.Fatal(err)
	}
	var statements []any
	for _, doc := range docs {
		v, err := tpl.Evaluate(doc, cfntemplate.Deployment{Pseudo: stack("tag-reapplier", "1c2fa620-982a-11e3-aff7-50e2416294e0")})
		if err != nil {
			t.Fatal(err)
		}
		st, _ := v.(map[string]any)["Statement"].([]any)
		statements = append(statements, st...)
	}
	for _, c := range []struct {
		action, resource string
		want             bool
	}{
		{"backup:ListTags", "arn:aws:backup:us-east-1:222222222222:recovery-point:6f1e2d3c-0004", true},
		{"backup:ListTags", "arn:aws:backup:us-east-1:222222222222:backup-vault:org-backup-vault", false},
		{"backup:ListTags", "arn:aws:backup:us-east-1:333333333333:recovery-point:6f1e2d3c-0004", false},
		{"backup:ListTags", "arn:aws:backup:eu-west-1:222222222222:recovery-point:6f1e2d3c-0004", false},
		{"backup:DescribeRestoreJob", "*", true},
		{"backup:ListRestoreJobs", "*", true},
	} {
		got, err := cfntemplate.Allowed(statements, cfntemplate.Request{Action: c.action, Resource: c.resource})
		if err != nil || got != c.want {
			t.Errorf("%s on %s: allowed %v (%v), want %v", c.action, c.resource, got, err, c.want)
		}
	}
}
