package cfntemplate_test

import (
	"bufio"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/internal/cfntemplate"
	"github.com/backup-as-code/orgbackup/pkg/customresource"
)

const root = "../.."

// functions are the template's functions and the role name their code runs
// as in the tests (the session ARNs the tests sign with).
var functions = map[string]string{
	"BackupOrgPolicyManagerFunction": "backup-org-policy-manager",
	"TagReapplierFunction":           "tag-reapplier",
}

func TestSAMTemplateIsValid(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "template.yaml"))
	if !tpl.IsSAM() {
		t.Error("template.yaml does not use the AWS::Serverless transform")
	}
	for _, p := range tpl.ValidateSchemas() {
		t.Errorf("schema: %s", p)
	}
	for _, p := range tpl.CheckReferences() {
		t.Errorf("reference: %s", p)
	}
	for name, p := range tpl.Section("Parameters") {
		if m, _ := p.(map[string]any); m["Description"] == nil {
			t.Errorf("parameter %s has no Description", name)
		}
	}
}

// withGlobals returns a function's properties with Globals.Function applied,
// the way SAM merges them.
func withGlobals(tpl *cfntemplate.Template, r cfntemplate.Resource) map[string]any {
	out := map[string]any{}
	if g, ok := tpl.Section("Globals")["Function"].(map[string]any); ok {
		maps.Copy(out, g)
	}
	for k, v := range r.Properties {
		if gm, ok := out[k].(map[string]any); ok {
			if vm, ok := v.(map[string]any); ok {
				merged := maps.Clone(gm)
				maps.Copy(merged, vm)
				v = merged
			}
		}
		out[k] = v
	}
	return out
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestSAMTemplateShape checks what SPEC §5 asks of the packaging.
func TestSAMTemplateShape(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "template.yaml"))
	var fns []string
	for _, r := range tpl.Resources() {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		fns = append(fns, r.LogicalID)
		p := withGlobals(tpl, r)
		checks := map[string][2]string{
			"Runtime":          {jsonOf(p["Runtime"]), `"provided.al2023"`},
			"Architectures":    {jsonOf(p["Architectures"]), `["arm64"]`},
			"Handler":          {jsonOf(p["Handler"]), `"bootstrap"`},
			"Tracing":          {jsonOf(p["Tracing"]), `"Active"`},
			"BuildMethod":      {jsonOf(r.Metadata["BuildMethod"]), `"makefile"`},
			"AutoPublishAlias": {jsonOf(p["AutoPublishAlias"]), `"live"`},
		}
		for what, c := range checks {
			if c[0] != c[1] {
				t.Errorf("%s %s = %s, want %s", r.LogicalID, what, c[0], c[1])
			}
		}
		logging, _ := p["LoggingConfig"].(map[string]any)
		if logging["LogFormat"] != "JSON" {
			t.Errorf("%s logs are not JSON", r.LogicalID)
		}
		lg, _ := logging["LogGroup"].(map[string]any)
		group, ok := tpl.Resource(fmt.Sprint(lg["Ref"]))
		if !ok || group.Type != "AWS::Logs::LogGroup" || group.Properties["RetentionInDays"] == nil {
			t.Errorf("%s does not log to an explicit log group with a retention", r.LogicalID)
		}
		dp, _ := p["DeploymentPreference"].(map[string]any)
		alarms, _ := dp["Alarms"].([]any)
		if jsonOf(dp["Type"]) != `{"Ref":"DeploymentPreferenceType"}` || len(alarms) == 0 {
			t.Errorf("%s DeploymentPreference %s: want the parameter's type and an error alarm", r.LogicalID, jsonOf(dp))
		}
		watched := map[string]bool{}
		for _, a := range alarms {
			alarm, ok := tpl.Resource(fmt.Sprint(a.(map[string]any)["Ref"]))
			switch {
			case ok && alarm.Properties["MetricName"] == "Errors" && strings.Contains(jsonOf(alarm.Properties["Dimensions"]), r.LogicalID+"}:live"):
				watched["Errors"] = true
			case ok && alarm.Properties["Namespace"] == "BackupAsCode/PolicyManager" && alarm.Properties["MetricName"] == customresource.MetricFailedRequests &&
				jsonOf(alarm.Properties["Dimensions"]) == `[{"Name":"FunctionName","Value":{"Ref":"`+r.LogicalID+`"}}]` && alarm.Properties["Statistic"] == "Sum":
				// The metric the function's EMF records carry
				// (functions/backup-org-policy-manager TestBootstrapTrust).
				watched["FailedRequests"] = true
			default:
				t.Errorf("%s alarm %v watches neither the live alias's errors nor the function's FailedRequests", r.LogicalID, a)
			}
		}
		if !watched["Errors"] {
			t.Errorf("%s: no alarm on the live alias's errors", r.LogicalID)
		}
		// A custom resource's version that answers FAILED to everything
		// still succeeds as an invocation: the manager's rollout must watch
		// its answers.
		if r.LogicalID == "BackupOrgPolicyManagerFunction" && !watched["FailedRequests"] {
			t.Errorf("%s: no alarm on FailedRequests; the canary would pass a version that fails every request", r.LogicalID)
		}
	}
	if diff := cmp.Diff([]string{"BackupOrgPolicyManagerFunction", "TagReapplierFunction"}, fns); diff != "" {
		t.Errorf("functions (-want +got):\n%s", diff)
	}

	re, _ := tpl.Resource("TagReapplierFunction")
	events := jsonOf(re.Properties["Events"])
	if want := `{"RestoreJobCompleted":{"Properties":{"Pattern":{"detail":{"status":["COMPLETED"]},"detail-type":["Restore Job State Change"],"source":["aws.backup"]}},"Type":"EventBridgeRule"}}`; events != want {
		t.Errorf("re-applier events %s, want %s", events, want)
	}
	eic, _ := re.Properties["EventInvokeConfig"].(map[string]any)
	dest := jsonOf(eic["DestinationConfig"])
	if dest != `{"OnFailure":{"Destination":{"Fn::GetAtt":["TagReapplierFailureQueue","Arn"]},"Type":"SQS"}}` || eic["MaximumRetryAttempts"] == nil || eic["MaximumEventAgeInSeconds"] == nil {
		t.Errorf("EventInvokeConfig %s", jsonOf(eic))
	}
	if q, _ := tpl.Resource("TagReapplierFailureQueue"); q.Properties["SqsManagedSseEnabled"] != true && q.Properties["KmsMasterKeyId"] == nil {
		t.Error("the on-failure queue is not encrypted at rest")
	}

	out, _ := tpl.Section("Outputs")["ServiceToken"].(map[string]any)
	if jsonOf(out["Value"]) != `{"Ref":"BackupOrgPolicyManagerFunction.Alias"}` || jsonOf(out["Export"]) != `{"Name":{"Fn::Sub":"${AWS::StackName}-ServiceToken"}}` {
		t.Errorf("ServiceToken output %s: want the live alias, exported", jsonOf(out))
	}
}

// TestSAMBuildTargets builds each function with the Makefile target sam build
// calls (build-<LogicalId>, ARTIFACTS_DIR) and checks the result is what
// provided.al2023 on arm64 runs: a static linux/arm64 executable.
func TestSAMBuildTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Lambda binaries")
	}
	t.Parallel()
	for id := range functions {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "-C", root, "build-"+id, "ARTIFACTS_DIR="+dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("make build-%s: %v\n%s", id, err, out)
			}
			checkLambdaBinary(t, filepath.Join(dir, "bootstrap"))
		})
	}
}

// checkLambdaBinary checks a bootstrap is what provided.al2023 on arm64
// runs: a static, stripped linux/arm64 executable.
func checkLambdaBinary(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX || f.Type != elf.ET_EXEC {
		t.Errorf("%s is %v %v %v, want an arm64 Linux executable", path, f.Machine, f.OSABI, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s is dynamically linked (%v); Lambda's provided.al2023 needs a static binary", path, p.Type)
		}
	}
	if syms, _ := f.Symbols(); len(syms) > 0 {
		t.Errorf("%s has %d symbols; the build strips them (-ldflags -s -w)", path, len(syms))
	}
}

// splitOverrides splits SAM's parameter_overrides string: Key=Value pairs
// separated by spaces, values optionally double-quoted.
func splitOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		key, rest, ok := strings.Cut(s, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \"") {
			return nil, fmt.Errorf("malformed override near %q", s)
		}
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote in %q", rest)
			}
			val, s = rest[1:end+1], rest[end+2:]
		} else {
			val, s, _ = strings.Cut(rest, " ")
		}
		out[key] = val
	}
	return out, nil
}

func TestSamconfig(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "template.yaml"))
	params := tpl.Section("Parameters")
	var raw map[string]any
	if _, err := toml.DecodeFile(filepath.Join(root, "samconfig.toml"), &raw); err != nil {
		t.Fatalf("samconfig.toml: %v", err)
	}
	if raw["version"] != 0.1 {
		t.Errorf("samconfig version %v, want 0.1", raw["version"])
	}
	// environment -> command -> "parameters" -> key -> value
	cfg := map[string]map[string]map[string]map[string]any{}
	for env, v := range raw {
		if env == "version" {
			continue
		}
		cfg[env] = map[string]map[string]map[string]any{}
		cmds, _ := v.(map[string]any)
		for cmd, cv := range cmds {
			sections, _ := cv.(map[string]any)
			cfg[env][cmd] = map[string]map[string]any{}
			for sec, params := range sections {
				cfg[env][cmd][sec], _ = params.(map[string]any)
			}
		}
	}
	envs := slices.Sorted(maps.Keys(cfg))
	if len(envs) < 2 || !slices.Contains(envs, "default") {
		t.Fatalf("environments %v: want default and a second one", envs)
	}
	for _, env := range envs {
		c := cfg[env]
		if c["global"]["parameters"]["stack_name"] == nil {
			t.Errorf("[%s] no stack_name", env)
		}
		b := c["build"]["parameters"]
		if b["cached"] != true || b["parallel"] != true {
			t.Errorf("[%s.build] want cached and parallel builds: %v", env, b)
		}
		if c["validate"]["parameters"]["lint"] != true {
			t.Errorf("[%s.validate] want lint = true", env)
		}
		d := c["deploy"]["parameters"]
		if d["capabilities"] != "CAPABILITY_IAM" || d["resolve_s3"] != true || d["confirm_changeset"] != true {
			t.Errorf("[%s.deploy] capabilities %v, resolve_s3 %v, confirm_changeset %v", env, d["capabilities"], d["resolve_s3"], d["confirm_changeset"])
		}
		overrides, err := splitOverrides(fmt.Sprint(d["parameter_overrides"]))
		if err != nil || len(overrides) == 0 {
			t.Errorf("[%s.deploy] parameter_overrides: %v", env, err)
		}
		for k, v := range overrides {
			p, ok := params[k].(map[string]any)
			if !ok {
				t.Errorf("[%s.deploy] parameter_overrides names %q, which template.yaml does not declare", env, k)
				continue
			}
			if allowed, ok := p["AllowedValues"].([]any); ok && !slices.ContainsFunc(allowed, func(a any) bool { return fmt.Sprint(a) == v }) {
				t.Errorf("[%s.deploy] %s=%q is not among its AllowedValues %v", env, k, v, allowed)
			}
		}
	}
	if _, err := splitOverrides(`A="x" B`); err == nil {
		t.Error("a malformed override went unnoticed")
	}
}

// TestIAMMatchesCode compares the IAM actions each function's role grants in
// template.yaml with the AWS actions its code called across the whole test
// suite (every call an emulator served, as logged to AWSEMU_CALL_LOG). A
// grant missing for a call, and a grant no call needed, both fail. make test
// runs it after the suite, with IAM_CALL_LOG naming the log.
func TestIAMMatchesCode(t *testing.T) {
	path := os.Getenv("IAM_CALL_LOG")
	if path == "" {
		t.Skip("needs the call log of a full test run: make test runs it with IAM_CALL_LOG set")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	called := map[string]map[string]int{} // role -> action -> calls
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	lines := 0
	for sc.Scan() {
		var c awsemu.LoggedCall
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("call log line %q: %v", sc.Text(), err)
		}
		lines++
		_, rest, ok := strings.Cut(c.Caller, ":assumed-role/")
		if !ok {
			continue
		}
		role, _, _ := strings.Cut(rest, "/")
		if called[role] == nil {
			called[role] = map[string]int{}
		}
		for _, a := range c.Actions {
			called[role][a]++
		}
	}
	if lines == 0 {
		t.Fatal("the call log is empty: the suite did not run with AWSEMU_CALL_LOG set")
	}
	tpl := load(t, filepath.Join(root, "template.yaml"))
	for id, role := range functions {
		granted, err := tpl.Grants(id)
		if err != nil {
			t.Fatal(err)
		}
		actions := slices.Sorted(maps.Keys(called[role]))
		missing, unused := cfntemplate.CompareActions(granted, actions)
		for _, a := range missing {
			t.Errorf("%s calls %s (%d times) but its role does not grant it", id, a, called[role][a])
		}
		for _, g := range unused {
			t.Errorf("%s's role grants %s but no test run of its code called it", id, g)
		}
		t.Logf("%s: %d actions granted, all called: %s", id, len(granted), strings.Join(actions, " "))
	}
}

// TestSAMBuildOutput checks the bootstraps `sam build` produced (make
// check-templates runs it with SAM_BUILD_DIR set).
func TestSAMBuildOutput(t *testing.T) {
	dir := os.Getenv("SAM_BUILD_DIR")
	if dir == "" {
		t.Skip("needs a sam build: make check-templates runs it with SAM_BUILD_DIR set")
	}
	for id := range functions {
		checkLambdaBinary(t, filepath.Join(dir, id, "bootstrap"))
	}
}

// TestBuildspecs: CodeBuild runs the same make targets, so the same pinned
// tools, as make test.
func TestBuildspecs(t *testing.T) {
	t.Parallel()
	want := map[string][]string{
		"validate.yml":     {"make tools", "make fmt-check vet lint", "make check-templates", "cfn_nag_scan", `gem install cfn-nag --version "$CFN_NAG_VERSION"`},
		"test-package.yml": {"make tools", "make unit", "make check-templates", "sam package"},
	}
	for file, needles := range want {
		data, err := os.ReadFile(filepath.Join(root, "buildspecs", file))
		if err != nil {
			t.Fatal(err)
		}
		spec, err := cfntemplate.Parse(file, data)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if fmt.Sprint(spec.Doc["version"]) != "0.2" {
			t.Errorf("%s: version %v, want 0.2", file, spec.Doc["version"])
		}
		phases := jsonOf(spec.Doc["phases"])
		for _, n := range needles {
			if !strings.Contains(phases, strings.ReplaceAll(n, `"`, `\"`)) {
				t.Errorf("%s does not run %s", file, n)
			}
		}
		if strings.Contains(phases, "pip install") {
			t.Errorf("%s installs with pip directly; use make tools so the versions are tools/*.txt's", file)
		}
	}
}
