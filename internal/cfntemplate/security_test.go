package cfntemplate_test

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/cfntemplate"
)

// allTemplates loads template.yaml and every cfn/*.yaml: the security
// properties below hold for each, the StackSet templates and pipeline
// included.
func allTemplates(t *testing.T) []*cfntemplate.Template {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, "cfn", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	paths = append([]string{filepath.Join(root, "template.yaml")}, paths...)
	var out []*cfntemplate.Template
	for _, p := range paths {
		out = append(out, load(t, p))
	}
	if len(out) < 7 {
		t.Fatalf("%d templates; want template.yaml and cfn/*.yaml", len(out))
	}
	return out
}

const (
	sampleOrg        = "o-a1b2c3d4e5"
	sampleManagerARN = "arn:aws:iam::222222222222:role/BackupOrgPolicyManager"
)

// accountRoot is the AWS principal of a key policy's default statement.
var accountRoot = regexp.MustCompile(`^arn:\$\{AWS::Partition\}:iam::\$\{AWS::AccountId\}:root$`)

// TestNoWildcardActions: no Allow statement of any policy (identity, trust,
// key, vault, bucket, delegation) grants "*" or a whole service ("s3:*"),
// and none uses NotAction. The one exception is a KMS key policy's default
// statement for the account root (AWS KMS Developer Guide, "Default key
// policy"), which hands the key to the account's IAM policies. Deny
// statements may use wildcards (deny all non-TLS access).
func TestNoWildcardActions(t *testing.T) {
	t.Parallel()
	serviceWildcard := regexp.MustCompile(`^[a-z0-9-]+:\*$`)
	checked := 0
	for _, tpl := range allTemplates(t) {
		for _, st := range tpl.PolicyStatements() {
			where := tpl.Name + " " + st.Resource + " " + st.Property + " " + jsonOf(st.Body["Sid"])
			if st.Body["NotAction"] != nil {
				t.Errorf("%s: NotAction grants everything else", where)
			}
			if st.Body["Effect"] != "Allow" {
				continue
			}
			checked++
			for _, a := range strs(st.Body["Action"]) {
				if a != "*" && !serviceWildcard.MatchString(a) {
					continue
				}
				p, _ := st.Body["Principal"].(map[string]any)
				root, _ := p["AWS"].(map[string]any)
				if st.Type == "AWS::KMS::Key" && a == "kms:*" && len(p) == 1 && accountRoot.MatchString(jsonOf(root["Fn::Sub"])[1:len(jsonOf(root["Fn::Sub"]))-1]) {
					continue
				}
				t.Errorf("%s: Action %s", where, a)
			}
		}
	}
	if checked < 30 {
		t.Errorf("only %d Allow statements checked: are the templates parsed?", checked)
	}
}

// reasonSid is a Sid that says why a statement has Resource "*".
var reasonSid = regexp.MustCompile(`(?i)(NoResourceType|WithoutResourceType)`)

// TestWildcardResourcesSayWhy: every statement with Resource "*" carries
// its reason, in a comment on or above it or in its Sid. In a KMS key
// policy "*" is always the key itself (AWS KMS Developer Guide, "Key
// policies": Resource "*" means "this KMS key"), so key policies need none.
func TestWildcardResourcesSayWhy(t *testing.T) {
	t.Parallel()
	n := 0
	for _, tpl := range allTemplates(t) {
		for _, w := range tpl.WildcardResources() {
			n++
			if w.Type == "AWS::KMS::Key" || len(w.Comments) > 0 || reasonSid.MatchString(w.Sid) {
				continue
			}
			t.Errorf("%s:%d %s statement %q: Resource \"*\" without a reason (a comment on or above the statement, or a Sid saying NoResourceType)", tpl.Name, w.Line, w.Resource, w.Sid)
		}
	}
	if n < 5 {
		t.Errorf("only %d Resource \"*\" statements found: is the comment walk broken?", n)
	}
	// The walk sees comments: a statement without one is reported.
	tpl, err := cfntemplate.Parse("t", []byte(`
Resources:
  R:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyDocument:
            Statement:
              # ListRoots has no resource type.
              - Effect: Allow
                Action: organizations:ListRoots
                Resource: "*"
              - Sid: Bare
                Effect: Allow
                Action: tag:GetResources
                Resource: ["*"]
              - Effect: Allow
                Action: s3:GetObject
                Resource: arn:aws:s3:::b/*
`))
	if err != nil {
		t.Fatal(err)
	}
	got := tpl.WildcardResources()
	if len(got) != 2 || len(got[0].Comments) != 1 || got[1].Sid != "Bare" || len(got[1].Comments) != 0 {
		t.Errorf("WildcardResources of the fixture: %+v", got)
	}
}

// TestKMSKeysRotate: every customer managed key rotates (AWS KMS Developer
// Guide, "Rotating AWS KMS keys").
func TestKMSKeysRotate(t *testing.T) {
	t.Parallel()
	keys := 0
	for _, tpl := range allTemplates(t) {
		for _, r := range tpl.Resources() {
			if r.Type != "AWS::KMS::Key" {
				continue
			}
			keys++
			if r.Properties["EnableKeyRotation"] != true {
				t.Errorf("%s %s: EnableKeyRotation %v, want true", tpl.Name, r.LogicalID, r.Properties["EnableKeyRotation"])
			}
		}
	}
	if keys < 4 {
		t.Errorf("%d KMS keys; want at least template.yaml's, the central, member and member re-applier keys", keys)
	}
}

// orgScoped reports whether an Allow statement is held to the organization
// by an aws:PrincipalOrgID condition (IAM User Guide, "AWS global
// condition context keys", aws:PrincipalOrgID).
func orgScoped(st map[string]any) bool {
	cond, _ := st["Condition"].(map[string]any)
	eq, _ := cond["StringEquals"].(map[string]any)
	return eq["aws:PrincipalOrgID"] != nil && eq["aws:PrincipalOrgID"] != ""
}

// namedInAccount reports whether an Allow statement names its principals:
// roles of this account, or AWS services held to this account or
// organization (aws:SourceAccount, aws:SourceOrgID), as a report bucket's
// policy names AWS Backup's reports role.
func namedInAccount(st map[string]any) bool {
	p, ok := st["Principal"].(map[string]any)
	if !ok || len(p) == 0 {
		return false
	}
	for kind, v := range p {
		for _, e := range branches(v) {
			switch kind {
			case "AWS":
				if !strings.Contains(jsonOf(e), "${AWS::AccountId}") {
					return false
				}
			case "Service":
				c := jsonOf(st["Condition"])
				if !strings.Contains(c, `"aws:SourceAccount"`) && !strings.Contains(c, `"aws:SourceOrgID"`) {
					return false
				}
			default:
				return false
			}
		}
	}
	return true
}

// branches lists v, or the elements of a list v.
func branches(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// TestResourcePoliciesOrgScoped: every Allow of a vault's access policy or
// a bucket policy is held to the organization (aws:PrincipalOrgID) or names
// principals of this account; each vault's policy has an org-scoped Allow;
// and a key policy statement open to Principal "*" is held to the
// organization too.
func TestResourcePoliciesOrgScoped(t *testing.T) {
	t.Parallel()
	policies := 0
	for _, tpl := range allTemplates(t) {
		for _, r := range tpl.Resources() {
			switch r.Type {
			case "AWS::Backup::BackupVault", "AWS::Backup::LogicallyAirGappedBackupVault":
				if r.Properties["AccessPolicy"] == nil {
					t.Errorf("%s %s: a vault without an access policy", tpl.Name, r.LogicalID)
					continue
				}
			case "AWS::S3::BucketPolicy":
			default:
				continue
			}
			policies++
			allows := 0
			for _, st := range tpl.PolicyStatements() {
				if st.Resource != r.LogicalID || st.Body["Effect"] != "Allow" {
					continue
				}
				if orgScoped(st.Body) {
					allows++
				} else if !namedInAccount(st.Body) {
					t.Errorf("%s %s statement %v: an Allow neither held to the organization (aws:PrincipalOrgID) nor naming this account's principals", tpl.Name, r.LogicalID, st.Body["Sid"])
				}
			}
			if allows == 0 && r.Type != "AWS::S3::BucketPolicy" {
				t.Errorf("%s %s: no org-scoped Allow", tpl.Name, r.LogicalID)
			}
		}
		// Key policy statements open to everyone are held to the
		// organization too.
		for _, st := range tpl.PolicyStatements() {
			if st.Type == "AWS::KMS::Key" && st.Body["Effect"] == "Allow" && jsonOf(st.Body["Principal"]) == `{"AWS":"*"}` && !orgScoped(st.Body) {
				t.Errorf("%s %s key policy statement %v: Principal * without aws:PrincipalOrgID", tpl.Name, st.Resource, st.Body["Sid"])
			}
		}
	}
	if policies < 4 {
		t.Errorf("%d vault and bucket policies checked, want at least the central, air-gapped and member vaults and the code bucket", policies)
	}

	// In a deployment: the central vault takes copies from the
	// organization and from no one else.
	tpl := load(t, filepath.Join(root, "cfn", "central-backup.yaml"))
	vault, _ := tpl.Resource("CentralVault")
	d := cfntemplate.Deployment{Parameters: map[string]string{"OrganizationId": sampleOrg}, Pseudo: stack("central", "u")}
	v, err := tpl.Evaluate(vault.Properties["AccessPolicy"], d)
	if err != nil {
		t.Fatal(err)
	}
	statements := v.(map[string]any)["Statement"].([]any)
	vaultARN := "arn:aws:backup:us-east-1:222222222222:backup-vault:central-backup-vault"
	for _, c := range []struct {
		action, org string
		want        bool
	}{
		{"backup:CopyIntoBackupVault", sampleOrg, true},
		{"backup:CopyIntoBackupVault", "o-zzzzzzzzzz", false},
		{"backup:DeleteBackupVault", sampleOrg, false},
	} {
		got, err := cfntemplate.Allowed(statements, cfntemplate.Request{Action: c.action, Resource: vaultARN, Principal: "arn:aws:iam::333333333333:role/BackupServiceRole", Context: map[string]string{"aws:PrincipalOrgID": c.org}})
		if err != nil || got != c.want {
			t.Errorf("central vault: %s from %s allowed %v (%v), want %v", c.action, c.org, got, err, c.want)
		}
	}
}

// TestMemberVaultDeniesDeletion: the member vault's access policy denies
// deleting recovery points and shortening their lifecycle to everyone but
// DeletionExceptionPrincipals, whatever the caller's IAM policies allow.
func TestMemberVaultDeniesDeletion(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "cfn", "member-backup.yaml"))
	vault, _ := tpl.Resource("Vault")
	// What an administrator's identity policy allows; the vault's Deny
	// must win over it.
	admin := map[string]any{"Effect": "Allow", "Action": "backup:*", "Resource": "*", "Principal": "*"}
	rp := "arn:aws:backup:us-east-1:222222222222:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45"
	breakGlass := "arn:aws:iam::222222222222:role/BreakGlass"
	for _, tt := range []struct {
		exceptions, caller, action string
		want                       bool
	}{
		{"", breakGlass, "backup:DeleteRecoveryPoint", false},
		{"", "arn:aws:iam::222222222222:root", "backup:UpdateRecoveryPointLifecycle", false},
		{"", breakGlass, "backup:StartRestoreJob", true},
		{"arn:aws:iam::*:role/BreakGlass", breakGlass, "backup:DeleteRecoveryPoint", true},
		{"arn:aws:iam::*:role/BreakGlass", "arn:aws:iam::222222222222:role/Admin", "backup:DeleteRecoveryPoint", false},
	} {
		d := cfntemplate.Deployment{Parameters: map[string]string{"OrganizationId": sampleOrg, "DeletionExceptionPrincipals": tt.exceptions}, Pseudo: stack("member", "u")}
		v, err := tpl.Evaluate(vault.Properties["AccessPolicy"], d)
		if err != nil {
			t.Fatal(err)
		}
		statements := append(v.(map[string]any)["Statement"].([]any), admin)
		got, err := cfntemplate.Allowed(statements, cfntemplate.Request{Action: tt.action, Resource: rp, Principal: tt.caller, Context: map[string]string{"aws:PrincipalArn": tt.caller}})
		if err != nil || got != tt.want {
			t.Errorf("exceptions %q: %s by %s allowed %v (%v), want %v", tt.exceptions, tt.action, tt.caller, got, err, tt.want)
		}
	}
}

// TestBucketsBlockPublicAccessAndDenyNonTLS: every bucket blocks public
// access (all four settings), is encrypted, and has a bucket policy
// denying any request without TLS (S3 User Guide, "Enforce encryption of
// data in transit") to the bucket and its objects.
func TestBucketsBlockPublicAccessAndDenyNonTLS(t *testing.T) {
	t.Parallel()
	buckets := 0
	for _, tpl := range allTemplates(t) {
		for _, b := range tpl.Resources() {
			if b.Type != "AWS::S3::Bucket" {
				continue
			}
			buckets++
			where := tpl.Name + " " + b.LogicalID
			if got := jsonOf(b.Properties["PublicAccessBlockConfiguration"]); got != `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}` {
				t.Errorf("%s PublicAccessBlockConfiguration %s: want all four true", where, got)
			}
			if b.Properties["BucketEncryption"] == nil {
				t.Errorf("%s: no BucketEncryption", where)
			}
			denies := false
			for _, p := range tpl.Resources() {
				if p.Type != "AWS::S3::BucketPolicy" || jsonOf(p.Properties["Bucket"]) != `{"Ref":"`+b.LogicalID+`"}` {
					continue
				}
				for _, st := range tpl.PolicyStatements() {
					s := st.Body
					if st.Resource != p.LogicalID || s["Effect"] != "Deny" || jsonOf(s["Principal"]) != `"*"` || !slices.Contains(strs(s["Action"]), "s3:*") {
						continue
					}
					// The bucket and its objects: one Resource naming the
					// bucket that ends in /*, one that does not.
					bucket, objects := false, false
					for _, e := range branches(s["Resource"]) {
						res := jsonOf(e)
						if !strings.Contains(res, b.LogicalID) {
							continue
						}
						if strings.HasSuffix(res, `/*"}`) {
							objects = true
						} else {
							bucket = true
						}
					}
					if jsonOf(s["Condition"]) == `{"Bool":{"aws:SecureTransport":"false"}}` && bucket && objects {
						denies = true
					}
				}
			}
			if !denies {
				t.Errorf("%s: no bucket policy denying s3:* on the bucket and its objects when aws:SecureTransport is false", where)
			}
		}
	}
	if buckets == 0 {
		t.Error("no buckets found")
	}
}

// TestLogGroupsKeepLogs: every log group has a retention and outlives the
// stack (and a replacement), so logs of a deleted stack stay readable.
func TestLogGroupsKeepLogs(t *testing.T) {
	t.Parallel()
	groups := 0
	for _, tpl := range allTemplates(t) {
		for _, r := range tpl.Resources() {
			if r.Type != "AWS::Logs::LogGroup" {
				continue
			}
			groups++
			if r.Properties["RetentionInDays"] == nil {
				t.Errorf("%s %s: no RetentionInDays (logs kept forever)", tpl.Name, r.LogicalID)
			}
			if r.DeletionPolicy != "Retain" || r.UpdateReplacePolicy != "Retain" {
				t.Errorf("%s %s: DeletionPolicy %q, UpdateReplacePolicy %q; want Retain", tpl.Name, r.LogicalID, r.DeletionPolicy, r.UpdateReplacePolicy)
			}
		}
	}
	if groups < 3 {
		t.Errorf("%d log groups; want template.yaml's two and the member re-applier's", groups)
	}
}

// orgAdminDeployment is a deployment of cfn/org-admin-role.yaml.
func orgAdminDeployment(params map[string]string) cfntemplate.Deployment {
	p := map[string]string{"PolicyManagerRoleArn": sampleManagerARN}
	for k, v := range params {
		p[k] = v
	}
	return cfntemplate.Deployment{Parameters: p, Pseudo: map[string]string{
		"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "111111111111",
		"AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "org-admin",
		"AWS::StackId": "arn:aws:cloudformation:us-east-1:111111111111:stack/org-admin/u",
	}}
}

// TestOrgAdminRoleTrustsOnePrincipal: the org-admin role trusts exactly
// the policy manager's role, with the external ID when one is set; the
// reader role has its own trust.
func TestOrgAdminRoleTrustsOnePrincipal(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "cfn", "org-admin-role.yaml"))
	role, ok := tpl.Resource("OrgAdminRole")
	if !ok {
		t.Fatal("no OrgAdminRole")
	}
	for _, ext := range []string{"", "backup-as-code-7f3a"} {
		d := orgAdminDeployment(map[string]string{"ExternalId": ext, "ReaderPrincipals": "arn:aws:iam::222222222222:role/Pipeline"})
		props, err := tpl.Evaluate(role.Properties, d)
		if err != nil {
			t.Fatal(err)
		}
		p := props.(map[string]any)
		if p["RoleName"] != "BackupOrgPolicyManagerOrgAdmin" {
			t.Errorf("RoleName %v", p["RoleName"])
		}
		trust := p["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)
		var principals []string
		for _, st := range trust {
			s := st.(map[string]any)
			if s["Effect"] != "Allow" {
				continue
			}
			if pm, ok := s["Principal"].(map[string]any); !ok || len(pm) != 1 {
				t.Errorf("trust statement principal %v: want one AWS principal", s["Principal"])
			} else {
				principals = append(principals, strs(pm["AWS"])...)
			}
			if diff := cmp.Diff([]string{"sts:AssumeRole"}, strs(s["Action"])); diff != "" {
				t.Errorf("trust actions (-want +got):\n%s", diff)
			}
		}
		if diff := cmp.Diff([]string{sampleManagerARN}, principals); diff != "" {
			t.Errorf("ExternalId %q: trusted principals (-want +got):\n%s", ext, diff)
		}
		assume := func(caller, id string) bool {
			ctx := map[string]string{}
			if id != "" {
				ctx["sts:ExternalId"] = id
			}
			ok, err := cfntemplate.Allowed(trust, cfntemplate.Request{Action: "sts:AssumeRole", Resource: "*", Principal: caller, Context: ctx})
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !assume(sampleManagerARN, ext) || assume("arn:aws:iam::222222222222:role/Pipeline", ext) {
			t.Errorf("ExternalId %q: the manager may not assume the role, or another principal may", ext)
		}
		if ext != "" && (assume(sampleManagerARN, "") || assume(sampleManagerARN, "other")) {
			t.Errorf("the role may be assumed without its external ID")
		}
	}

	// The reader: Describe and List only, each one the org-admin role has
	// too (what drift and plan read), trusted by ReaderPrincipals.
	d := orgAdminDeployment(map[string]string{"ReaderPrincipals": "arn:aws:iam::222222222222:role/Pipeline,arn:aws:iam::333333333333:root"})
	reader, err := tpl.GrantsIn("ReaderRole", d)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := tpl.GrantsIn("OrgAdminRole", d)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range reader {
		name := strings.TrimPrefix(a, "organizations:")
		if !strings.HasPrefix(name, "Describe") && !strings.HasPrefix(name, "List") || !slices.Contains(admin, a) {
			t.Errorf("reader grants %s: want Describe/List actions of the org-admin role only", a)
		}
	}
	if len(reader) == 0 {
		t.Error("the reader grants nothing")
	}
	rr, _ := tpl.Resource("ReaderRole")
	props, err := tpl.Evaluate(rr.Properties["AssumeRolePolicyDocument"], d)
	if err != nil {
		t.Fatal(err)
	}
	if got := jsonOf(props); got != `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:role/Pipeline","arn:aws:iam::333333333333:root"]},"Sid":"ReaderPrincipals"}],"Version":"2012-10-17"}` {
		t.Errorf("reader trust %s", got)
	}
	if rr.Condition != "HasReaderPrincipals" {
		t.Errorf("ReaderRole condition %q: without ReaderPrincipals there is no reader", rr.Condition)
	}
}

// TestOrgAdminRoleScope: the role may act on policies of ManagedPolicyTypes
// of this management account's organization only, as template.yaml's
// delegated-administrator statements do, and ListRoots and EnablePolicyType
// only with AllowEnablePolicyType.
func TestOrgAdminRoleScope(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "cfn", "org-admin-role.yaml"))
	statements := func(params map[string]string) []any {
		docs, err := tpl.PolicyDocuments("OrgAdminRole")
		if err != nil {
			t.Fatal(err)
		}
		var out []any
		for _, doc := range docs {
			v, err := tpl.Evaluate(doc, orgAdminDeployment(params))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v.(map[string]any)["Statement"].([]any)...)
		}
		return out
	}
	otherMgmt := "arn:aws:organizations::999999999999:policy/o-a1b2c3d4e5/backup_policy/p-0123456789"
	for _, tt := range []struct {
		params map[string]string
		req    cfntemplate.Request
		want   bool
	}{
		{nil, typed("organizations:CreatePolicy", "*", "BACKUP_POLICY"), true},
		{nil, typed("organizations:CreatePolicy", "*", "SERVICE_CONTROL_POLICY"), false},
		{nil, cfntemplate.Request{Action: "organizations:CreatePolicy", Resource: "*"}, false},
		{nil, typed("organizations:UpdatePolicy", backupARN, "BACKUP_POLICY"), true},
		{nil, typed("organizations:UpdatePolicy", otherMgmt, "BACKUP_POLICY"), false},
		{nil, typed("organizations:UpdatePolicy", scpARN, "SERVICE_CONTROL_POLICY"), false},
		{map[string]string{"ManagedPolicyTypes": "BACKUP_POLICY,SERVICE_CONTROL_POLICY"}, typed("organizations:UpdatePolicy", scpARN, "SERVICE_CONTROL_POLICY"), true},
		{nil, typed("organizations:AttachPolicy", ouARN, "BACKUP_POLICY"), true},
		{nil, typed("organizations:AttachPolicy", ouARN, "TAG_POLICY"), false},
		{nil, typed("organizations:ListPolicies", "*", "BACKUP_POLICY"), true},
		{nil, cfntemplate.Request{Action: "organizations:ListRoots", Resource: "*"}, false},
		{nil, typed("organizations:EnablePolicyType", rootARN, "BACKUP_POLICY"), false},
		{map[string]string{"AllowEnablePolicyType": "true"}, cfntemplate.Request{Action: "organizations:ListRoots", Resource: "*"}, true},
		{map[string]string{"AllowEnablePolicyType": "true"}, typed("organizations:EnablePolicyType", rootARN, "BACKUP_POLICY"), true},
		{map[string]string{"AllowEnablePolicyType": "true"}, typed("organizations:EnablePolicyType", rootARN, "SERVICE_CONTROL_POLICY"), false},
		{nil, typed("organizations:DisablePolicyType", rootARN, "BACKUP_POLICY"), false},
	} {
		got, err := cfntemplate.Allowed(statements(tt.params), tt.req)
		if err != nil || got != tt.want {
			t.Errorf("%v: %s on %s (%v): allowed %v (%v), want %v", tt.params, tt.req.Action, tt.req.Resource, tt.req.Context, got, err, tt.want)
		}
	}

	// The same actions as the delegated administrator's (template.yaml,
	// OrgManagementAccount empty) and the delegation policy's.
	home := load(t, filepath.Join(root, "template.yaml"))
	delegated, err := home.GrantsIn("BackupOrgPolicyManagerFunctionRole", cfntemplate.Deployment{Pseudo: stack("s", "u")})
	if err != nil {
		t.Fatal(err)
	}
	delegated = slices.DeleteFunc(delegated, func(a string) bool { return !strings.HasPrefix(a, "organizations:") })
	orgAdmin, err := tpl.GrantsIn("OrgAdminRole", orgAdminDeployment(nil))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(delegated, orgAdmin); diff != "" {
		t.Errorf("org-admin role vs the delegated administrator's actions (-template.yaml +org-admin-role.yaml):\n%s", diff)
	}
	deleg := load(t, filepath.Join(root, "cfn", "org-delegation-policy.yaml"))
	var delegation []string
	for _, st := range deleg.PolicyStatements() {
		if st.Body["Effect"] == "Allow" {
			delegation = append(delegation, strs(st.Body["Action"])...)
		}
		if p := jsonOf(st.Body["Principal"]); p != `{"AWS":{"Fn::Sub":"arn:${AWS::Partition}:iam::${HomeAccountId}:root"}}` {
			t.Errorf("delegation statement %v principal %s: want the home account", st.Body["Sid"], p)
		}
	}
	slices.Sort(delegation)
	if diff := cmp.Diff(delegated, slices.Compact(delegation)); diff != "" {
		t.Errorf("delegation policy vs the delegated administrator's actions (-template.yaml +org-delegation-policy.yaml):\n%s", diff)
	}
}

// TestMemberReapplierMatchesHome: the member accounts' re-applier
// (cfn/member-tag-reapplier.yaml, plain CloudFormation) is template.yaml's
// TagReapplierFunction: the same IAM statements (actions and resources),
// settings, runtime, event pattern and retries.
func TestMemberReapplierMatchesHome(t *testing.T) {
	t.Parallel()
	home := load(t, filepath.Join(root, "template.yaml"))
	member := load(t, filepath.Join(root, "cfn", "member-tag-reapplier.yaml"))
	if member.IsSAM() || member.Doc["Transform"] != nil {
		t.Error("member-tag-reapplier.yaml uses a Transform; service-managed StackSets cannot deploy it")
	}
	d := cfntemplate.Deployment{Parameters: map[string]string{"CodeBucketPrefix": "code", "CodeKey": "tag-reapplier/abc.zip"}, Pseudo: stack("StackSet-reapplier-1", "u")}
	statements := func(tpl *cfntemplate.Template, id string) []any {
		docs, err := tpl.PolicyDocuments(id)
		if err != nil {
			t.Fatal(err)
		}
		var out []any
		for _, doc := range docs {
			v, err := tpl.Evaluate(doc, d)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v.(map[string]any)["Statement"].([]any)...)
		}
		return out
	}
	if diff := cmp.Diff(statements(home, "TagReapplierFunction"), statements(member, "TagReapplierRole")); diff != "" {
		t.Errorf("IAM statements (-template.yaml +member-tag-reapplier.yaml):\n%s", diff)
	}
	hg, _ := home.Grants("TagReapplierFunction")
	mg, err := member.Grants("TagReapplierFunction")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(hg, mg); diff != "" {
		t.Errorf("granted actions (-home +member):\n%s", diff)
	}
	// Lambda's own statement for the destination: SendMessage to the queue only.
	dest, _ := member.Resource("TagReapplierDestinationPolicy")
	if got := jsonOf(dest.Properties["PolicyDocument"]); got != `{"Statement":[{"Action":"sqs:SendMessage","Effect":"Allow","Resource":{"Fn::GetAtt":["TagReapplierFailureQueue","Arn"]},"Sid":"SendFailedEvents"}],"Version":"2012-10-17"}` {
		t.Errorf("destination policy %s", got)
	}

	hp, mp := home.Section("Parameters"), member.Section("Parameters")
	for _, name := range []string{"TagExclusions", "TagPrecedence", "OverwriteExistingTags", "ProvenanceTagKey", "BackfillConcurrency", "LogRetentionInDays", "ApplicationLogLevel"} {
		if diff := cmp.Diff(hp[name], mp[name]); diff != "" {
			t.Errorf("parameter %s (-home +member):\n%s", name, diff)
		}
	}
	hr, _ := home.Resource("TagReapplierFunction")
	hf := withGlobals(home, hr)
	mr, _ := member.Resource("TagReapplierFunction")
	mf := mr.Properties
	for _, c := range []struct{ what, home, member string }{
		{"Runtime", jsonOf(hf["Runtime"]), jsonOf(mf["Runtime"])},
		{"Architectures", jsonOf(hf["Architectures"]), jsonOf(mf["Architectures"])},
		{"Handler", jsonOf(hf["Handler"]), jsonOf(mf["Handler"])},
		{"Tracing", `"Active"`, jsonOf(mf["TracingConfig"].(map[string]any)["Mode"])},
		{"Timeout", jsonOf(hf["Timeout"]), jsonOf(mf["Timeout"])},
		{"MemorySize", jsonOf(hf["MemorySize"]), jsonOf(mf["MemorySize"])},
		{"Environment", jsonOf(hf["Environment"]), jsonOf(mf["Environment"])},
		{"LoggingConfig", jsonOf(hf["LoggingConfig"]), jsonOf(mf["LoggingConfig"])},
		{"Code", `{"S3Bucket":{"Fn::Sub":"${CodeBucketPrefix}-${AWS::Region}"},"S3Key":{"Ref":"CodeKey"}}`, jsonOf(mf["Code"])},
	} {
		if c.home != c.member {
			t.Errorf("%s: home %s, member %s", c.what, c.home, c.member)
		}
	}
	rule, _ := member.Resource("RestoreJobCompletedRule")
	events, _ := hr.Properties["Events"].(map[string]any)
	pattern := events["RestoreJobCompleted"].(map[string]any)["Properties"].(map[string]any)["Pattern"]
	if jsonOf(rule.Properties["EventPattern"]) != jsonOf(pattern) || jsonOf(rule.Properties["Targets"]) != `[{"Arn":{"Fn::GetAtt":["TagReapplierFunction","Arn"]},"Id":"TagReapplier"}]` {
		t.Errorf("rule %s, want the home pattern %s targeting the function", jsonOf(rule.Properties), jsonOf(pattern))
	}
	perm, _ := member.Resource("RestoreJobCompletedPermission")
	if jsonOf(perm.Properties["SourceArn"]) != `{"Fn::GetAtt":["RestoreJobCompletedRule","Arn"]}` || perm.Properties["Principal"] != "events.amazonaws.com" {
		t.Errorf("Lambda permission %s: want EventBridge, for the rule only", jsonOf(perm.Properties))
	}
	eic, _ := member.Resource("TagReapplierInvokeConfig")
	homeEIC, _ := hr.Properties["EventInvokeConfig"].(map[string]any)
	for _, k := range []string{"MaximumRetryAttempts", "MaximumEventAgeInSeconds"} {
		if jsonOf(eic.Properties[k]) != jsonOf(homeEIC[k]) {
			t.Errorf("%s: member %v, home %v", k, eic.Properties[k], homeEIC[k])
		}
	}
	if got := jsonOf(eic.Properties["DestinationConfig"]); got != `{"OnFailure":{"Destination":{"Fn::GetAtt":["TagReapplierFailureQueue","Arn"]}}}` {
		t.Errorf("on-failure destination %s", got)
	}
	if q, _ := member.Resource("TagReapplierFailureQueue"); q.Properties["SqsManagedSseEnabled"] != true && q.Properties["KmsMasterKeyId"] == nil {
		t.Error("the on-failure queue is not encrypted at rest")
	}
}

// TestNoServiceLinkedRolePrincipal: no policy names a service-linked role
// as principal. AWS creates such a role when the service first needs it
// (AWSServiceRoleForBackupReports with the account's first framework or
// report plan: AWS Backup Developer Guide, "Using roles for AWS Backup Audit
// Manager"), and KMS and S3 refuse a policy whose principal does not exist,
// so in a fresh account the stack would fail. The audit framework's report
// key and bucket instead name the account root and admit only the role's
// ARN through aws:PrincipalArn, which holds whether or not the role exists.
func TestNoServiceLinkedRolePrincipal(t *testing.T) {
	t.Parallel()
	for _, tpl := range allTemplates(t) {
		for _, st := range tpl.PolicyStatements() {
			if p := jsonOf(st.Body["Principal"]); strings.Contains(p, "role/aws-service-role/") {
				t.Errorf("%s %s %v: Principal %s is a service-linked role, which may not exist yet", tpl.Name, st.Resource, st.Body["Sid"], p)
			}
		}
	}

	tpl := load(t, filepath.Join(root, "cfn", "audit-framework.yaml"))
	d := cfntemplate.Deployment{Parameters: map[string]string{"OrganizationId": sampleOrg, "CrossRegionList": "eu-west-1", "CrossAccountList": "333333333333"}, Pseudo: stack("audit", "u")}
	const reportsRole = "arn:aws:iam::222222222222:role/aws-service-role/reports.backup.amazonaws.com/AWSServiceRoleForBackupReports"
	// The statements for the role, by Sid; the bucket's Resource is the
	// bucket's own ARN (a resource attribute), so it is replaced by "*"
	// after checking it names the bucket's objects.
	statement := func(resource, property, sid string) map[string]any {
		t.Helper()
		r, _ := tpl.Resource(resource)
		doc, _ := r.Properties[property].(map[string]any)
		for _, st := range doc["Statement"].([]any) {
			m := st.(map[string]any)
			if m["Sid"] != sid {
				continue
			}
			out := map[string]any{}
			for k, v := range m {
				if k == "Resource" {
					if !strings.Contains(jsonOf(v), "ReportBucket.Arn") && v != "*" {
						t.Errorf("%s %s: Resource %s", resource, sid, jsonOf(v))
					}
					out[k] = "*"
					continue
				}
				ev, err := tpl.Evaluate(v, d)
				if err != nil {
					t.Fatalf("%s %s %s: %v", resource, sid, k, err)
				}
				out[k] = ev
			}
			return out
		}
		t.Fatalf("%s has no statement %s", resource, sid)
		return nil
	}
	key := statement("ReportKey", "KeyPolicy", "BackupReportsServiceLinkedRole")
	bucket := statement("ReportBucketPolicy", "PolicyDocument", "BackupReportsWrite")
	for _, c := range []struct {
		name      string
		st        map[string]any
		action    string
		caller    string
		context   map[string]string
		wantAllow bool
	}{
		{"key, reports role via S3", key, "kms:GenerateDataKey", reportsRole, map[string]string{"kms:ViaService": "s3.us-east-1.amazonaws.com"}, true},
		{"key, reports role directly", key, "kms:Decrypt", reportsRole, nil, false},
		{"key, another role of the account", key, "kms:Decrypt", "arn:aws:iam::222222222222:role/Other", map[string]string{"kms:ViaService": "s3.us-east-1.amazonaws.com"}, false},
		{"key, the role's path in another account", key, "kms:Decrypt", "arn:aws:iam::333333333333:role/aws-service-role/reports.backup.amazonaws.com/AWSServiceRoleForBackupReports", map[string]string{"kms:ViaService": "s3.us-east-1.amazonaws.com"}, false},
		{"bucket, reports role", bucket, "s3:PutObject", reportsRole, map[string]string{"aws:PrincipalOrgID": sampleOrg}, true},
		{"bucket, another role of the account", bucket, "s3:PutObject", "arn:aws:iam::222222222222:role/Other", map[string]string{"aws:PrincipalOrgID": sampleOrg}, false},
	} {
		ctx := map[string]string{"aws:PrincipalArn": c.caller}
		for k, v := range c.context {
			ctx[k] = v
		}
		got, err := cfntemplate.Allowed([]any{c.st}, cfntemplate.Request{Action: c.action, Resource: "arn:aws:kms:us-east-1:222222222222:key/k", Principal: c.caller, Context: ctx})
		if err != nil || got != c.wantAllow {
			t.Errorf("%s: allowed %v (%v), want %v", c.name, got, err, c.wantAllow)
		}
	}
}
