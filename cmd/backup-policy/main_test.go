package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// orgPoliciesParameters are the SSM values cfn/org-policies.yaml reads at
// deploy time, given on the command line.
var orgPoliciesParameters = []string{
	"--parameter", "TargetOuIds=ou-a1b2-prod0001,ou-a1b2-dev00001",
	"--parameter", "TargetRegions=us-east-1,eu-west-1",
	"--parameter", "CentralVaultArn=arn:aws:backup:us-east-1:333333333333:backup-vault:central-backup-vault",
	"--parameter", "OrganizationId=o-a1b2c3d4e5",
}

// earlierSolutionParameters are the SSM values of the earlier solution's
// aws-backup-org-policy.yaml.
var earlierSolutionParameters = []string{
	"--parameter", "pOrgBackupTargetOUs=ou-a1b2-prod0001",
	"--parameter", "pRegions=us-east-1,eu-west-1",
	"--parameter", "pCentralBackupVaultArn=arn:aws:backup:us-east-1:333333333333:backup-vault:AWSBackupSolutionCentralVault",
}

// TestEffectiveJSON: --format json prints exactly the effective document,
// operator-free, with the values each level set.
func TestEffectiveJSON(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := run([]string{"effective", "--org", "../../examples/org.yaml", "--account", "333333333333", "--format", "json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var doc struct {
		Plans map[string]struct {
			Regions []string `json:"regions"`
			Rules   map[string]struct {
				Lifecycle map[string]any `json:"lifecycle"`
			} `json:"rules"`
		} `json:"plans"`
	}
	if strings.Contains(stdout.String(), `"@@`) {
		t.Errorf("effective document keeps operators:\n%s", stdout.String())
	}
	var loose map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &loose); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	got := doc.Plans["org-daily"].Rules["daily"].Lifecycle["delete_after_days"]
	if got != "7" {
		t.Errorf("sandbox daily retention = %v, want the Sandbox OU's \"7\" over the root's", got)
	}
	if len(doc.Plans["org-daily"].Regions) == 0 {
		t.Errorf("regions inherited from the root are missing: %s", stdout.String())
	}
}

// TestBinary builds the command and runs it as a user does, from the
// repository root, checking exit codes and output.
func TestBinary(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "backup-policy")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tests := []struct {
		name   string
		args   []string
		exit   int
		stdout []string // substrings
		stderr []string
	}{
		{"examples validate", []string{"validate", "examples/policies/root-daily.json", "examples/policies/prod-monthly.json"}, 0, []string{"0 errors, 0 warnings in 2 files (2 policies)"}, nil},
		{"typo", []string{"validate", "cmd/backup-policy/testdata/typo.json"}, 1, []string{"cmd/backup-policy/testdata/typo.json:9:11", `unknown key "lifecyle"`, "1 error"}, nil},
		// A wrong property does not hide the document's own problems.
		{"misspelt property and typo", []string{"validate", "cmd/backup-policy/testdata/misspelt-and-typo.yaml"}, 1,
			[]string{"misspelt-and-typo.yaml:7:7    error     property     Daily: PolicyTargest", "did you mean PolicyTargets?",
				`misspelt-and-typo.yaml:17:17  error     unknown-key  Daily: plans.daily.rules.nightly  unknown key "lifecyle"`, "2 errors, 0 warnings in 1 file (1 policy)"}, nil},
		{"org-policies with values", append([]string{"validate", "cfn/org-policies.yaml"}, orgPoliciesParameters...), 0, []string{"0 errors, 0 warnings in 1 file (4 policies)"}, nil},
		{"org-policies without values", []string{"validate", "cfn/org-policies.yaml"}, 2, nil, []string{"cfn/org-policies.yaml:91:7: DailyBackupPolicy.PolicyTargets: SSM parameter TargetOuIds", "--parameter 'TargetOuIds=VALUE'"}},
		{"conditions skip", append([]string{"validate", "cfn/org-policies.yaml", "--parameter", "DeployServiceControlPolicies=false"}, orgPoliciesParameters...), 0, []string{"skipped cfn/org-policies.yaml:", "KeepBackupsInOrganizationScp (Custom::BackupOrgPolicy): condition DeployServiceControlPolicies is false", "(2 policies)"}, nil},
		{"render", append([]string{"render", "cfn/org-policies.yaml", "--resource", "DailyBackupPolicy"}, orgPoliciesParameters...), 0, []string{`"regions":{"@@assign":["us-east-1","eu-west-1"]}`, `"target_backup_vault_name":{"@@assign":"org-backup-vault"}`}, nil},
		{"render needs a resource", append([]string{"render", "cfn/org-policies.yaml"}, orgPoliciesParameters...), 2, nil, []string{"defines 4 policies", "#LogicalId"}},
		{"render an error", []string{"render", "cmd/backup-policy/testdata/typo.json"}, 1, nil, []string{"typo.json:9:11"}},
		{"usage: no file", []string{"validate"}, 2, nil, []string{"name at least one FILE"}},
		{"usage: unknown command", []string{"frobnicate"}, 2, nil, []string{`unknown command "frobnicate"`}},
		{"usage: bad flag", []string{"validate", "--colour", "x.json"}, 2, nil, []string{"flag provided but not defined: -colour"}},
		{"usage: bad format", []string{"validate", "--format", "xml", "x.json"}, 2, nil, []string{`--format "xml"`}},
		{"input: missing file", []string{"validate", "absent.json"}, 2, nil, []string{"absent.json: no such file or directory"}},
		// Warnings are printed and exit 0, unless --strict.
		{"validate: warnings", []string{"validate", "cmd/backup-policy/testdata/warnings.json"}, 0,
			[]string{"warnings.json:11:47  warning   cold-storage-retention", "warnings.json:15:44  warning   archived-key", "0 errors, 2 warnings in 1 file"}, nil},
		{"validate --strict: warnings fail", []string{"validate", "--strict", "cmd/backup-policy/testdata/warnings.json"}, 1, []string{"0 errors, 2 warnings"}, nil},
		// The earlier solution's template (AWS::Organizations::Policy,
		// Fn::ToJsonString): valid once its copy-action placeholder is
		// replaced as its comment says; as published, both policies fail.
		{"validate: earlier solution, configured", append([]string{"validate", "cmd/backup-policy/testdata/earlier-solution/aws-backup-org-policy-configured.yaml"}, earlierSolutionParameters...), 0,
			[]string{"0 errors, 0 warnings in 1 file (2 policies)"}, nil},
		{"validate: earlier solution, as published", append([]string{"validate", "cmd/backup-policy/testdata/earlier-solution/aws-backup-org-policy.yaml"}, earlierSolutionParameters...), 1,
			[]string{"aws-backup-org-policy.yaml:95:21   error     copy-action-key", "aws-backup-org-policy.yaml:155:21  error     copy-action-key", "2 errors, 0 warnings"}, nil},
		// An effective policy AWS would call invalid exits 1: the syntax
		// page's Example 5 parent alone.
		{"effective: invalid effective policy", []string{"effective", "pkg/backuppolicy/testdata/aws-examples/cur-ex5-parent.json"}, 1,
			[]string{"invalid: plans.pii_backup_plan.rules.hourly.lifecycle.delete_after_days", "(cold-storage-retention)"}, nil},
		{"effective: fixed by the child", []string{"effective", "pkg/backuppolicy/testdata/aws-examples/cur-ex5-parent.json", "pkg/backuppolicy/testdata/aws-examples/cur-ex5-child.json"}, 0,
			[]string{`"delete_after_days": "365"`}, nil},
		// An OU's gaps may be filled below it: a note, exit 0; its
		// account, complete, exits 0 too.
		{"effective: an incomplete OU", []string{"effective", "--org", "cmd/backup-policy/testdata/partial-org.yaml", "--account", "ou-a1b2-apps0001"}, 0,
			[]string{"note: an account with no policies of its own would inherit this as invalid: plans.daily: the effective policy has no regions (effective-incomplete)"}, nil},
		{"effective: its complete account", []string{"effective", "--org", "cmd/backup-policy/testdata/partial-org.yaml", "--account", "111111111111"}, 0,
			[]string{`"eu-west-1"`}, nil},
		{"help", []string{"validate", "--help"}, 0, nil, []string{"Example:", "--parameter", "ImportValue:EXPORT=VALUE", "Exit status"}},
		{"help command", []string{"help"}, 0, []string{"validate", "render", "effective", "check"}, nil},
		// The seeded violation of examples/org.yaml, and nothing else.
		{"check examples", []string{"check", "--org", "examples/org.yaml", "--framework", "examples/framework.yaml"}, 1,
			[]string{"333333333333  org-daily  daily  BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK  ≥ 35 days  7 days", "1 finding in 4 accounts, 3 controls checked"}, nil},
		{"check the deployment", append([]string{"check", "--org", "org.yaml", "--framework", "cfn/audit-framework.yaml",
			"--parameter", "CrossRegionList=us-east-1", "--parameter", "CrossAccountList=333333333333"}, orgPoliciesParameters...), 0,
			[]string{"0 findings in 1 account, 5 controls checked", "not checkable offline: BACKUP_RECOVERY_POINT_ENCRYPTED"}, nil},
		// The plans run in the central vault's Region too, where the
		// template leaves the cross-Region control out: only the other
		// Regions' backups need a copy elsewhere.
		{"check: plans in the vault's Region", []string{"check", "--org", "org.yaml", "--framework", "cfn/audit-framework.yaml",
			"--parameter", "TargetOuIds=ou-a1b2-prod0001", "--parameter", "TargetRegions=us-east-1,us-west-2",
			"--parameter", "CentralVaultArn=arn:aws:backup:us-west-2:999999999999:backup-vault:central",
			"--parameter", "OrganizationId=o-a1b2c3d4e5", "--parameter", "CrossRegionList=us-west-2", "--parameter", "CrossAccountList=999999999999"}, 0,
			[]string{"0 findings in 1 account, 5 controls checked"}, nil},
		{"check: --region names the one Region", []string{"check", "--org", "org.yaml", "--framework", "cfn/audit-framework.yaml", "--region", "us-west-2",
			"--parameter", "TargetOuIds=ou-a1b2-prod0001", "--parameter", "TargetRegions=us-east-1,us-west-2",
			"--parameter", "CentralVaultArn=arn:aws:backup:us-west-2:999999999999:backup-vault:central",
			"--parameter", "OrganizationId=o-a1b2c3d4e5", "--parameter", "CrossRegionList=us-west-2", "--parameter", "CrossAccountList=999999999999"}, 0,
			[]string{"0 findings in 1 account, 4 controls checked"}, nil},
		{"check needs a framework", []string{"check", "--org", "examples/org.yaml"}, 2, nil, []string{"needs --org and --framework"}},
		{"check: unknown account file", []string{"check", "--org", "absent.yaml", "--framework", "examples/framework.yaml"}, 2, nil, []string{"absent.yaml"}},
		{"effective of nodes", []string{"effective", "examples/policies/root-daily.json", "examples/policies/sandbox-short-retention.json"}, 0, []string{`"delete_after_days": "7"`, `"target_backup_vault_name": "org-backup-vault"`}, nil},
		{"effective: not an account", []string{"effective", "--org", "examples/org.yaml", "--account", "555555555555"}, 2, nil, []string{"555555555555 is not an account or OU of examples/org.yaml"}},
		{"effective: no nodes", []string{"effective"}, 2, nil, []string{"name the policies of each node"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(bin, tt.args...)
			cmd.Dir = filepath.Join("..", "..")
			cmd.Env = append(cmd.Environ(), "NO_COLOR=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.exit {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.exit, &stdout, &stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, &stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, &stderr)
				}
			}
		})
	}
}

// TestJSONOutput: --format json decodes into the documented schema, with
// the finding's file, position, path, rule, severity and message.
func TestJSONOutput(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := run([]string{"validate", "--format", "json", "testdata/typo.json"}, &stdout, &stderr)
	if code != exitFindings {
		t.Fatalf("exit %d: %s", code, &stderr)
	}
	var got struct {
		Findings []struct {
			File     string `json:"file"`
			Line     int    `json:"line"`
			Column   int    `json:"column"`
			Path     string `json:"path"`
			Rule     string `json:"rule"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
		} `json:"findings"`
		Skipped  []json.RawMessage `json:"skipped"`
		Errors   int               `json:"errors"`
		Warnings int               `json:"warnings"`
	}
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got.Findings) != 1 || got.Errors != 1 || got.Skipped == nil {
		t.Fatalf("%+v", got)
	}
	f := got.Findings[0]
	if f.File != "testdata/typo.json" || f.Line != 9 || f.Column != 11 || f.Path != "plans.daily.rules.nightly" || f.Severity != "error" || f.Rule == "" || !strings.Contains(f.Message, "lifecyle") {
		t.Errorf("finding %+v", f)
	}
}

// TestEffectiveTagPolicy: JSON files are of the type --type names, so the
// User Guide's tag policy example A (root) and B (OU) merge to its
// documented effective policy.
func TestEffectiveTagPolicy(t *testing.T) {
	t.Parallel()
	dir := "../../pkg/backuppolicy/testdata/effective/tag-ex1-assign/"
	var stdout, stderr bytes.Buffer
	code := run([]string{"effective", "--type", "TAG_POLICY", "--format", "json", dir + "A.json", dir + "B.json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var got, want any
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("stdout: %v\n%s", err, stdout.String())
	}
	data, err := os.ReadFile(dir + "effective.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("effective tag policy (-want +got):\n%s", diff)
	}
}
