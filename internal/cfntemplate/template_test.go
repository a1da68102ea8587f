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
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/internal/cfntemplate"
	"github.com/backup-as-code/orgbackup/pkg/customresource"
	"github.com/backup-as-code/orgbackup/pkg/driftcheck"
)

const root = "../.."

// functions are the template's functions and the role name their code runs
// as in the tests (the session ARNs the tests sign with).
var functions = map[string]string{
	"BackupOrgPolicyManagerFunction": "backup-org-policy-manager",
	"TagReapplierFunction":           "tag-reapplier",
	"PolicyDriftCheckFunction":       "policy-drift-check",
}

// TestSAMTemplateParameters: every parameter says what it is for (the
// console and sam deploy --guided show the Description). Properties,
// references, conditions and unused parameters are cfn-lint's and sam
// validate's (make check-templates).
func TestSAMTemplateParameters(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "template.yaml"))
	if !tpl.IsSAM() {
		t.Error("template.yaml does not use the AWS::Serverless transform")
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
		// WARN would drop Lambda's START and REPORT lines (duration, memory).
		if logging["SystemLogLevel"] != "INFO" {
			t.Errorf("%s SystemLogLevel %v, want INFO", r.LogicalID, logging["SystemLogLevel"])
		}
		lg, _ := logging["LogGroup"].(map[string]any)
		group, ok := tpl.Resource(fmt.Sprint(lg["Ref"]))
		if !ok || group.Type != "AWS::Logs::LogGroup" || group.Properties["RetentionInDays"] == nil {
			t.Errorf("%s does not log to an explicit log group with a retention", r.LogicalID)
		}
		dp, _ := p["DeploymentPreference"].(map[string]any)
		alarms, _ := dp["Alarms"].([]any)
		// SAM gives a conditional function's deployment group its Condition
		// only with PassthroughCondition; without it the group outlives the
		// function and names its missing alarms.
		if r.Condition != "" && dp["PassthroughCondition"] != true {
			t.Errorf("%s has Condition %s but its DeploymentPreference no PassthroughCondition: true", r.LogicalID, r.Condition)
		}
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
	if diff := cmp.Diff([]string{"BackupOrgPolicyManagerFunction", "PolicyDriftCheckFunction", "TagReapplierFunction"}, fns); diff != "" {
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
	// Each bootstrap is about 20 MB. One twice that size has linked a whole
	// SDK client's method set (see tagreapply.instanceDescriber): slower
	// cold starts and deployment packages for no code the function runs.
	const maxBinaryBytes = 32 << 20
	if info, err := os.Stat(path); err != nil {
		t.Error(err)
	} else if info.Size() > maxBinaryBytes {
		t.Errorf("%s is %d bytes, over %d: has a whole SDK client been linked in?", path, info.Size(), maxBinaryBytes)
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
		// PolicyManagerRoleName names a role: CAPABILITY_NAMED_IAM.
		if d["capabilities"] != "CAPABILITY_IAM CAPABILITY_NAMED_IAM" || d["resolve_s3"] != true || d["confirm_changeset"] != true {
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

// TestLogGroupsOutliveTheStack: the functions' log groups and their KMS key
// are kept when the stack is deleted or a replacement would delete them
// (audit logs must not go with the stack; a retained group whose key is
// deleted cannot be read), the groups' names differ for a stack created
// again under the same name (a retained group with a fixed name makes that
// create fail: log group names are unique per account and Region), and the
// key policy lets CloudWatch Logs use the key for exactly these groups.
func TestLogGroupsOutliveTheStack(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "template.yaml"))
	first := cfntemplate.Deployment{Pseudo: stack("backup-org-policy-manager", "1c2fa620-982a-11e3-aff7-50e2416294e0")}
	again := cfntemplate.Deployment{Pseudo: stack("backup-org-policy-manager", "7d9e4b10-3f21-11f1-9c2d-0a1b2c3d4e5f")}
	other := cfntemplate.Deployment{Pseudo: stack("another-stack", "1c2fa620-982a-11e3-aff7-50e2416294e0")}
	key, ok := tpl.Resource("LogsKey")
	if !ok || key.Type != "AWS::KMS::Key" {
		t.Fatal("no LogsKey")
	}
	keyStatements := func(d cfntemplate.Deployment) []any {
		v, err := tpl.Evaluate(key.Properties["KeyPolicy"], d)
		if err != nil {
			t.Fatal(err)
		}
		return v.(map[string]any)["Statement"].([]any)
	}
	groups := 0
	for _, r := range tpl.Resources() {
		// The log groups and their key outlive the stack; the drift topic's
		// key encrypts nothing that does (messages until delivered).
		if r.Type != "AWS::Logs::LogGroup" && r.LogicalID != "LogsKey" {
			continue
		}
		if r.DeletionPolicy != "Retain" || r.UpdateReplacePolicy != "Retain" {
			t.Errorf("%s: DeletionPolicy %q, UpdateReplacePolicy %q; want Retain for both", r.LogicalID, r.DeletionPolicy, r.UpdateReplacePolicy)
		}
		if r.Type != "AWS::Logs::LogGroup" {
			continue
		}
		groups++
		if jsonOf(r.Properties["KmsKeyId"]) != `{"Fn::GetAtt":["LogsKey","Arn"]}` {
			t.Errorf("%s is not encrypted with LogsKey", r.LogicalID)
		}
		name := func(d cfntemplate.Deployment) string {
			v, err := tpl.Evaluate(r.Properties["LogGroupName"], d)
			if err != nil {
				t.Fatalf("%s LogGroupName: %v", r.LogicalID, err)
			}
			s, _ := v.(string)
			if s == "" {
				// CloudFormation generates a unique name.
				t.Fatalf("%s: no LogGroupName; the key policy cannot name a generated one", r.LogicalID)
			}
			return s
		}
		if name(first) == name(again) {
			t.Errorf("%s is named %s in both creations of the stack", r.LogicalID, name(first))
		}
		for _, d := range []cfntemplate.Deployment{first, again} {
			arn := "arn:aws:logs:us-east-1:222222222222:log-group:" + name(d)
			for _, tt := range []struct {
				d    cfntemplate.Deployment
				want bool
			}{{d, true}, {other, false}} {
				ok, err := cfntemplate.Allowed(keyStatements(tt.d), cfntemplate.Request{
					Action: "kms:GenerateDataKey", Resource: "*", Principal: "logs.us-east-1.amazonaws.com",
					Context: map[string]string{"kms:EncryptionContext:aws:logs:arn": arn},
				})
				if err != nil {
					t.Fatal(err)
				}
				if ok != tt.want {
					t.Errorf("key policy of stack %s allows CloudWatch Logs for %s: %v, want %v", tt.d.Pseudo["AWS::StackName"], arn, ok, tt.want)
				}
			}
		}
	}
	if groups != len(functions) {
		t.Errorf("%d log groups, want one per function", groups)
	}
}

// TestNoSecretsInPlainSight: a NoEcho parameter passed into a function's
// environment is shown in plain text by Lambda (GetFunctionConfiguration,
// the console), so NoEcho would only pretend to hide it. The external ID
// is not a secret (IAM User Guide, "The confused deputy problem": it is an
// identifier the trusted party chooses, not a credential) and has no NoEcho.
func TestNoSecretsInPlainSight(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "template.yaml"))
	params := tpl.Section("Parameters")
	if p, _ := params["OrgAdminExternalId"].(map[string]any); p == nil || p["NoEcho"] != nil {
		t.Errorf("OrgAdminExternalId %v: want the parameter, without NoEcho", p)
	}
	for _, r := range tpl.Resources() {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		env := jsonOf(withGlobals(tpl, r)["Environment"])
		for name, p := range params {
			if m, _ := p.(map[string]any); m["NoEcho"] == true && (strings.Contains(env, `{"Ref":"`+name+`"}`) || strings.Contains(env, "${"+name+"}")) {
				t.Errorf("%s puts NoEcho parameter %s into a plain environment variable", r.LogicalID, name)
			}
		}
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
	checkDelegatedEnableGate(t, tpl, called[functions["BackupOrgPolicyManagerFunction"]])
	checkOrgAdminRole(t, called["BackupOrgPolicyManagerOrgAdmin"])
	checkReaderRole(t, called["BackupOrgPolicyReader"])
}

// checkReaderRole compares what drift, plan and the scheduled check called
// through the assumed read-only role with what cfn/org-admin-role.yaml's
// ReaderRole grants: exactly.
func checkReaderRole(t *testing.T, calls map[string]int) {
	t.Helper()
	if len(calls) == 0 {
		t.Fatal("no call through the assumed BackupOrgPolicyReader role in the call log")
	}
	tpl := load(t, filepath.Join(root, "cfn", "org-admin-role.yaml"))
	granted, err := tpl.GrantsIn("ReaderRole", orgAdminDeployment(map[string]string{"ReaderPrincipals": "arn:aws:iam::222222222222:role/policy-drift-check"}))
	if err != nil {
		t.Fatal(err)
	}
	called := slices.Sorted(maps.Keys(calls))
	missing, unused := cfntemplate.CompareActions(granted, called)
	for _, a := range missing {
		t.Errorf("drift or plan calls %s through the reader role (%d times), which cfn/org-admin-role.yaml does not grant", a, calls[a])
	}
	for _, g := range unused {
		t.Errorf("cfn/org-admin-role.yaml's ReaderRole grants %s but no drift or plan run called it", g)
	}
	t.Logf("ReaderRole: %d actions granted, all called: %s", len(granted), strings.Join(called, " "))
}

// pendingOrgAdminGrants are actions cfn/org-admin-role.yaml grants behind
// a parameter for code not written yet, each with its reason; none now
// (ListRoots and EnablePolicyType are called by EnablePolicyType: "true").
// Once the code calls one, the check fails until it is removed here, so
// that it is then held to the call log like every other grant.
var pendingOrgAdminGrants = map[string]string{}

// enableGated are the actions only EnablePolicyType: "true" calls, which
// the roles grant only with AllowEnablePolicyType "true".
var enableGated = []string{"organizations:EnablePolicyType", "organizations:ListRoots"}

// checkDelegatedEnableGate: as a delegated administrator (OrgManagementAccount
// empty) the manager's role grants exactly the calls without the
// EnablePolicyType ones when AllowEnablePolicyType is "false", and exactly
// all calls when "true".
func checkDelegatedEnableGate(t *testing.T, tpl *cfntemplate.Template, calls map[string]int) {
	t.Helper()
	called := slices.Sorted(maps.Keys(calls))
	for _, allow := range []string{"false", "true"} {
		d := samDeployment(map[string]string{"OrgManagementAccount": "", "PolicyBucketName": "org-policies", "AllowEnablePolicyType": allow})
		granted, err := tpl.GrantsIn("BackupOrgPolicyManagerFunction", d)
		if err != nil {
			t.Fatal(err)
		}
		want := called
		if allow == "false" {
			want = slices.DeleteFunc(slices.Clone(called), func(a string) bool { return slices.Contains(enableGated, a) })
		}
		// The delegated-administrator path does not assume the org-admin role.
		want = slices.DeleteFunc(want, func(a string) bool { return a == "sts:AssumeRole" })
		missing, unused := cfntemplate.CompareActions(granted, want)
		if len(missing) > 0 || len(unused) > 0 {
			t.Errorf("manager's role as delegated administrator, AllowEnablePolicyType=%s: missing %v, unused %v", allow, missing, unused)
		}
	}
}

// checkOrgAdminRole compares what the manager's code called through the
// assumed org-admin role (the call log's caller is the role's session)
// with what cfn/org-admin-role.yaml grants: exactly, with
// AllowEnablePolicyType false; with true, the gated actions on top.
func checkOrgAdminRole(t *testing.T, calls map[string]int) {
	t.Helper()
	if len(calls) == 0 {
		t.Fatal("no call through the assumed BackupOrgPolicyManagerOrgAdmin role in the call log")
	}
	tpl := load(t, filepath.Join(root, "cfn", "org-admin-role.yaml"))
	grants := func(allow string) []string {
		g, err := tpl.GrantsIn("OrgAdminRole", orgAdminDeployment(map[string]string{"AllowEnablePolicyType": allow}))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	base, all := grants("false"), grants("true")
	gated := slices.DeleteFunc(slices.Clone(all), func(a string) bool { return slices.Contains(base, a) })
	called := slices.Sorted(maps.Keys(calls))
	missing, unused := cfntemplate.CompareActions(all, called)
	for _, a := range missing {
		t.Errorf("the manager calls %s through the org-admin role (%d times), which cfn/org-admin-role.yaml does not grant", a, calls[a])
	}
	for _, g := range unused {
		if reason, ok := pendingOrgAdminGrants[g]; ok && slices.Contains(gated, g) {
			t.Logf("org-admin role: %s granted with AllowEnablePolicyType=true for %s, not called yet", g, reason)
			continue
		}
		t.Errorf("cfn/org-admin-role.yaml grants %s but no test run of the manager called it", g)
	}
	for a := range pendingOrgAdminGrants {
		if calls[a] > 0 {
			t.Errorf("%s is called now: remove it from pendingOrgAdminGrants", a)
		}
	}
	// Without the parameter: exactly the ungated calls.
	ungated := slices.DeleteFunc(slices.Clone(called), func(a string) bool { return slices.Contains(gated, a) })
	missing, unused = cfntemplate.CompareActions(base, ungated)
	if len(missing) > 0 || len(unused) > 0 {
		t.Errorf("org-admin role with AllowEnablePolicyType=false: missing %v, unused %v", missing, unused)
	}
	t.Logf("OrgAdminRole: %d actions granted (%d more with AllowEnablePolicyType), called: %s", len(base), len(gated), strings.Join(called, " "))
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
// tools, as make test; with go.mod's Go release, installed once per build
// and cached with the module cache, and no other release ever fetched; and
// a failed phase ends the build, so nothing is packaged after a failed test
// (CodeBuild runs post_build after a failed build phase unless it aborts:
// buildspec reference, phases/*/on-failure).
func TestBuildspecs(t *testing.T) {
	t.Parallel()
	want := map[string][]string{
		"validate.yml":     {"make tools", "make fmt-check vet lint", "make check-templates", "cfn_nag_scan", `gem install cfn-nag --version "$CFN_NAG_VERSION"`},
		"test-package.yml": {"make tools", "make unit", "make check-templates", "sam package", "buildspecs/package-stacksets.sh"},
		// CI never waits for a person at a change set, and an unchanged
		// stack is no failure; a StackSet update is awaited and reported.
		"deploy.yml": {"make tools", "sam deploy", "--config-env \"$SAM_CONFIG_ENV\"", "--no-confirm-changeset", "--no-fail-on-empty-changeset",
			"aws cloudformation deploy --template-file cfn/stacksets.yaml", "buildspecs/stackset-status.sh", "aws cloudformation deploy --template-file cfn/org-policies.yaml"},
	}
	release := goModRelease(t, filepath.Join(root, "go.mod"))
	const install = `export PATH="$(buildspecs/install-go-toolchain.sh)/bin:$PATH"`
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

		// The Go toolchain: go.mod's, read from go.mod (its release is
		// written nowhere else), installed before anything uses Go.
		env, _ := spec.Doc["env"].(map[string]any)
		vars, _ := env["variables"].(map[string]any)
		if vars["GOTOOLCHAIN"] != "local" {
			t.Errorf("%s: GOTOOLCHAIN %v, want local (no download of another release)", file, vars["GOTOOLCHAIN"])
		}
		if regexp.MustCompile(`GOTOOLCHAIN[:=]\s*\S*auto`).Match(data) || strings.Contains(string(data), release) || strings.Contains(string(data), strings.TrimPrefix(release, "go")) {
			t.Errorf("%s names GOTOOLCHAIN auto or go.mod's release %s; the install step reads it from go.mod", file, release)
		}
		ph, _ := spec.Doc["phases"].(map[string]any)
		installPhase, _ := ph["install"].(map[string]any)
		commands, _ := installPhase["commands"].([]any)
		if len(commands) == 0 || commands[0] != install {
			t.Errorf("%s: the install phase does not start with %s", file, install)
		}
		// Each phase aborts the build when it fails.
		for name, p := range ph {
			if m, _ := p.(map[string]any); m["on-failure"] != "ABORT" {
				t.Errorf("%s: phase %s has on-failure %v, want ABORT", file, name, m["on-failure"])
			}
		}
		cache, _ := spec.Doc["cache"].(map[string]any)
		paths := strs(cache["paths"])
		for _, v := range []string{"GOMODCACHE", "GOCACHE"} {
			dir, _ := vars[v].(string)
			if dir == "" || !slices.Contains(paths, dir+"/**/*") {
				t.Errorf("%s: %s %q is not in the cache paths %v", file, v, dir, paths)
			}
		}
	}
	tp, _ := os.ReadFile(filepath.Join(root, "buildspecs", "test-package.yml"))
	spec, _ := cfntemplate.Parse("test-package.yml", tp)
	ph, _ := spec.Doc["phases"].(map[string]any)
	if strings.Contains(jsonOf(ph["build"]), "sam package") || !strings.Contains(jsonOf(ph["post_build"]), "sam package") {
		t.Error("test-package.yml: sam package belongs in post_build, after the tests")
	}
	if arts, _ := spec.Doc["artifacts"].(map[string]any); !slices.Contains(strs(arts["files"]), "stacksets-parameters.txt") {
		t.Error("test-package.yml: the deploy stage needs stacksets-parameters.txt (the content-addressed keys) as an artifact")
	}
}

// goModRelease is the Go release go.mod selects: its toolchain line, else
// go<its go line>.
func goModRelease(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var goLine, toolchain string
	for _, line := range strings.Split(string(data), "\n") {
		switch f := strings.Fields(line); {
		case len(f) == 2 && f[0] == "go":
			goLine = "go" + f[1]
		case len(f) == 2 && f[0] == "toolchain":
			toolchain = f[1]
		}
	}
	if toolchain != "" {
		return toolchain
	}
	if goLine == "" {
		t.Fatalf("%s has no go line", path)
	}
	return goLine
}

// TestInstallGoToolchain runs the buildspecs' install step. It never
// downloads (GOPROXY=off): a release that is not installed must fail the
// step, naming the release, rather than run another one.
func TestInstallGoToolchain(t *testing.T) {
	t.Parallel()
	script, err := filepath.Abs(filepath.Join(root, "buildspecs", "install-go-toolchain.sh"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(mod string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, script, mod)
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOPROXY=off", "GOFLAGS=")
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	for name, mod := range map[string]string{
		"go line":        "module x\n\ngo 1.26.99\n",
		"toolchain line": "module x\n\ngo 1.21\n\ntoolchain go1.26.99\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "go.mod")
			if err := os.WriteFile(path, []byte(mod), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := run(path)
			if err == nil || !strings.Contains(out, "go1.26.99") {
				t.Errorf("install with go.mod %q: %v, output %q; want a failure naming go1.26.99", mod, err, out)
			}
		})
	}
	t.Run("go.mod", func(t *testing.T) {
		t.Parallel()
		mod, _ := filepath.Abs(filepath.Join(root, "go.mod"))
		release := goModRelease(t, mod)
		if runtime.Version() != release {
			t.Skipf("this machine runs %s, not go.mod's %s, and the test does not download", runtime.Version(), release)
		}
		goroot, err := run(mod)
		if err != nil {
			t.Fatalf("install: %v\n%s", err, goroot)
		}
		out, err := exec.Command(filepath.Join(goroot, "bin", "go"), "env", "GOVERSION").Output()
		if err != nil || strings.TrimSpace(string(out)) != release {
			t.Errorf("%s/bin/go is %s (%v), want %s", goroot, out, err, release)
		}
	})
}

// samDeployment is a deployment of template.yaml with params.
func samDeployment(params map[string]string) cfntemplate.Deployment {
	return cfntemplate.Deployment{Parameters: params, Pseudo: stack("backup-org-policy-manager", "1c2fa620-982a-11e3-aff7-50e2416294e0")}
}

// TestDriftCheckPackaging: the scheduled drift check exists only when
// DriftCheckStacks names stacks, runs on its schedule with the settings
// the function reads, and pages through an encrypted topic that the alarm
// (CloudWatch) can publish to.
func TestDriftCheckPackaging(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "template.yaml"))
	for _, id := range []string{"DriftTopicKey", "DriftTopic", "PolicyDriftCheckLogGroup", "PolicyDriftCheckFunction", "PolicyDriftCheckErrorsAlarm", "PolicyDriftAlarm"} {
		if r, ok := tpl.Resource(id); !ok || r.Condition != "HasDriftCheck" {
			t.Errorf("%s: missing or not under HasDriftCheck (%+v)", id, r.Condition)
		}
	}
	params := tpl.Section("Parameters")
	schedule := regexp.MustCompile(fmt.Sprint(params["DriftCheckSchedule"].(map[string]any)["AllowedPattern"]))
	for expr, ok := range map[string]bool{
		"rate(1 day)": true, "rate(6 hours)": true, "rate(30 minutes)": true, "cron(0 6 * * ? *)": true,
		// EventBridge: "If the value is equal to 1, then the unit must be
		// singular"; a value of 0 is not a rate.
		"rate(1 days)": false, "rate(2 hour)": false, "rate(0 hours)": false, "cron(0 6 * *)": false, "daily": false,
	} {
		if schedule.MatchString(expr) != ok {
			t.Errorf("DriftCheckSchedule %q: accepted = %v, want %v", expr, !ok, ok)
		}
	}
	fn, _ := tpl.Resource("PolicyDriftCheckFunction")
	env := jsonOf(fn.Properties["Environment"])
	if want := `{"Variables":{"DRIFT_STACKS":{"Ref":"DriftCheckStacks"},"ORG_MANAGEMENT_ACCOUNT":{"Ref":"OrgManagementAccount"},"READER_ROLE_NAME":{"Ref":"DriftReaderRoleName"},"TOPIC_ARN":{"Ref":"DriftTopic"}}}`; env != want {
		t.Errorf("environment %s, want %s", env, want)
	}
	if got := jsonOf(fn.Properties["Events"]); !strings.Contains(got, `"Schedule":{"Ref":"DriftCheckSchedule"}`) || !strings.Contains(got, `"Type":"Schedule"`) {
		t.Errorf("events %s: want the DriftCheckSchedule schedule", got)
	}
	alarm, _ := tpl.Resource("PolicyDriftAlarm")
	a := alarm.Properties
	if a["Namespace"] != driftcheck.Namespace || a["MetricName"] != driftcheck.MetricFindings || a["Statistic"] != "Maximum" ||
		jsonOf(a["Dimensions"]) != `[{"Name":"FunctionName","Value":{"Ref":"PolicyDriftCheckFunction"}}]` ||
		jsonOf(a["AlarmActions"]) != `[{"Ref":"DriftTopic"}]` {
		t.Errorf("PolicyDriftAlarm %s: want the function's %s/%s, paging DriftTopic", jsonOf(a), driftcheck.Namespace, driftcheck.MetricFindings)
	}
	// CloudWatch evaluates at most a day of periods.
	p, _ := strconv.Atoi(fmt.Sprint(a["Period"]))
	n, _ := strconv.Atoi(fmt.Sprint(a["EvaluationPeriods"]))
	if p*n == 0 || p*n > 86400 {
		t.Errorf("PolicyDriftAlarm evaluates %d periods of %d s: want up to a day", n, p)
	}
	topic, _ := tpl.Resource("DriftTopic")
	if jsonOf(topic.Properties["KmsMasterKeyId"]) != `{"Ref":"DriftTopicKey"}` {
		t.Errorf("DriftTopic is not encrypted with DriftTopicKey")
	}
	key, _ := tpl.Resource("DriftTopicKey")
	policy, err := tpl.Evaluate(key.Properties["KeyPolicy"], samDeployment(map[string]string{"DriftCheckStacks": "backup-org-policies"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"kms:GenerateDataKey", "kms:Decrypt"} {
		ok, err := cfntemplate.Allowed(policy.(map[string]any)["Statement"].([]any), cfntemplate.Request{
			Action: action, Resource: "*", Principal: "cloudwatch.amazonaws.com", Context: map[string]string{"aws:SourceAccount": "222222222222"},
		})
		if err != nil || !ok {
			t.Errorf("the topic key does not let CloudWatch alarms %s (%v): alarms could not publish", action, err)
		}
	}
}
