package cfntemplate_test

import (
	"fmt"
	"os"
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
