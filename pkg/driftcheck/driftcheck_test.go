package driftcheck_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/pkg/awsclient"
	"github.com/backup-as-code/orgbackup/pkg/driftcheck"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
	"github.com/backup-as-code/orgbackup/pkg/policysource"
)

const (
	// fnSession is the check function's execution role, as
	// template.yaml's PolicyDriftCheckFunction runs it.
	fnSession   = "arn:aws:sts::222222222222:assumed-role/policy-drift-check/policy-drift-check"
	fnRole      = "arn:aws:iam::222222222222:role/policy-drift-check"
	managerRole = "arn:aws:iam::222222222222:role/backup-org-policy-manager"
	topicARN    = "arn:aws:sns:us-east-1:222222222222:backup-policy-drift"
	template    = "testdata/stack.yaml"
)

type fixture struct {
	emu     *awsemu.Emulator
	manager *orgpolicy.Resource
	checker *driftcheck.Checker
	metrics *bytes.Buffer
	// orgAccount is the stacks' OrgManagementAccount parameter.
	orgAccount string
}

// newFixture is an organization, the policy manager, the topic (encrypted
// with a key of the account) and the check as the function wires it;
// delegated runs everything with the functions' own credentials, as a
// delegated administrator.
func newFixture(t *testing.T, delegated bool) *fixture {
	t.Helper()
	ctx := context.Background()
	org := awsemu.SampleOrganization()
	f := &fixture{metrics: &bytes.Buffer{}, orgAccount: awsemu.SampleManagementAccount}
	if delegated {
		org.DelegatedAdministrators = []string{awsemu.SampleSolutionAccount}
		f.orgAccount = ""
	}
	f.emu = awsemu.New(t, awsemu.Options{Organization: &org, PageSize: 2})
	f.emu.AddRole(awsemu.Role{ARN: "arn:aws:iam::111111111111:role/BackupOrgPolicyManagerOrgAdmin", Trusted: []string{managerRole}})
	f.emu.AddRole(awsemu.Role{ARN: "arn:aws:iam::111111111111:role/BackupOrgPolicyReader", Trusted: []string{fnRole}, Actions: []string{
		"organizations:ListPolicies", "organizations:DescribePolicy", "organizations:ListTargetsForPolicy", "organizations:ListTagsForResource",
	}})
	f.emu.AddTopic(topicARN, "arn:aws:kms:us-east-1:222222222222:key/0b1e7a40-8c2d-41ef-9f1a-0affd3b1c9a1")
	load := func(principal string) aws.Config {
		cfg, err := awsclient.Load(ctx, awsclient.Options{MaxAttempts: 2, ConfigOptions: f.emu.ConfigOptions(f.emu.CredentialsFor(principal))})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	f.manager = orgpolicy.NewResource(load("arn:aws:sts::222222222222:assumed-role/backup-org-policy-manager/fn"), "backup-org-policy-manager", orgpolicy.Defaults{})
	cfg := load(fnSession)
	f.checker = &driftcheck.Checker{
		CloudFormation: cloudformation.NewFromConfig(cfg), Account: "222222222222", Region: "us-east-1",
		Resource: orgpolicy.NewResource(cfg, "policy-drift-check", orgpolicy.Defaults{}),
		Read:     orgpolicy.ReadOptions{ReaderRoleName: "BackupOrgPolicyReader"},
		SNS:      sns.NewFromConfig(cfg), TopicARN: topicARN,
		Metrics: f.metrics, Namespace: "BackupAsCode/PolicyDrift", FunctionName: "policy-drift-check",
	}
	return f
}

// deploy creates a stack of testdata/stack.yaml and its policy, as
// CloudFormation and the policy manager would; it returns the stack and
// policy IDs.
func (f *fixture) deploy(t *testing.T, name string) (stackID, policyID string) {
	t.Helper()
	body, err := os.ReadFile(template)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"OrgManagementAccount": f.orgAccount, "Retention": "35"}
	stackID = f.emu.AddStack("222222222222", "us-east-1", name)
	f.emu.SetStackTemplate(stackID, string(body), params)
	file, err := policysource.Read(template, policysource.Options{Parameters: params, StackID: stackID, StackName: name, Account: "222222222222"})
	if err != nil {
		t.Fatal(err)
	}
	policyID, _, err = f.manager.Handle(context.Background(), cfn.Event{RequestType: cfn.RequestCreate, StackID: stackID, LogicalResourceID: "DailyBackupPolicy", ResourceProperties: file.Policies[0].Properties})
	if err != nil {
		t.Fatal(err)
	}
	return stackID, policyID
}

func (f *fixture) admin(t *testing.T) *organizations.Client {
	t.Helper()
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{ConfigOptions: f.emu.ConfigOptions(f.emu.CredentialsFor("arn:aws:iam::111111111111:user/admin"))})
	if err != nil {
		t.Fatal(err)
	}
	return organizations.NewFromConfig(cfg)
}

// record is the EMF record the check wrote.
func (f *fixture) record(t *testing.T) map[string]any {
	t.Helper()
	var rec map[string]any
	if err := json.Unmarshal(f.metrics.Bytes(), &rec); err != nil {
		t.Fatalf("metrics %q: %v", f.metrics.String(), err)
	}
	return rec
}

// TestRunInSync: an organization as declared: every count but InSync is
// zero, nothing is published, and nothing is written to the organization.
func TestRunInSync(t *testing.T) {
	t.Parallel()
	for _, delegated := range []bool{false, true} {
		f := newFixture(t, delegated)
		f.deploy(t, "policies-a")
		f.deploy(t, "policies-b")
		f.emu.ResetCalls()
		s, err := f.checker.Run(context.Background(), []string{"policies-a", "policies-b"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"InSync": 2, "ContentDrift": 0, "TargetsDrift": 0, "TagsDrift": 0, "Missing": 0, "Orphaned": 0, "CheckErrors": 0, "Findings": 0}
		if diff := cmp.Diff(want, s.Counts); diff != "" {
			t.Errorf("delegated=%v: counts (-want +got):\n%s", delegated, diff)
		}
		if m := f.emu.Messages(topicARN); len(m) > 0 {
			t.Errorf("published for an organization in sync: %+v", m)
		}
		rec := f.record(t)
		if rec["Findings"] != 0.0 || rec["InSync"] != 2.0 || rec["FunctionName"] != "policy-drift-check" {
			t.Errorf("EMF record %v", rec)
		}
		for _, c := range f.emu.CallsTo("organizations") {
			if !strings.HasPrefix(c.Operation, "List") && !strings.HasPrefix(c.Operation, "Describe") {
				t.Errorf("the check wrote: %s", c.Operation)
			}
		}
	}
}

// TestRunFindings: content and targets drift, a policy deleted out of band,
// an orphan of a deleted stack and a stack that does not exist are each
// counted, and the summary published once names them.
func TestRunFindings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, false)
	_, edited := f.deploy(t, "edited")
	_, deleted := f.deploy(t, "deleted-policy")
	gone, _ := f.deploy(t, "gone")
	f.emu.DeleteStack(gone)
	admin := f.admin(t)
	content := f.emu.Policies()[0].Content
	for _, p := range f.emu.Policies() {
		if p.ID == edited {
			content = strings.Replace(p.Content, `"35"`, `"7"`, 1)
		}
	}
	if _, err := admin.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(edited), Content: aws.String(content)}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(edited), TargetId: aws.String(awsemu.SampleDevAccount)}); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{awsemu.SampleRootID, awsemu.SampleDevAccount} {
		if _, err := admin.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(deleted), TargetId: aws.String(target)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := admin.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String(deleted)}); err != nil {
		t.Fatal(err)
	}

	s, err := f.checker.Run(ctx, []string{"edited", "deleted-policy", "never-deployed"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"InSync": 0, "ContentDrift": 1, "TargetsDrift": 1, "TagsDrift": 0, "Missing": 1, "Orphaned": 1, "CheckErrors": 1, "Findings": 4}
	if diff := cmp.Diff(want, s.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	msgs := f.emu.Messages(topicARN)
	if len(msgs) != 1 {
		t.Fatalf("%d messages published, want 1", len(msgs))
	}
	if msgs[0].Subject != "Backup policy drift: 4 findings in 3 stacks" {
		t.Errorf("subject %q", msgs[0].Subject)
	}
	for _, w := range []string{
		"DailyBackupPolicy " + edited + ": content-drift, targets-drift",
		"detached out of band from 555555555555",
		`-              "@@assign": "7"`,
		"DailyBackupPolicy (no policy): missing",
		"Stack never-deployed:\n  not checked: describing stack never-deployed",
		"(stack " + gone + ", logical ID DailyBackupPolicy): its stack no longer exists",
	} {
		if !strings.Contains(msgs[0].Message, w) {
			t.Errorf("summary lacks %q:\n%s", w, msgs[0].Message)
		}
	}
	// Publishing to the encrypted topic uses its key: the actions the
	// function's role needs for it.
	publishes := 0
	for _, c := range f.emu.CallsTo("sns") {
		if c.Operation == "Publish" && c.ErrorCode == "" {
			publishes++
			if diff := cmp.Diff([]string{"sns:Publish", "kms:GenerateDataKey", "kms:Decrypt"}, c.Actions); diff != "" {
				t.Errorf("Publish actions (-want +got):\n%s", diff)
			}
		}
	}
	if publishes != 1 {
		t.Errorf("%d Publish calls", publishes)
	}
}

// TestRunPublishFails: a summary that cannot be delivered fails the
// invocation (Lambda's Errors metric and retries), after the metrics are
// written.
func TestRunPublishFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.checker.TopicARN = "arn:aws:sns:us-east-1:222222222222:no-such-topic"
	_, err := f.checker.Run(context.Background(), []string{"never-deployed"})
	if err == nil || !strings.Contains(err.Error(), "publishing the drift summary") || !strings.Contains(err.Error(), "NotFound") {
		t.Errorf("Run error = %v, want the publish and NotFound", err)
	}
	if rec := f.record(t); rec["CheckErrors"] != 1.0 || rec["Findings"] != 1.0 {
		t.Errorf("EMF record %v", rec)
	}
}

// TestRunNoEcho: a stack whose template has a NoEcho parameter cannot be
// rendered from DescribeStacks (its value is masked): it is reported as
// not checked, never as drifted.
func TestRunNoEcho(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	stackID, _ := f.deploy(t, "secret-params")
	body, err := os.ReadFile(template)
	if err != nil {
		t.Fatal(err)
	}
	noEcho := strings.Replace(string(body), "    Default: \"35\"\n", "    Default: \"35\"\n    NoEcho: true\n", 1)
	f.emu.SetStackTemplate(stackID, noEcho, map[string]string{"OrgManagementAccount": f.orgAccount, "Retention": "35"})
	s, err := f.checker.Run(context.Background(), []string{"secret-params"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts["CheckErrors"] != 1 || s.Counts["ContentDrift"] != 0 {
		t.Errorf("counts %v, want one check error and no drift", s.Counts)
	}
	if msgs := f.emu.Messages(topicARN); len(msgs) != 1 || !strings.Contains(msgs[0].Message, "NoEcho parameters Retention") {
		t.Errorf("summary %+v", msgs)
	}
}
