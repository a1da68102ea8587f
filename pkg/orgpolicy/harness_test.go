package orgpolicy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/internal/logcapture"
	"github.com/backup-as-code/orgbackup/pkg/awsclient"
	"github.com/backup-as-code/orgbackup/pkg/cfnresponse"
	"github.com/backup-as-code/orgbackup/pkg/customresource"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
)

const (
	stackID     = "arn:aws:cloudformation:us-east-1:222222222222:stack/backup-org-policies/5b1e7a40-8c2d-11ef-9f1a-0affd3b1c9a1"
	logicalID   = "DailyBackupPolicy"
	managerRole = "arn:aws:iam::222222222222:role/backup-org-policy-manager"
	adminRole   = "arn:aws:iam::111111111111:role/BackupOrgPolicyManagerOrgAdmin"
	// readerRole is cfn/org-admin-role.yaml's ReaderRole, which drift and
	// plan assume; readerUser is the pipeline or person it trusts.
	readerRole = "arn:aws:iam::111111111111:role/BackupOrgPolicyReader"
	readerUser = "arn:aws:iam::222222222222:user/reader"
	// wantContent is testdata/daily.json rendered with $vault = org-vault
	// and PolicyRegions us-east-1,eu-west-1, minified; written out by hand
	// so the test does not trust the renderer it checks.
	wantContent = `{"plans":{"daily":{"regions":{"@@append":["us-east-1","eu-west-1"]},` +
		`"rules":{"nightly":{"schedule_expression":{"@@assign":"cron(0 5 ? * * *)"},"target_backup_vault_name":{"@@assign":"org-vault"},"lifecycle":{"delete_after_days":{"@@assign":"35"}}}},` +
		`"selections":{"tags":{"tagged":{"iam_role_arn":{"@@assign":"arn:aws:iam::$account:role/BackupServiceRole"},"tag_key":{"@@assign":"backup"},"tag_value":{"@@assign":["daily"]}}}}}}}`
)

// env is one function instance, wired as main.go wires it, against an
// emulated organization.
type env struct {
	emu      *awsemu.Emulator
	handler  *customresource.Handler
	resource *orgpolicy.Resource
	// reader is drift and plan as the CLI runs them: readerUser's
	// credentials, assuming readerRole (ro).
	reader   *orgpolicy.Resource
	logs     *logcapture.Buffer
	requests atomic.Int64
	// deadline is the invocation time each request gets.
	deadline time.Duration
}

type envOptions struct {
	emu      awsemu.Options
	defaults orgpolicy.Defaults
	// ownCredentials skips the OrgManagementAccount default.
	ownCredentials bool
	deadline       time.Duration
	// maxAttempts and maxBackoff override the retry policy (default: the
	// function's attempts, 5ms back-off).
	maxAttempts int
	maxBackoff  time.Duration
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	if o.emu.PageSize == 0 {
		o.emu.PageSize = 2 // every list is read across pages
	}
	e := &env{emu: awsemu.New(t, o.emu), logs: &logcapture.Buffer{}, deadline: o.deadline}
	if e.deadline == 0 {
		e.deadline = 30 * time.Second
	}
	e.emu.AddRole(awsemu.Role{ARN: adminRole, Trusted: []string{managerRole}})
	// The reader role grants what cfn/org-admin-role.yaml's ReaderRole
	// does, so a write through it would be refused.
	e.emu.AddRole(awsemu.Role{ARN: readerRole, Trusted: []string{readerUser}, Actions: []string{
		"organizations:ListPolicies", "organizations:DescribePolicy", "organizations:ListTargetsForPolicy", "organizations:ListTagsForResource",
	}})
	creds := e.emu.CredentialsFor("arn:aws:sts::222222222222:assumed-role/backup-org-policy-manager/backup-org-policy-manager")
	if o.maxBackoff == 0 {
		o.maxBackoff = 5 * time.Millisecond
	}
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{
		MaxAttempts:   o.maxAttempts,
		MaxBackoff:    o.maxBackoff,
		Tracing:       true,
		ConfigOptions: e.emu.ConfigOptions(creds),
	})
	if err != nil {
		t.Fatal(err)
	}
	defaults := o.defaults
	if !o.ownCredentials && defaults.OrgManagementAccount == "" {
		defaults.OrgManagementAccount = awsemu.SampleManagementAccount
	}
	e.resource = orgpolicy.NewResource(cfg, "backup-org-policy-manager", defaults)
	readerCfg, err := awsclient.Load(context.Background(), awsclient.Options{MaxBackoff: o.maxBackoff, ConfigOptions: e.emu.ConfigOptions(e.emu.CredentialsFor(readerUser))})
	if err != nil {
		t.Fatal(err)
	}
	e.reader = orgpolicy.NewResource(readerCfg, "backup-policy-drift", defaults)
	logger := slog.New(slog.NewJSONHandler(e.logs, nil))
	hosts, err := customresource.ParseResponseHosts(strings.TrimPrefix(e.emu.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	e.handler = customresource.NewHandler(e.resource.Handle, customresource.Options{
		Logger: logger, LogStreamName: "test-stream",
		ResponseHosts: hosts, StackAccounts: []string{"222222222222"}, Metrics: io.Discard,
	})
	return e
}

// props returns the properties of the resource under test with overrides
// applied (a nil value removes the property), as CloudFormation delivers
// them: strings and lists of strings.
func props(t testing.TB, overrides map[string]any) map[string]any {
	t.Helper()
	content, err := os.ReadFile("testdata/daily.json")
	if err != nil {
		t.Fatal(err)
	}
	p := map[string]any{
		"ServiceToken":  "arn:aws:lambda:us-east-1:222222222222:function:backup-org-policy-manager:live",
		"PolicyName":    "daily",
		"PolicyContent": string(content),
		"Variables":     []any{map[string]any{"$vault": "org-vault"}},
		"PolicyRegions": "us-east-1, eu-west-1",
		"PolicyTargets": []any{awsemu.SampleRootID, awsemu.SampleProdOU, awsemu.SampleDevAccount},
		"Tags":          []any{map[string]any{"Key": "team", "Value": "platform"}},
	}
	for k, v := range overrides {
		if v == nil {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	// A JSON round trip gives exactly the shapes CloudFormation sends.
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

type request struct {
	typ                cfn.RequestType
	physicalID         string
	props, oldProps    map[string]any
	requestID          string // default: a new one
	stackID, logicalID string // default: the test stack and DailyBackupPolicy
}

func (e *env) event(r request) cfn.Event {
	if r.requestID == "" {
		r.requestID = fmt.Sprintf("00000000-0000-4000-8000-%012d", e.requests.Add(1))
	}
	ev := cfn.Event{
		RequestType: r.typ, RequestID: r.requestID, ResponseURL: e.emu.ResponseURL(r.requestID),
		ResourceType: "Custom::BackupOrgPolicy", PhysicalResourceID: r.physicalID,
		LogicalResourceID: logicalID, StackID: stackID,
		ResourceProperties: r.props, OldResourceProperties: r.oldProps,
	}
	if r.stackID != "" {
		ev.StackID = r.stackID
	}
	if r.logicalID != "" {
		ev.LogicalResourceID = r.logicalID
	}
	return ev
}

// do sends a request through the Lambda handler and returns the one
// response CloudFormation received.
func (e *env) do(t testing.TB, r request) cfn.Response {
	t.Helper()
	ev := e.event(r)
	ctx, cancel := context.WithTimeout(context.Background(), e.deadline)
	defer cancel()
	if err := e.handler.Handle(ctx, ev); err != nil {
		t.Fatalf("Handle returned %v", err)
	}
	return e.response(t, ev.RequestID)
}

func (e *env) response(t testing.TB, requestID string) cfn.Response {
	t.Helper()
	uploads := e.emu.Uploads(requestID)
	if len(uploads) != 1 {
		t.Fatalf("CloudFormation received %d responses, want exactly 1", len(uploads))
	}
	if n := len(uploads[0].Body); n > cfnresponse.MaxBytes {
		t.Errorf("response is %d bytes, over the limit", n)
	}
	var resp cfn.Response
	if err := json.Unmarshal(uploads[0].Body, &resp); err != nil {
		t.Fatalf("response is not JSON: %v", err)
	}
	return resp
}

func (e *env) create(t testing.TB, p map[string]any) cfn.Response {
	t.Helper()
	resp := e.do(t, request{typ: cfn.RequestCreate, props: p})
	mustSucceed(t, resp)
	return resp
}

func mustSucceed(t testing.TB, resp cfn.Response) {
	t.Helper()
	if resp.Status != cfn.StatusSuccess {
		t.Fatalf("got %s: %s", resp.Status, resp.Reason)
	}
}

func mustFail(t testing.TB, resp cfn.Response, reasons ...string) {
	t.Helper()
	if resp.Status != cfn.StatusFailed {
		t.Fatalf("got %s, want FAILED", resp.Status)
	}
	for _, r := range reasons {
		if !strings.Contains(resp.Reason, r) {
			t.Errorf("Reason %q\ndoes not contain %q", resp.Reason, r)
		}
	}
}

func (e *env) policy(t testing.TB, id string) awsemu.PolicyState {
	t.Helper()
	p, ok := e.emu.Policy(id)
	if !ok {
		t.Fatalf("policy %s does not exist", id)
	}
	return p
}

// ro is how drift and plan read: through the reader role.
var ro = orgpolicy.ReadOptions{ReaderRoleName: "BackupOrgPolicyReader"}

// writes counts Organizations calls that change something.
func (e *env) writes() map[string]int {
	out := map[string]int{}
	for _, c := range e.emu.CallsTo("organizations") {
		if !strings.HasPrefix(c.Operation, "List") && !strings.HasPrefix(c.Operation, "Describe") {
			out[c.Operation]++
		}
	}
	return out
}

// successfulCalls counts calls by operation, leaving out failed attempts.
func (e *env) successfulCalls(service string) map[string]int {
	out := map[string]int{}
	for _, c := range e.emu.CallsTo(service) {
		if c.ErrorCode == "" {
			out[c.Operation]++
		}
	}
	return out
}

func sortedTargets(p awsemu.PolicyState) []string {
	return slices.Sorted(slices.Values(p.Targets))
}

func ownerTags(extra map[string]string) map[string]string {
	m := map[string]string{orgpolicy.OwnerStackTag: stackID, orgpolicy.OwnerLogicalIDTag: logicalID}
	maps.Copy(m, extra)
	return m
}

// adminClient is someone in the console of the management account: the
// changes made out of band.
func adminClient(t testing.TB, e *env) *organizations.Client {
	t.Helper()
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{ConfigOptions: e.emu.ConfigOptions(e.emu.CredentialsFor("arn:aws:iam::111111111111:user/admin"))})
	if err != nil {
		t.Fatal(err)
	}
	return organizations.NewFromConfig(cfg)
}
