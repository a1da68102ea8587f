package policysource_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
	"github.com/backup-as-code/orgbackup/pkg/policysource"
)

// at is a problem reduced to what a user acts on: where, how bad, and the
// word that names it.
type at struct {
	Line, Column int
	Severity     string
	Mentions     string
}

func problemsAt(t *testing.T, ps []policysource.Problem, mentions []string) []at {
	t.Helper()
	var out []at
	for i, p := range ps {
		m := ""
		if i < len(mentions) && strings.Contains(p.Message+" "+p.Path, mentions[i]) {
			m = mentions[i]
		}
		out = append(out, at{p.Line, p.Column, p.Severity.String(), m})
	}
	return out
}

var withRegions = policysource.Options{Parameters: map[string]string{"Regions": "us-east-1,eu-west-1"}}

// TestTemplateResources: each policy resource type of a template is
// rendered as the policy manager renders it (parameters, pseudo
// parameters, Variables, PolicyRegions), and each problem is reported at
// the template line and column of the key or value it is about.
func TestTemplateResources(t *testing.T) {
	t.Parallel()
	f, err := policysource.Read("testdata/templates.yaml", withRegions)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		resource, typ, name string
		targets             []string
		document            string
		problems            []at
	}{
		{
			resource: "Daily", typ: policysource.TypeBackupOrgPolicy, name: "backup-policy-check-daily",
			targets:  []string{"ou-a1b2-prod0001", "ou-a1b2-dev00001"},
			document: `{"plans":{"daily":{"rules":{"nightly":{"copy_actions":{"arn:aws:backup:us-east-1:123456789012:backup-vault:org-vault":{"target_backup_vault_arn":{"@@assign":"arn:aws:backup:us-east-1:123456789012:backup-vault:org-vault"}}},"lifecycle":{"delete_after_days":{"@@assign":"35"}},"schedule_expression":{"@@assign":"cron(0 5 ? * * *)"},"target_backup_vault_name":{"@@assign":"org-vault"}}},"selections":{"tags":{"daily":{"iam_role_arn":{"@@assign":"arn:aws:iam::$account:role/BackupRole"},"tag_key":{"@@assign":"backup"},"tag_value":{"@@assign":["daily"]}}}},"regions":{"@@append":["us-east-1","eu-west-1"]}}}}`,
		},
		{
			// The copy action's key is $vault_arn in the template and
			// the ARN once rendered: the key is found through Variables.
			resource: "Misspelt", typ: policysource.TypeBackupOrgPolicy, name: "misspelt",
			problems: []at{{66, 21, "error", "lifecylce"}},
		},
		{
			resource: "BadProperty", typ: policysource.TypeBackupOrgPolicy,
			problems: []at{{72, 7, "error", "PolicyTarget"}},
		},
		{
			// A JSON string in a literal block: lines count from the
			// block's first line, columns from its indentation.
			resource: "Legacy", typ: policysource.TypeOrgPolicy, name: "legacy", targets: []string{"r-a1b2"},
			problems: []at{{88, 27, "error", "lifecylce"}},
		},
		{
			resource: "Native", typ: policysource.TypeOrganizationsPolicy, name: "native",
			targets:  []string{"ou-a1b2-prod0001", "ou-a1b2-dev00001"},
			document: `{"plans":{"native":{"regions":{"@@append":["us-east-1","eu-west-1"]},"rules":{"r":{"schedule_expression":{"@@assign":"cron(0 5 ? * * *)"},"target_backup_vault_name":{"@@assign":"org-vault"}}},"selections":{"tags":{"s":{"iam_role_arn":{"@@assign":"arn:aws:iam::$account:role/R"},"tag_key":{"@@assign":"backup"},"tag_value":{"@@assign":["x"]}}}}}}}`,
		},
	}
	if len(f.Policies) != len(tests) {
		t.Fatalf("%d policies, want %d", len(f.Policies), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.resource, func(t *testing.T) {
			t.Parallel()
			p, err := f.Policy(tt.resource)
			if err != nil {
				t.Fatal(err)
			}
			if p.ResourceType != tt.typ || p.Document != tt.document {
				t.Errorf("type %s, document\n%s\nwant %s\n%s", p.ResourceType, p.Document, tt.typ, tt.document)
			}
			if tt.name != "" && (p.Name != tt.name || !cmp.Equal(p.Targets, tt.targets)) {
				t.Errorf("name %q targets %v, want %q %v", p.Name, p.Targets, tt.name, tt.targets)
			}
			var mentions []string
			for _, w := range tt.problems {
				mentions = append(mentions, w.Mentions)
			}
			if diff := cmp.Diff(tt.problems, problemsAt(t, p.Problems, mentions)); diff != "" {
				t.Errorf("problems (-want +got):\n%s\n%+v", diff, p.Problems)
			}
			for _, pr := range p.Problems {
				if pr.File != "testdata/templates.yaml" || pr.Resource != tt.resource {
					t.Errorf("problem names %s %s", pr.File, pr.Resource)
				}
			}
		})
	}
}

// TestConditions: a resource whose Condition is false for the parameters
// is skipped and says why; with the parameter that makes it true it is
// rendered, here once its dynamic reference is given.
func TestConditions(t *testing.T) {
	t.Parallel()
	f, err := policysource.Read("testdata/templates.yaml", withRegions)
	if err != nil {
		t.Fatal(err)
	}
	want := []policysource.Skipped{{File: "testdata/templates.yaml", Resource: "MonthlyScp", ResourceType: policysource.TypeBackupOrgPolicy, Line: 114, Reason: "condition Monthly is false"}}
	if diff := cmp.Diff(want, f.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if _, err := f.Policy("MonthlyScp"); err == nil || !strings.Contains(err.Error(), "condition Monthly is false") {
		t.Errorf("Policy(MonthlyScp) = %v, want the condition named", err)
	}

	opts := policysource.Options{Partition: "aws-us-gov", Parameters: map[string]string{
		"Regions": "us-east-1", "DeployMonthly": "true", "{{resolve:ssm:/backup/vault-name}}": "org-vault",
	}}
	f, err = policysource.Read("testdata/templates.yaml", opts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Policy("MonthlyScp")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Statement":[{"Action":"backup:DeleteBackupVault","Effect":"Deny","Resource":"arn:aws-us-gov:backup:*:*:backup-vault:org-vault"}],"Version":"2012-10-17"}`; p.Document != want || p.PolicyType != "SERVICE_CONTROL_POLICY" {
		t.Errorf("%s %s, want %s", p.PolicyType, p.Document, want)
	}
}

func writeTemplate(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const unknownTemplate = `Parameters:
  Vault:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /backup/vault
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  P:
    Type: Custom::BackupOrgPolicy
    Properties:
      ServiceToken: !ImportValue manager-ServiceToken
      PolicyName: %NAME%
      PolicyContent:
        plans:
          p:
            regions: {"@@assign": [us-east-1]}
            rules:
              r:
                schedule_expression: {"@@assign": "cron(0 5 ? * * *)"}
                target_backup_vault_name: {"@@assign": %VAULT%}
            selections:
              tags:
                s:
                  iam_role_arn: {"@@assign": "arn:aws:iam::$account:role/R"}
                  tag_key: {"@@assign": backup}
                  tag_value: {"@@assign": [x]}
`

// TestUnknownValues: a value only a deployment knows is an error naming
// it, the resource, the property and its line, and saying how to give it;
// given, the policy renders with it. ServiceToken is never needed.
func TestUnknownValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value, property, key string
		line                       int
	}{
		{"import", "!ImportValue vault-name", "PolicyContent", "ImportValue:vault-name", 13},
		{"import sub", "!ImportValue {Fn::Sub: \"${AWS::Region}-vault\"}", "PolicyContent", "ImportValue:us-east-1-vault", 13},
		{"ssm parameter", "!Ref Vault", "PolicyContent", "Vault", 13},
		{"resource ref", "!Ref Bucket", "PolicyContent", "Bucket", 13},
		{"getatt", "!GetAtt Bucket.Arn", "PolicyContent", "Bucket.Arn", 13},
		{"getatt in sub", "!Sub \"${Bucket.Arn}\"", "PolicyContent", "Bucket.Arn", 13},
		{"dynamic reference", "\"{{resolve:ssm:/backup/vault}}\"", "PolicyContent", "{{resolve:ssm:/backup/vault}}", 13},
		{"in the name", "v", "PolicyName", "ImportValue:name", 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := "p"
			if tt.property == "PolicyName" {
				name = "!ImportValue name"
			}
			path := writeTemplate(t, strings.NewReplacer("%VAULT%", tt.value, "%NAME%", name).Replace(unknownTemplate))
			_, err := policysource.Read(path, policysource.Options{})
			var uv *policysource.UnknownValuesError
			if !errors.As(err, &uv) || len(uv.Values) != 1 {
				t.Fatalf("err %v, want one unknown value", err)
			}
			v := uv.Values[0]
			if v.File != path || v.Resource != "P" || v.Property != tt.property || v.Line != tt.line || v.Column != 7 {
				t.Errorf("at %s:%d:%d %s.%s, want line %d %s", v.File, v.Line, v.Column, v.Resource, v.Property, tt.line, tt.property)
			}
			if !strings.Contains(v.Error(), "--parameter '"+tt.key+"=VALUE'") {
				t.Errorf("%v: does not say --parameter '%s=VALUE'", v, tt.key)
			}
			f, err := policysource.Read(path, policysource.Options{Parameters: map[string]string{tt.key: "given"}})
			if err != nil {
				t.Fatal(err)
			}
			if p := f.Policies[0]; p.Document == "" || len(p.Problems) > 0 {
				t.Errorf("with %s given: %s %+v", tt.key, p.Document, p.Problems)
			}
		})
	}
}

// TestEveryProblemAtOnce: a resource with a wrong property has its
// document checked too, as the policy manager does, and each problem is
// reported where it is: one run shows everything to fix. The policy is not
// rendered for use (no Document, no Root).
func TestEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	const rule = `
            rules:
              r:
                target_backup_vault_name: {"@@assign": $vault}
                lifecyle: {}
            selections:
              tags:
                s:
                  iam_role_arn: {"@@assign": "arn:aws:iam::$account:role/R"}
                  tag_key: {"@@assign": backup}
                  tag_value: {"@@assign": [x]}
`
	tests := []struct {
		name     string
		template string
		opts     policysource.Options
		want     []at
	}{
		{
			name: "misspelt property, typo in a YAML map",
			template: `Resources:
  P:
    Type: Custom::BackupOrgPolicy
    Properties:
      PolicyName: p
      PolicyTargest: [r-a1b2]
      Variables: {$vault: org-vault}
      PolicyContent:
        plans:
          p:` + rule,
			want: []at{{6, 7, "error", "PolicyTargest"}, {14, 17, "error", "lifecyle"}},
		},
		{
			name: "misspelt property, typo in a JSON string",
			template: `Resources:
  P:
    Type: Custom::OrgPolicy
    Properties:
      PolicyName: p
      PolicyTargest: [r-a1b2]
      PolicyContent: |
        {"plans": {"p": {
          "rules": {"r": {"target_backup_vault_name": {"@@assign": "v"},
                          "lifecyle": {}}}}}}
`,
			want: []at{{6, 7, "error", "PolicyTargest"}, {10, 27, "error", "lifecyle"}},
		},
		{
			name: "bad region: the document is checked without PolicyRegions",
			template: `Resources:
  P:
    Type: Custom::BackupOrgPolicy
    Properties:
      PolicyName: p
      PolicyRegions: [useast1]
      Variables: {$vault: org-vault}
      PolicyContent:
        plans:
          p:` + rule,
			want: []at{{6, 7, "error", "PolicyRegions"}, {14, 17, "error", "lifecyle"}},
		},
		{
			name: "bad Variables: the document is not checked, and says so",
			template: `Resources:
  P:
    Type: Custom::BackupOrgPolicy
    Properties:
      PolicyName: p
      Variables: [$vault=org-vault]
      PolicyContent:
        plans:
          p:` + rule,
			want: []at{{6, 7, "error", "Variables"}, {7, 7, "warning", "not checked"}},
		},
		{
			name: "AWS::Organizations::Policy: its own property names",
			template: `Resources:
  P:
    Type: AWS::Organizations::Policy
    Properties:
      Name: p
      Type: BACKUP
      Content: {plans: {p: {rules: {r: {lifecyle: {}}}}}}
`,
			want: []at{{6, 7, "error", "Type"}, {7, 7, "warning", "depends on Type,"}},
		},
		{
			name: "content in S3, given as a local copy",
			template: `Resources:
  P:
    Type: Custom::BackupOrgPolicy
    Properties:
      PolicyName: p
      PolicyTargest: [r-a1b2]
      PolicyContent:
        S3: {PolicyBucket: policies, PolicyKey: daily.json}
`,
			opts: policysource.Options{Content: map[string]string{"s3://policies/daily.json": "testdata/typo.json"}},
			// The local copy's own lines: a string content counts from
			// the property (typo.json line 9).
			want: []at{{6, 7, "error", "PolicyTargest"}, {7, 7, "error", "lifecyle"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := policysource.Read(writeTemplate(t, tt.template), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			p := f.Policies[0]
			var mentions []string
			for _, w := range tt.want {
				mentions = append(mentions, w.Mentions)
			}
			if diff := cmp.Diff(tt.want, problemsAt(t, p.Problems, mentions)); diff != "" {
				t.Errorf("problems (-want +got):\n%s\n%+v", diff, p.Problems)
			}
			if p.Document != "" || p.Root != nil {
				t.Errorf("a policy with wrong properties rendered for use: %q", p.Document)
			}
		})
	}
}

// TestS3Content: a PolicyContent in S3 is needed offline as a local copy
// (--content-file); given, it is rendered like inline content.
func TestS3Content(t *testing.T) {
	t.Parallel()
	path := writeTemplate(t, `Resources:
  P:
    Type: Custom::BackupOrgPolicy
    Properties:
      PolicyName: p
      PolicyContent:
        S3: {PolicyBucket: policies, PolicyKey: daily.json}
`)
	_, err := policysource.Read(path, policysource.Options{})
	var uv *policysource.UnknownValuesError
	if !errors.As(err, &uv) || !strings.Contains(err.Error(), "--content-file s3://policies/daily.json=PATH") || uv.Values[0].Line != 6 {
		t.Fatalf("err %v, want the S3 object named with --content-file, line 6", err)
	}
	f, err := policysource.Read(path, policysource.Options{Content: map[string]string{"s3://policies/daily.json": "testdata/typo.json"}})
	if err != nil {
		t.Fatal(err)
	}
	if ps := f.Policies[0].Problems; len(ps) != 1 || !strings.Contains(ps[0].Message, "lifecyle") {
		t.Errorf("problems %+v, want the local copy's misspelt key", ps)
	}
}

// TestJSONPolicy: a policy file is checked as is; problems are at its own
// lines and columns, a syntax error too.
func TestJSONPolicy(t *testing.T) {
	t.Parallel()
	f, err := policysource.Read("testdata/typo.json", policysource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := f.Policies[0]
	if diff := cmp.Diff([]at{{9, 11, "error", "lifecyle"}}, problemsAt(t, p.Problems, []string{"lifecyle"})); diff != "" || p.Document != "" {
		t.Errorf("problems (-want +got):\n%s\ndocument %q", diff, p.Document)
	}

	path := filepath.Join(t.TempDir(), "broken.json")
	if err := os.WriteFile(path, []byte("{\n  \"plans\": {\n    \"p\": {,}\n  }\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err = policysource.Read(path, policysource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := f.Policies[0].Problems
	if len(got) != 1 || got[0].Rule != "json-syntax" || got[0].Line != 3 || got[0].Column != 11 {
		t.Errorf("problems %+v, want a json-syntax error at 3:11", got)
	}
}

func TestNotReadable(t *testing.T) {
	t.Parallel()
	_, err := policysource.Read("testdata/absent.json", policysource.Options{})
	var ie *policysource.InputError
	if !errors.As(err, &ie) || ie.File != "testdata/absent.json" {
		t.Errorf("err %v, want an InputError naming the file", err)
	}
	path := writeTemplate(t, "Resources: [\n")
	if _, err := policysource.Read(path, policysource.Options{}); !errors.As(err, &ie) {
		t.Errorf("err %v, want an InputError for bad YAML", err)
	}
}

// TestLocateWarnings: Locate maps a rendered position into the template,
// for positions the caller gets from other checks (the effective policy's
// ignored operators).
func TestLocate(t *testing.T) {
	t.Parallel()
	f, err := policysource.Read("testdata/templates.yaml", withRegions)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := f.Policy("Daily")
	rules := p.Root.Get("plans").Get("daily").Get("rules")
	line, col := p.Locate(rules.Get("nightly").Get("schedule_expression").Pos, "plans.daily.rules.nightly.schedule_expression")
	if line != 39 || col != 17 {
		t.Errorf("schedule_expression at %d:%d, want 39:17 (its key: the value is a mapping)", line, col)
	}
	// PolicyRegions made the regions: they are the property's.
	line, _ = p.Locate(backuppolicy.Position{}, "plans.daily.regions")
	if line != 30 {
		t.Errorf("regions at line %d, want 30 (PolicyRegions)", line)
	}
}
