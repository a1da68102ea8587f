package orgpolicy_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/pkg/awsclient"
)

// TestInvalidInput: every malformed request is FAILED with a reason that
// names the field or cause, and input errors make no Organizations call.
func TestInvalidInput(t *testing.T) {
	t.Parallel()
	oversize := func() string {
		var b strings.Builder
		// Six plans of ten rules: AWS Backup allows at most 10 rules per
		// plan, so only the size is wrong.
		b.WriteString(`{"plans":{`)
		for p := range 6 {
			if p > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"big%d":{"rules":{`, p)
			for i := range 10 {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `"rule%02d":{"target_backup_vault_name":{"@@assign":"%s"}}`, i, strings.Repeat("v", 150))
			}
			b.WriteString(`}}`)
		}
		b.WriteString(`}}`)
		return b.String()
	}()
	tests := []struct {
		name      string
		overrides map[string]any
		setup     func(e *env)
		want      []string
	}{
		{name: "PolicyName missing", overrides: map[string]any{"PolicyName": nil}, want: []string{"PolicyName: required, 1 to 128 characters"}},
		{name: "PolicyName too long", overrides: map[string]any{"PolicyName": strings.Repeat("n", 129)}, want: []string{"PolicyName: 129 characters; at most 128 allowed"}},
		{name: "PolicyContent missing", overrides: map[string]any{"PolicyContent": nil}, want: []string{"PolicyContent: required"}},
		{name: "bad target ID", overrides: map[string]any{"PolicyTargets": "r-a1b2, ou-123"}, want: []string{`PolicyTargets[1]: "ou-123" is not a root ID (r-…), an OU ID (ou-…-…) or a 12-digit account ID`}},
		{name: "invalid JSON with its position", overrides: map[string]any{"PolicyContent": "{\n  \"plans\": {\n    \"daily\": {,\n  }\n}", "Variables": nil}, want: []string{"PolicyContent: line 3, column 15: invalid character ','"}},
		{name: "oversize content", overrides: map[string]any{"PolicyContent": oversize, "PolicyRegions": nil}, want: []string{"PolicyContent: the policy is", "characters even minified; AWS Organizations allows at most 10000 for BACKUP_POLICY"}},
		{
			name: "copy action key differs from the vault ARN",
			overrides: map[string]any{"PolicyContent": `{"plans":{"daily":{"rules":{"nightly":{"copy_actions":{"central":{
				"target_backup_vault_arn":{"@@assign":"arn:aws:backup:$region:333333333333:backup-vault:central"}}}}}}}}`},
			want: []string{`PolicyContent: plans.daily.rules.nightly.copy_actions.central: the copy action's key must be the ARN of its vault`},
		},
		{name: "unknown policy key", overrides: map[string]any{"PolicyContent": `{"plans":{"daily":{"rule":{}}}}`}, want: []string{`PolicyContent: plans.daily: unknown key "rule"`}},
		{name: "unknown property", overrides: map[string]any{"PolicyTarget": "r-a1b2"}, want: []string{"PolicyTarget: unknown property"}},
		{name: "bad PolicyType", overrides: map[string]any{"PolicyType": "BACKUP"}, want: []string{`PolicyType: "BACKUP" is not an Organizations policy type; allowed: SERVICE_CONTROL_POLICY`}},
		{name: "bad region", overrides: map[string]any{"PolicyRegions": []any{"us-east-1", "useast2"}}, want: []string{`PolicyRegions[1]: "useast2" is not a Region code`}},
		{name: "bad regions operator", overrides: map[string]any{"PolicyRegionsOperator": "@@remove"}, want: []string{`PolicyRegionsOperator: "@@remove"; allowed: @@append, @@assign`}},
		{name: "regions on a tag policy", overrides: map[string]any{"PolicyType": "TAG_POLICY"}, want: []string{"PolicyRegions: applies only to BACKUP_POLICY policies"}},
		{name: "bad management account", overrides: map[string]any{"OrgManagementAccount": "1111"}, want: []string{`OrgManagementAccount: "1111" is not a 12-digit account ID`}},
		{name: "reserved tag key", overrides: map[string]any{"Tags": []any{map[string]any{"Key": "aws:owner", "Value": "x"}}}, want: []string{`Tags[0]: Key "aws:owner" uses the reserved aws: prefix`}},
		{name: "ownership tag key", overrides: map[string]any{"Tags": []any{map[string]any{"Key": "backup-org-policy:stack-id", "Value": "x"}}}, want: []string{"is the ownership tag this resource manages"}},
		{name: "variables not maps", overrides: map[string]any{"Variables": []any{"$vault=org-vault"}}, want: []string{"Variables[0]: must be a map of placeholder to value, not a string"}},
		{name: "several problems at once", overrides: map[string]any{"PolicyName": nil, "PolicyTargets": "r-a1b2,ou-x"}, want: []string{"PolicyName: required", "PolicyTargets[1]"}},
		{
			name:      "S3 object missing",
			overrides: map[string]any{"PolicyContent": map[string]any{"S3": map[string]any{"PolicyBucket": "policies", "PolicyKey": "daily.json"}}},
			setup:     func(e *env) { e.emu.CreateBucket("policies", awsemu.SampleSolutionAccount) },
			want:      []string{"PolicyContent.S3: object s3://policies/daily.json not found (NoSuchKey)"},
		},
		{
			name:      "S3 bucket missing",
			overrides: map[string]any{"PolicyContent": map[string]any{"S3": map[string]any{"PolicyBucket": "nobucket", "PolicyKey": "daily.json"}}},
			want:      []string{`PolicyContent.S3: bucket "nobucket" not found (NoSuchBucket)`},
		},
		{
			name:      "S3 location incomplete",
			overrides: map[string]any{"PolicyContent": map[string]any{"S3": map[string]any{"PolicyBucket": "policies", "Key": "daily.json"}}},
			want:      []string{"PolicyContent.S3.Key: unknown key", "PolicyContent.S3.PolicyKey: required"},
		},
		{
			name:      "AssumeRole denied",
			overrides: map[string]any{"ExternalId": "wrong-external-id"},
			setup: func(e *env) {
				e.emu.AddRole(awsemu.Role{ARN: adminRole, Trusted: []string{managerRole}, ExternalID: "expected-external-id"})
			},
			want: []string{"OrgManagementAccount 111111111111", "assuming role arn:aws:iam::111111111111:role/BackupOrgPolicyManagerOrgAdmin", "AccessDenied"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			if tt.setup != nil {
				tt.setup(e)
			}
			resp := e.do(t, request{typ: cfn.RequestCreate, props: props(t, tt.overrides)})
			mustFail(t, resp, tt.want...)
			if !strings.HasSuffix(resp.Reason, "(log stream: test-stream)") {
				t.Errorf("Reason %q does not name the log stream", resp.Reason)
			}
			if n := e.emu.CountCalls("organizations", ""); n != 0 {
				t.Errorf("%d Organizations calls for bad input, want 0", n)
			}
		})
	}
}

// TestEveryProblemAtOnce: bad properties and an inline document's own
// problems are reported together, so one deployment attempt shows what
// to fix; a document in S3 is not read until the properties are valid.
// Neither makes an AWS call.
func TestEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	daily, err := os.ReadFile("testdata/daily.json")
	if err != nil {
		t.Fatal(err)
	}
	// "lifecyle" is at line 9, column 11 of the document.
	typo := strings.Replace(string(daily), `"lifecycle"`, `"lifecyle"`, 1)
	misspelt := map[string]any{"PolicyTargets": nil, "PolicyTargest": []any{awsemu.SampleRootID}}
	with := func(overrides map[string]any) map[string]any {
		m := maps.Clone(misspelt)
		maps.Copy(m, overrides)
		return m
	}
	s3Content := map[string]any{"S3": map[string]any{"PolicyBucket": "policies", "PolicyKey": "daily.json"}}
	// Sixty bad targets and sixty plans with a typo: more than a Reason
	// can hold.
	var badTargets []any
	var plans []string
	for i := range 60 {
		badTargets = append(badTargets, fmt.Sprintf("ou-%02d", i))
		plans = append(plans, fmt.Sprintf(`"p%02d":{"rules":{"r":{"target_backup_vault_name":{"@@assign":"v"},"lifecyle":{}}}}`, i))
	}
	manyTypos := `{"plans":{` + strings.Join(plans, ",") + `}}`
	const unknownTarget = "PolicyTargest: unknown property; did you mean PolicyTargets?"
	const unknownLifecycle = `PolicyContent: plans.daily.rules.nightly: unknown key "lifecyle"; allowed: `
	tests := []struct {
		name      string
		overrides map[string]any
		want      []string
		notWant   []string
	}{
		{
			name:      "misspelt property and a document typo",
			overrides: with(map[string]any{"PolicyContent": typo}),
			want:      []string{"invalid properties: " + unknownTarget, "EnablePolicyType; " + unknownLifecycle, "(line 9, column 11)"},
		},
		{
			name:      "misspelt property and invalid JSON",
			overrides: with(map[string]any{"PolicyContent": "{\n  \"plans\": {,\n}", "Variables": nil}),
			want:      []string{unknownTarget, "PolicyContent: line 2, column 13: invalid character ','"},
		},
		{
			name: "a YAML map in the template, positions in its JSON text",
			overrides: with(map[string]any{"PolicyContent": map[string]any{"plans": map[string]any{"daily": map[string]any{
				"rules": map[string]any{"nightly": map[string]any{"target_backup_vault_name": map[string]any{"@@assign": "$vault"}, "lifecyle": map[string]any{}}},
			}}}}),
			want: []string{unknownTarget, unknownLifecycle, "(line 1, column 40)"},
		},
		{
			name:      "misspelt property, valid document",
			overrides: misspelt,
			want:      []string{unknownTarget},
			notWant:   []string{"PolicyContent:"},
		},
		{
			name:      "invalid regions: the document is checked without them",
			overrides: with(map[string]any{"PolicyContent": typo, "PolicyRegions": "us-east-1,useast2"}),
			want:      []string{unknownTarget, `PolicyRegions[1]: "useast2" is not a Region code`, unknownLifecycle, "(line 9, column 11)"},
		},
		{
			name:      "regions on a tag policy: checked as a tag policy",
			overrides: with(map[string]any{"PolicyContent": `["not an object"]`, "PolicyType": "TAG_POLICY"}),
			want:      []string{unknownTarget, "PolicyRegions: applies only to BACKUP_POLICY", "PolicyContent: a policy document must be a JSON object, not a list"},
		},
		{
			name:      "invalid Variables: not checked, placeholders would stay",
			overrides: with(map[string]any{"PolicyContent": typo, "Variables": []any{"$vault=org-vault"}}),
			want:      []string{unknownTarget, "Variables[0]: must be a map", "PolicyContent: not checked: its placeholders depend on Variables, which are invalid"},
			notWant:   []string{"lifecyle"},
		},
		{
			name:      "misspelt Variables: not checked either",
			overrides: map[string]any{"PolicyContent": typo, "Variables": nil, "Variable": []any{map[string]any{"$vault": "org-vault"}}},
			want:      []string{"Variable: unknown property; did you mean Variables?", "PolicyContent: not checked: its placeholders depend on Variables"},
			notWant:   []string{"lifecyle"},
		},
		{
			name:      "invalid PolicyType: not checked, the syntax depends on it",
			overrides: with(map[string]any{"PolicyContent": typo, "PolicyType": "BACKUP"}),
			want:      []string{unknownTarget, `PolicyType: "BACKUP" is not an Organizations policy type`, "PolicyContent: not checked: its syntax depends on PolicyType, which is invalid"},
			notWant:   []string{"lifecyle"},
		},
		{
			name:      "invalid content: its own problem only",
			overrides: with(map[string]any{"PolicyContent": "  "}),
			want:      []string{unknownTarget, "PolicyContent: must not be empty"},
			notWant:   []string{"not checked", "read and checked"},
		},
		{
			// The handler cuts the Reason's middle to fit the response, as
			// for any error: the first property problems and the last
			// document problems are kept.
			name:      "more than a Reason holds",
			overrides: map[string]any{"PolicyTargets": badTargets, "PolicyContent": manyTypos, "PolicyRegions": nil},
			want:      []string{`invalid properties: PolicyTargets[0]: "ou-00" is not`, " …[truncated]… ", `.rules.r: unknown key "lifecyle"; allowed: `, "further problems not listed (log stream: test-stream)"},
		},
		{
			name:      "content in S3: not read",
			overrides: with(map[string]any{"PolicyContent": s3Content}),
			want:      []string{unknownTarget, "PolicyContent: s3://policies/daily.json is read and checked once the properties are valid"},
			notWant:   []string{"lifecyle"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			// The object in S3 has the typo too: reading it would report it.
			e.emu.CreateBucket("policies", awsemu.SampleSolutionAccount)
			if _, err := e.emu.PutObject("policies", "daily.json", []byte(typo)); err != nil {
				t.Fatal(err)
			}
			resp := e.do(t, request{typ: cfn.RequestCreate, props: props(t, tt.overrides)})
			mustFail(t, resp, tt.want...)
			for _, s := range tt.notWant {
				if strings.Contains(resp.Reason, s) {
					t.Errorf("Reason %q\ncontains %q", resp.Reason, s)
				}
			}
			if n := e.emu.CountCalls("organizations", ""); n != 0 {
				t.Errorf("%d Organizations calls for bad input, want 0", n)
			}
			if n := e.emu.CountCalls("s3", ""); n != 0 {
				t.Errorf("%d S3 calls for bad input, want 0", n)
			}
		})
	}
}

func TestContentFromS3(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.emu.CreateBucket("policies", awsemu.SampleSolutionAccount)
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{ConfigOptions: e.emu.ConfigOptions(e.emu.CredentialsFor("arn:aws:iam::222222222222:user/ci"))})
	if err != nil {
		t.Fatal(err)
	}
	upload := func(body string) string {
		out, err := s3.NewFromConfig(cfg).PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("policies"), Key: aws.String("daily.json"), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.VersionId)
	}
	p := props(t, nil)
	v1 := upload(p["PolicyContent"].(string))
	upload(`{"plans":{"changed":{}}}`)
	// The pinned version is read, not the latest.
	resp := e.create(t, props(t, map[string]any{"PolicyContent": map[string]any{"S3": map[string]any{"PolicyBucket": "policies", "PolicyKey": "daily.json", "VersionId": v1}}}))
	if got := e.policy(t, resp.PhysicalResourceID).Content; got != wantContent {
		t.Errorf("content from S3 = %s", got)
	}
}

// TestFaultsStillConverge: with 30% of Organizations calls failing with a
// retryable error, Create, Update and Delete still succeed and leave the
// right state, exactly one response each.
func TestFaultsStillConverge(t *testing.T) {
	t.Parallel()
	for _, kind := range []awsemu.FaultKind{awsemu.FaultConcurrentModification, awsemu.FaultThrottle, awsemu.FaultPolicyChangesInProgress, awsemu.FaultInternalError} {
		t.Run(fmt.Sprint(kind), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{emu: awsemu.Options{Seed: uint64(kind) + 7}})
			e.emu.InjectFault(awsemu.Fault{Service: "organizations", Kind: kind, Probability: 0.3})
			p := props(t, nil)
			id := e.create(t, p).PhysicalResourceID
			if pol := e.policy(t, id); len(pol.Targets) != 3 || pol.Content != wantContent {
				t.Errorf("after Create: %+v", pol)
			}
			changed := props(t, map[string]any{"PolicyTargets": []any{awsemu.SampleSecurityOU}, "Variables": []any{map[string]any{"$vault": "v2"}}})
			resp := e.do(t, request{typ: cfn.RequestUpdate, physicalID: id, props: changed, oldProps: p})
			mustSucceed(t, resp)
			pol := e.policy(t, id)
			if diff := cmp.Diff([]string{awsemu.SampleSecurityOU}, pol.Targets); diff != "" || !strings.Contains(pol.Content, `"v2"`) {
				t.Errorf("after Update: targets %v, content %s", pol.Targets, pol.Content)
			}
			mustSucceed(t, e.do(t, request{typ: cfn.RequestDelete, physicalID: id, props: changed}))
			if n := len(e.emu.Policies()); n != 0 {
				t.Errorf("%d policies after Delete", n)
			}
			injected := 0
			for _, c := range e.emu.CallsTo("organizations") {
				if c.Injected {
					injected++
				}
			}
			if injected == 0 {
				t.Error("no fault was injected; the test proved nothing")
			}
			t.Logf("%d of %d Organizations calls failed and were retried", injected, e.emu.CountCalls("organizations", ""))
		})
	}
}

func TestLatencyBeyondDeadline(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{deadline: 1500 * time.Millisecond})
	e.emu.InjectFault(awsemu.Fault{Service: "organizations", Operation: "AttachPolicy", Latency: time.Minute})
	p := props(t, nil)
	start := time.Now()
	resp := e.do(t, request{typ: cfn.RequestCreate, props: p})
	mustFail(t, resp, "did not finish before the Lambda deadline", "partially applied")
	upload := e.emu.Uploads(e.lastRequestID())[0]
	if upload.Received.After(start.Add(e.deadline)) {
		t.Errorf("response arrived %v after the request began; the deadline was %v", upload.Received.Sub(start), e.deadline)
	}
	if !orgpolicyID(resp.PhysicalResourceID) {
		t.Fatalf("timed-out Create answered %q instead of the policy it created", resp.PhysicalResourceID)
	}
	// CloudFormation's rollback deletes what the Create made.
	e.emu.ClearFaults()
	e.deadline = 30 * time.Second
	mustSucceed(t, e.do(t, request{typ: cfn.RequestDelete, physicalID: resp.PhysicalResourceID, props: p}))
	if n := len(e.emu.Policies()); n != 0 {
		t.Errorf("%d policies left", n)
	}
}

// TestDeadlineEndingRetriesNamesTheCause: AttachPolicy meets
// ConcurrentModificationException on every attempt until the work deadline;
// the Reason names the operation, the target, the attempts and the error.
func TestDeadlineEndingRetriesNamesTheCause(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{deadline: 1500 * time.Millisecond, maxAttempts: 1000, maxBackoff: 100 * time.Millisecond})
	e.emu.InjectFault(awsemu.Fault{Service: "organizations", Operation: "AttachPolicy", Kind: awsemu.FaultConcurrentModification})
	resp := e.do(t, request{typ: cfn.RequestCreate, props: props(t, nil)})
	if !orgpolicyID(resp.PhysicalResourceID) {
		t.Fatalf("FAILED Create answered %q instead of the policy it created", resp.PhysicalResourceID)
	}
	sent := e.emu.CountCalls("organizations", "AttachPolicy")
	t.Logf("Reason: %s", resp.Reason)
	m := regexp.MustCompile(`attaching Organizations policy \((p-\w+)\) to target 555555555555: gave up after (\d+) attempts at the deadline; last error ConcurrentModificationException`).FindStringSubmatch(resp.Reason)
	if m == nil {
		t.Fatalf("Reason %q does not name the operation, target, attempts and last error", resp.Reason)
	}
	mustFail(t, resp, "did not finish before the Lambda deadline", "partially applied")
	// One request can be cut in flight before the emulator logs it.
	if n, _ := strconv.Atoi(m[2]); m[1] != resp.PhysicalResourceID || sent < 2 || n < sent || n > sent+1 {
		t.Errorf("Reason names %s after %s attempts; the policy is %s and the emulator answered %d attempts", m[1], m[2], resp.PhysicalResourceID, sent)
	}
}

func TestPanicBecomesFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.resource.S3 = nil // miswired: reading from S3 dereferences nil
	resp := e.do(t, request{typ: cfn.RequestCreate, props: props(t, map[string]any{"PolicyContent": map[string]any{"S3": map[string]any{"PolicyBucket": "b", "PolicyKey": "k"}}})})
	mustFail(t, resp, "internal error: panic")
	if !strings.Contains(e.logs.String(), `"stack":"goroutine`) {
		t.Error("the panic's stack was not logged")
	}
}

func TestResponseURLFailingOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.emu.InjectFault(awsemu.Fault{Service: awsemu.ResponseService, Kind: awsemu.FaultInternalError, First: 1})
	resp := e.create(t, props(t, nil))
	e.policy(t, resp.PhysicalResourceID)
	if n := e.emu.CountCalls(awsemu.ResponseService, "PutResponse"); n != 2 {
		t.Errorf("%d response PUTs, want 2 (one failed, one delivered)", n)
	}
	if n := len(e.emu.Policies()); n != 1 {
		t.Errorf("%d policies", n)
	}
}

func (e *env) lastRequestID() string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", e.requests.Load())
}

func TestReplacementTimeoutNamesTheNewPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	old := props(t, nil)
	oldID := e.create(t, old).PhysicalResourceID
	e.emu.InjectFault(awsemu.Fault{Service: "organizations", Operation: "AttachPolicy", Latency: time.Minute})
	e.deadline = 1500 * time.Millisecond
	tagPolicy := props(t, map[string]any{"PolicyType": "TAG_POLICY", "PolicyRegions": nil, "Variables": nil, "PolicyContent": `{"tags":{}}`})
	resp := e.do(t, request{typ: cfn.RequestUpdate, physicalID: oldID, props: tagPolicy, oldProps: old})
	var newID string
	for _, p := range e.emu.Policies() {
		if p.ID != oldID {
			newID = p.ID
		}
	}
	if newID == "" {
		t.Fatal("the replacement policy was not created before the timeout")
	}
	mustFail(t, resp, "did not finish before the Lambda deadline", newID+" was created by this request and is not tracked by CloudFormation")
	if resp.PhysicalResourceID != oldID {
		t.Errorf("FAILED update answered %s, want the old %s", resp.PhysicalResourceID, oldID)
	}
}
