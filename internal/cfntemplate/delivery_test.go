package cfntemplate_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/cfntemplate"
)

// TestPipelineStages: the pipeline runs the stages in the documented order,
// each build with its buildspec, and, with RequireApprovalBeforeOrgPolicies,
// a manual approval runs before the org policies are deployed.
func TestPipelineStages(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "cfn", "pipeline.yaml"))
	pipeline, ok := tpl.Resource("Pipeline")
	if !ok {
		t.Fatal("no Pipeline resource")
	}
	if pipeline.Properties["PipelineType"] != "V2" {
		t.Errorf("PipelineType %v, want V2", pipeline.Properties["PipelineType"])
	}
	for _, approval := range []string{"true", "false"} {
		d := cfntemplate.Deployment{
			Parameters: map[string]string{"RequireApprovalBeforeOrgPolicies": approval, "CodeBucketPrefix": "code", "DeployRegions": "us-east-1"},
			Pseudo:     stack("backup-as-code-pipeline", "1c2fa620-982a-11e3-aff7-50e2416294e0"),
		}
		v, err := tpl.Evaluate(map[string]any{"Fn::If": []any{"RequireApproval", "yes", "no"}}, d)
		if err != nil || v != map[bool]string{true: "yes", false: "no"}[approval == "true"] {
			t.Fatalf("condition RequireApproval with %s: %v %v", approval, v, err)
		}
		stages, _ := pipeline.Properties["Stages"].([]any)
		var names, order []string
		for _, s := range stages {
			m, _ := s.(map[string]any)
			names = append(names, m["Name"].(string))
			if m["Name"] != "DeployOrgPolicies" {
				continue
			}
			for _, a := range m["Actions"].([]any) {
				am := a.(map[string]any)
				// An action under Fn::If: the branch the condition picks.
				if branches, ok := am["Fn::If"].([]any); ok {
					on, err := tpl.Evaluate(map[string]any{"Fn::If": []any{branches[0], true, false}}, d)
					if err != nil {
						t.Fatal(err)
					}
					am, _ = branches[map[bool]int{true: 1, false: 2}[on == true]].(map[string]any)
					if am["Ref"] == "AWS::NoValue" {
						continue
					}
				}
				typ := am["ActionTypeId"].(map[string]any)
				order = append(order, fmt.Sprint(am["RunOrder"])+":"+fmt.Sprint(typ["Category"]))
			}
		}
		if want := []string{"Source", "Validate", "TestAndPackage", "DeployHome", "DeployStackSets", "DeployOrgPolicies"}; !cmp.Equal(names, want) {
			t.Errorf("stages %v, want %v", names, want)
		}
		want := []string{"2:Build"}
		if approval == "true" {
			want = []string{"1:Approval", "2:Build"}
		}
		if !cmp.Equal(order, want) {
			t.Errorf("approval %s: org policies stage runs %v, want %v", approval, order, want)
		}
	}
	var specs []string
	for _, f := range tpl.FileReferences() {
		specs = append(specs, f.Path)
	}
	slices.Sort(specs)
	specs = slices.Compact(specs)
	if want := []string{"buildspecs/deploy.yml", "buildspecs/test-package.yml", "buildspecs/validate.yml"}; !cmp.Equal(specs, want) {
		t.Errorf("the projects' buildspecs %v, want %v", specs, want)
	}
}

var (
	pinnedAction = regexp.MustCompile(`^[\w.-]+/[\w./-]+@[0-9a-f]{40}$`)
	repoPath     = regexp.MustCompile(`\b(?:buildspecs|cfn)/[\w.-]+\.(?:sh|ya?ml|txt)\b|\btemplate\.yaml\b|\bsamconfig\.toml\b`)
)

// TestWorkflows: the GitHub Actions workflows assume AWS roles through OIDC
// only (no access keys), with id-token: write only in the jobs that do,
// every action pinned to a full commit SHA (a tag can be moved), and every
// repository file their scripts name exists. actionlint (make
// lint-workflows) checks the syntax.
func TestWorkflows(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows (%v)", err)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		wf, err := cfntemplate.Parse(path, data)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		if perms := jsonOf(wf.Doc["permissions"]); perms != `{"contents":"read"}` {
			t.Errorf("%s: workflow permissions %s, want only contents: read", name, perms)
		}
		jobs, _ := wf.Doc["jobs"].(map[string]any)
		assumes := 0
		for id, j := range jobs {
			job, _ := j.(map[string]any)
			steps, _ := job["steps"].([]any)
			usesAWS := false
			for _, s := range steps {
				step, _ := s.(map[string]any)
				if uses, ok := step["uses"].(string); ok {
					if !pinnedAction.MatchString(uses) {
						t.Errorf("%s job %s: %s is not pinned to a full commit SHA", name, id, uses)
					}
					if strings.HasPrefix(uses, "aws-actions/configure-aws-credentials@") {
						usesAWS = true
						with := jsonOf(step["with"])
						if !strings.Contains(with, "role-to-assume") || strings.Contains(with, "aws-access-key-id") || strings.Contains(with, "aws-secret-access-key") {
							t.Errorf("%s job %s: credentials %s, want role-to-assume (OIDC) and no keys", name, id, with)
						}
					}
				}
				run, _ := step["run"].(string)
				for _, f := range repoPath.FindAllString(run, -1) {
					if _, err := os.Stat(filepath.Join(root, f)); err != nil {
						t.Errorf("%s job %s runs %s, which is not in the repository", name, id, f)
					}
				}
			}
			perms := jsonOf(job["permissions"])
			if usesAWS {
				assumes++
				if perms != `{"contents":"read","id-token":"write"}` {
					t.Errorf("%s job %s assumes a role with permissions %s, want id-token: write, contents: read", name, id, perms)
				}
			} else if strings.Contains(perms, "id-token") {
				t.Errorf("%s job %s asks for an OIDC token it does not use", name, id)
			}
		}
		if assumes == 0 {
			t.Errorf("%s: no job assumes an AWS role", name)
		}
	}
}

// TestStackSetParameters: each StackSet passes only parameters its template
// declares, and every parameter of the template without a default
// (CloudFormation fails the operation otherwise: "Parameters: [...] do not
// exist in the template" / "must have values"); the template is plain
// CloudFormation, since service-managed StackSets take no transforms.
func TestStackSetParameters(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "cfn", "stacksets.yaml"))
	checked := 0
	for _, r := range tpl.Resources() {
		if r.Type != "AWS::CloudFormation::StackSet" {
			continue
		}
		file, _ := r.Metadata["TemplateFile"].(string)
		if file == "" {
			t.Errorf("%s: no Metadata.TemplateFile naming the template it deploys", r.LogicalID)
			continue
		}
		if _, err := os.Stat(filepath.Join(root, file)); err != nil {
			continue // TestTemplatesNameExistingFiles reports it
		}
		checked++
		member := load(t, filepath.Join(root, file))
		if member.Doc["Transform"] != nil {
			t.Errorf("%s: %s has a Transform", r.LogicalID, file)
		}
		declared := member.Section("Parameters")
		given := map[string]bool{}
		params, _ := r.Properties["Parameters"].([]any)
		for _, p := range params {
			key, _ := p.(map[string]any)["ParameterKey"].(string)
			given[key] = true
			if _, ok := declared[key]; !ok {
				t.Errorf("%s passes %s, which %s does not declare", r.LogicalID, key, file)
			}
		}
		for name, p := range declared {
			if _, hasDefault := p.(map[string]any)["Default"]; !hasDefault && !given[name] {
				t.Errorf("%s does not pass %s, which %s requires (no default)", r.LogicalID, name, file)
			}
		}
	}
	if checked == 0 {
		t.Error("no StackSet template checked")
	}
}

// TestStackSetOperationPreferences: every StackSet runs its operations at
// MaxConcurrentPercentage whatever the failure tolerance. With the default
// ConcurrencyMode STRICT_FAILURE_TOLERANCE the concurrency is the lower of
// MaxConcurrent and FailureTolerance+1 (CloudFormation API Reference,
// StackSetOperationPreferences, ConcurrencyMode): 10 % tolerance would cap
// the 25 %.
func TestStackSetOperationPreferences(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "cfn", "stacksets.yaml"))
	n := 0
	for _, r := range tpl.Resources() {
		if r.Type != "AWS::CloudFormation::StackSet" {
			continue
		}
		n++
		prefs, _ := r.Properties["OperationPreferences"].(map[string]any)
		if prefs["ConcurrencyMode"] != "SOFT_FAILURE_TOLERANCE" {
			t.Errorf("%s: ConcurrencyMode %v, want SOFT_FAILURE_TOLERANCE", r.LogicalID, prefs["ConcurrencyMode"])
		}
	}
	if n != 3 {
		t.Errorf("%d StackSets, want 3", n)
	}
}

// TestAuditFrameworkControlsByRegion: in the Region the copies go to (the
// central vault's, passed as CrossRegionList) a copy is not cross-Region,
// so the cross-Region control, which would always report NON_COMPLIANT
// there, is left out; everywhere else all seven controls are deployed.
func TestAuditFrameworkControlsByRegion(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "cfn", "audit-framework.yaml"))
	framework, _ := tpl.Resource("Framework")
	all := []string{
		"BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN", "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
		"BACKUP_RECOVERY_POINT_ENCRYPTED", "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED",
		"BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK", "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION",
		"BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT",
	}
	withoutCrossRegion := slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION" })
	for _, c := range []struct {
		region, list string
		want         []string
	}{
		{"eu-west-1", "us-east-1", all},
		{"us-east-1", "us-east-1", withoutCrossRegion},
		{"us-east-1", "us-east-1,eu-west-1", all},
	} {
		pseudo := stack("audit", "u")
		pseudo["AWS::Region"] = c.region
		v, err := tpl.Evaluate(framework.Properties["FrameworkControls"], cfntemplate.Deployment{
			Parameters: map[string]string{"OrganizationId": "o-a1b2c3d4e5", "CrossRegionList": c.list, "CrossAccountList": "333333333333"},
			Pseudo:     pseudo,
		})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ctl := range v.([]any) {
			got = append(got, ctl.(map[string]any)["ControlName"].(string))
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("in %s with CrossRegionList %s, controls (-want +got):\n%s", c.region, c.list, diff)
		}
	}
}

// TestAuditFrequencyRule: requiredFrequencyValue is at most 24 for hours
// and 31 for days (AWS Config Developer Guide,
// backup-plan-min-frequency-and-min-retention-check); the parameters bound
// it to 1-31 and the template's rule refuses 25-31 hours before anything
// is deployed.
func TestAuditFrequencyRule(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "cfn", "audit-framework.yaml"))
	rule, ok := tpl.Section("Rules")["FrequencyValueFitsUnit"].(map[string]any)
	if !ok {
		t.Fatal("no rule FrequencyValueFitsUnit")
	}
	assertion := rule["Assertions"].([]any)[0].(map[string]any)["Assert"]
	for _, c := range []struct {
		unit, value string
		want        bool
	}{
		{"hours", "1", true}, {"hours", "24", true}, {"hours", "25", false}, {"hours", "31", false},
		{"days", "31", true}, {"days", "1", true},
	} {
		got, err := tpl.Evaluate(assertion, cfntemplate.Deployment{Parameters: map[string]string{"RequiredFrequencyUnit": c.unit, "RequiredFrequencyValue": c.value}})
		if err != nil || got != c.want {
			t.Errorf("%s %s: rule %v (%v), want %v", c.value, c.unit, got, err, c.want)
		}
	}
	p := tpl.Section("Parameters")["RequiredFrequencyValue"].(map[string]any)
	if fmt.Sprintf("%v-%v", p["MinValue"], p["MaxValue"]) != "1-31" {
		t.Errorf("RequiredFrequencyValue bounds %v-%v, want 1-31", p["MinValue"], p["MaxValue"])
	}
}

// TestCodeBucketPrefixHasNoDots: the StackSets read their templates by
// virtual-hosted-style HTTPS URL (https://<prefix>-<region>.s3.<region>...),
// and a dotted bucket name does not match S3's wildcard certificate (Amazon
// S3 User Guide, "General purpose bucket naming rules"): every template
// that takes the code buckets' prefix refuses dots.
func TestCodeBucketPrefixHasNoDots(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ file, param string }{
		{"code-buckets.yaml", "BucketPrefix"},
		{"stacksets.yaml", "CodeBucketPrefix"},
		{"member-tag-reapplier.yaml", "CodeBucketPrefix"},
		{"pipeline.yaml", "CodeBucketPrefix"},
	} {
		tpl := load(t, filepath.Join(root, "cfn", c.file))
		p, _ := tpl.Section("Parameters")[c.param].(map[string]any)
		re, err := regexp.Compile(fmt.Sprint(p["AllowedPattern"]))
		if err != nil {
			t.Fatalf("%s %s: %v", c.file, c.param, err)
		}
		for prefix, want := range map[string]bool{"backup-as-code-code-222222222222": true, "my.code.bucket": false, "a": false} {
			if re.MatchString(prefix) != want {
				t.Errorf("%s %s accepts %q: %v, want %v", c.file, c.param, prefix, !want, want)
			}
		}
	}
}

// TestPipelineConnectionArn: the pipeline takes the connection's ARN as it
// is: connections created before the CodeStar Connections rename keep
// their codestar-connections ARN, newer ones have codeconnections (AWS
// CodeConnections User Guide); the source action and the pipeline role use
// that ARN, whichever it is.
func TestPipelineConnectionArn(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "cfn", "pipeline.yaml"))
	p, _ := tpl.Section("Parameters")["ConnectionArn"].(map[string]any)
	re := regexp.MustCompile(fmt.Sprint(p["AllowedPattern"]))
	for arn, want := range map[string]bool{
		"arn:aws:codeconnections:us-east-1:222222222222:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d":      true,
		"arn:aws:codestar-connections:us-east-1:222222222222:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d": true,
		"":                                     true,
		"0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d": false,
	} {
		if re.MatchString(arn) != want {
			t.Errorf("ConnectionArn pattern on %q: %v, want %v", arn, !want, want)
		}
	}
	const old = "arn:aws:codestar-connections:us-east-1:222222222222:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
	d := cfntemplate.Deployment{
		Parameters: map[string]string{"ConnectionArn": old, "FullRepositoryId": "o/r", "CodeBucketPrefix": "code", "DeployRegions": "us-east-1"},
		Pseudo:     stack("backup-as-code-pipeline", "1c2fa620-982a-11e3-aff7-50e2416294e0"),
	}
	pipeline, _ := tpl.Resource("Pipeline")
	source, err := tpl.Evaluate(pipeline.Properties["Stages"].([]any)[0], d)
	if err != nil {
		t.Fatal(err)
	}
	action := source.(map[string]any)["Actions"].([]any)[0].(map[string]any)
	if got := action["Configuration"].(map[string]any)["ConnectionArn"]; got != old {
		t.Errorf("source ConnectionArn %v, want %s", got, old)
	}
	// The role's connection statement (its other statements name
	// resources of the stack, known only at deploy time).
	var statements []any
	for _, st := range tpl.PolicyStatements() {
		if st.Resource == "PipelineRole" && st.Body["Sid"] == "SourceConnection" {
			v, err := tpl.Evaluate(st.Body, d)
			if err != nil {
				t.Fatal(err)
			}
			statements = append(statements, v)
		}
	}
	if ok, err := cfntemplate.Allowed(statements, cfntemplate.Request{Action: "codestar-connections:UseConnection", Resource: old}); err != nil || !ok {
		t.Errorf("the pipeline role may not use %s: %v %v", old, ok, err)
	}
}

// TestPrimaryRegionCheck: buildspecs/check-primary-region.sh, run by
// package-stacksets.sh before anything is uploaded, refuses a primary
// Region outside the target Regions (no account would get the AWS Backup
// role, which only the primary Region's member stack creates), naming both.
func TestPrimaryRegionCheck(t *testing.T) {
	t.Parallel()
	script, err := filepath.Abs(filepath.Join(root, "buildspecs", "check-primary-region.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		targets, primary string
		ok               bool
	}{
		{"us-east-1,eu-west-1", "eu-west-1", true},
		{"us-east-1", "us-east-1", true},
		{"us-east-1,eu-west-1", "eu-west-2", false},
		{"us-east-1,eu-west-1", "", false},
		{"us-east-1,eu-west-1", "us-east", false},
	} {
		out, err := exec.Command(script, c.targets, c.primary).CombinedOutput()
		if (err == nil) != c.ok {
			t.Errorf("targets %s, primary %q: error %v, want ok %v (%s)", c.targets, c.primary, err, c.ok, out)
		}
		if !c.ok && (!strings.Contains(string(out), "/backup-as-code/primary-region") || !strings.Contains(string(out), c.targets)) {
			t.Errorf("targets %s, primary %q: message %q does not name the parameter and the target Regions", c.targets, c.primary, out)
		}
	}
	pkg, err := os.ReadFile(filepath.Join(root, "buildspecs", "package-stacksets.sh"))
	if err != nil {
		t.Fatal(err)
	}
	check, upload := strings.Index(string(pkg), "check-primary-region.sh\" "), strings.Index(string(pkg), "put-object")
	if check < 0 || upload < 0 || check > upload {
		t.Error("package-stacksets.sh does not run check-primary-region.sh before uploading")
	}
}
