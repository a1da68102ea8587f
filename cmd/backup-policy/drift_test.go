package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/pkg/awsclient"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
	"github.com/backup-as-code/orgbackup/pkg/policysource"
)

const (
	stackTemplate = "testdata/drift/stack.yaml"
	managerRole   = "arn:aws:iam::222222222222:role/backup-org-policy-manager"
	readerUser    = "arn:aws:iam::222222222222:user/reader"
)

// org is an emulated organization with the policy manager and a deployed
// stack: what drift and plan look at.
type org struct {
	emu     *awsemu.Emulator
	manager *orgpolicy.Resource
	stackID string
	props   map[string]any
	// policyID is DailyBackupPolicy's.
	policyID string
}

func newOrg(t *testing.T) *org {
	t.Helper()
	ctx := context.Background()
	o := &org{emu: awsemu.New(t, awsemu.Options{PageSize: 2})}
	o.emu.AddRole(awsemu.Role{ARN: "arn:aws:iam::111111111111:role/BackupOrgPolicyManagerOrgAdmin", Trusted: []string{managerRole}})
	o.emu.AddRole(awsemu.Role{ARN: "arn:aws:iam::111111111111:role/BackupOrgPolicyReader", Trusted: []string{readerUser}, Actions: []string{
		"organizations:ListPolicies", "organizations:DescribePolicy", "organizations:ListTargetsForPolicy", "organizations:ListTagsForResource",
	}})
	cfg, err := awsclient.Load(ctx, awsclient.Options{ConfigOptions: o.emu.ConfigOptions(o.emu.CredentialsFor("arn:aws:sts::222222222222:assumed-role/backup-org-policy-manager/fn"))})
	if err != nil {
		t.Fatal(err)
	}
	o.manager = orgpolicy.NewResource(cfg, "backup-org-policy-manager", orgpolicy.Defaults{})
	body, err := os.ReadFile(stackTemplate)
	if err != nil {
		t.Fatal(err)
	}
	o.stackID = o.emu.AddStack("222222222222", "us-east-1", "backup-org-policies")
	o.emu.SetStackTemplate(o.stackID, string(body), map[string]string{"Retention": "35"})
	o.props = o.properties(t, o.stackID, "35")
	o.policyID = o.deploy(t, cfn.Event{RequestType: cfn.RequestCreate, StackID: o.stackID, LogicalResourceID: "DailyBackupPolicy", ResourceProperties: o.props})
	return o
}

// properties are the resource's properties as CloudFormation sends them
// for the stack, rendered from the template.
func (o *org) properties(t *testing.T, stackID, retention string) map[string]any {
	t.Helper()
	f, err := policysource.Read(stackTemplate, policysource.Options{Parameters: map[string]string{"Retention": retention}, StackID: stackID, StackName: "backup-org-policies", Account: "222222222222"})
	if err != nil {
		t.Fatal(err)
	}
	return f.Policies[0].Properties
}

// deploy is the policy manager serving one request.
func (o *org) deploy(t *testing.T, ev cfn.Event) string {
	t.Helper()
	id, _, err := o.manager.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("%s: %v", ev.RequestType, err)
	}
	return id
}

// cli runs backup-policy as the reader user.
func (o *org) cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := &cli{stdout: &out, stderr: &errOut, awsOptions: o.emu.ConfigOptions(o.emu.CredentialsFor(readerUser))}
	code = c.run(args)
	return code, out.String(), errOut.String()
}

func (o *org) admin(t *testing.T) *organizations.Client {
	t.Helper()
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{ConfigOptions: o.emu.ConfigOptions(o.emu.CredentialsFor("arn:aws:iam::111111111111:user/admin"))})
	if err != nil {
		t.Fatal(err)
	}
	return organizations.NewFromConfig(cfg)
}

// writes are the Organizations writes of the call log, in order, as
// "Operation target".
func (o *org) writes() []string {
	var out []string
	for _, c := range o.emu.CallsTo("organizations") {
		if strings.HasPrefix(c.Operation, "List") || strings.HasPrefix(c.Operation, "Describe") || c.ErrorCode != "" {
			continue
		}
		w := c.Operation
		if _, target, ok := strings.Cut(strings.ReplaceAll(c.Target, " -x ", " -> "), " -> "); ok {
			w += " " + target
		}
		out = append(out, w)
	}
	return out
}

// TestDriftCommand: drift reports an organization in sync (exit 0), then
// what was changed in the console (exit 1) and an orphan of a deleted
// stack, without a write; a stack that does not exist is an error (2).
func TestDriftCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newOrg(t)
	args := []string{"drift", "--template", stackTemplate, "--stack", "backup-org-policies"}

	code, stdout, stderr := o.cli(t, args...)
	if code != exitClean || !strings.Contains(stdout, "1 resource: 1 in sync, 0 drifted; 0 orphaned policies") {
		t.Fatalf("in sync: exit %d\n%s%s", code, stdout, stderr)
	}

	admin := o.admin(t)
	if _, err := admin.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(o.policyID), TargetId: aws.String(awsemu.SampleDevAccount)}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(o.policyID), Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("someone")}}}); err != nil {
		t.Fatal(err)
	}
	gone := o.emu.AddStack("222222222222", "us-east-1", "old-policies")
	o.deploy(t, cfn.Event{RequestType: cfn.RequestCreate, StackID: gone, LogicalResourceID: "DailyBackupPolicy", ResourceProperties: map[string]any{
		"PolicyName": "old-daily", "PolicyContent": o.props["PolicyContent"], "OrgManagementAccount": "111111111111",
	}})
	o.emu.DeleteStack(gone)

	o.emu.ResetCalls()
	code, stdout, stderr = o.cli(t, args...)
	if code != exitFindings {
		t.Errorf("drifted: exit %d, want %d\n%s", code, exitFindings, stderr)
	}
	for _, want := range []string{
		"DailyBackupPolicy  " + o.policyID + "  targets-drift, tags-drift",
		"DailyBackupPolicy: detached out of band from 555555555555",
		"DailyBackupPolicy: tag owner added out of band",
		`"old-daily" (BACKUP_POLICY, stack ` + gone + `, logical ID DailyBackupPolicy): its stack no longer exists`,
		"1 resource: 0 in sync, 1 drifted; 1 orphaned policy",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("drift output lacks %q:\n%s", want, stdout)
		}
	}
	if w := o.writes(); len(w) > 0 {
		t.Errorf("drift wrote: %v", w)
	}

	code, stdout, _ = o.cli(t, append(args, "--format", "json")...)
	var doc driftOutput
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != exitFindings {
		t.Fatalf("json: exit %d, %v\n%s", code, err, stdout)
	}
	if doc.Drifted != 1 || len(doc.Orphaned) != 1 || doc.StackID != o.stackID {
		t.Errorf("json report %+v", doc)
	}

	code, _, stderr = o.cli(t, "drift", "--template", stackTemplate, "--stack", "no-such-stack")
	if code != exitInput || !strings.Contains(stderr, "stack no-such-stack does not exist") {
		t.Errorf("missing stack: exit %d: %s", code, stderr)
	}
}

// TestPlanCommand: plan of a parameter change lists the UpdatePolicy and
// the attachment that repairs an out-of-band detach, and the Update the
// policy manager then serves makes exactly those writes; an unchanged
// template is not sent (exit 0, drift stays); a new stack is all creates.
func TestPlanCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newOrg(t)
	if _, err := o.admin(t).DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(o.policyID), TargetId: aws.String(awsemu.SampleDevAccount)}); err != nil {
		t.Fatal(err)
	}
	args := []string{"plan", "--template", stackTemplate, "--stack", o.stackID}

	code, stdout, stderr := o.cli(t, args...)
	if code != exitClean || !strings.Contains(stdout, "DailyBackupPolicy ("+o.policyID+"): not-sent: properties unchanged") {
		t.Errorf("unchanged template: exit %d\n%s%s", code, stdout, stderr)
	}

	o.emu.ResetCalls()
	code, stdout, stderr = o.cli(t, append(args, "--parameter", "Retention=14")...)
	if code != exitFindings {
		t.Fatalf("changed: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"DailyBackupPolicy (" + o.policyID + "): update",
		"  UpdatePolicy " + o.policyID + ": content\n",
		`-              "@@assign": "35"`,
		`+              "@@assign": "14"`,
		"  AttachPolicy " + o.policyID + " 555555555555\n",
		"1 resource (1 update); 2 writes",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan output lacks %q:\n%s", want, stdout)
		}
	}
	if w := o.writes(); len(w) > 0 {
		t.Errorf("plan wrote: %v", w)
	}
	code, stdout, _ = o.cli(t, append(args, "--parameter", "Retention=14", "--format", "json")...)
	var doc planOutput
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != exitFindings {
		t.Fatalf("json: exit %d, %v\n%s", code, err, stdout)
	}
	var planned []string
	for _, s := range doc.Resources[0].Steps {
		planned = append(planned, strings.TrimSpace(s.Operation+" "+s.Target))
	}

	// The deploy: CloudFormation sends the Update; its writes are the plan.
	o.emu.ResetCalls()
	o.deploy(t, cfn.Event{RequestType: cfn.RequestUpdate, StackID: o.stackID, LogicalResourceID: "DailyBackupPolicy", PhysicalResourceID: o.policyID,
		ResourceProperties: o.properties(t, o.stackID, "14"), OldResourceProperties: o.props})
	if diff := cmp.Diff(planned, o.writes()); diff != "" {
		t.Errorf("plan (-) and the Update's writes (+) differ:\n%s", diff)
	}

	// CloudFormation refuses a changed ServiceToken: exit 2.
	body, err := os.ReadFile(stackTemplate)
	if err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(t.TempDir(), "moved.yaml")
	if err := os.WriteFile(moved, []byte(strings.Replace(string(body), "function:backup-org-policy-manager:live", "function:other-manager:live", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = o.cli(t, "plan", "--template", moved, "--stack", o.stackID, "--parameter", "Retention=14")
	if code != exitInput || !strings.Contains(stdout, "DailyBackupPolicy ("+o.policyID+"): refused: ServiceToken changed") || !strings.Contains(stderr, "CloudFormation would refuse this deploy") {
		t.Errorf("changed ServiceToken: exit %d\n%s%s", code, stdout, stderr)
	}

	// A transform other than SAM's may change what the template declares.
	macro := filepath.Join(t.TempDir(), "macro.yaml")
	if err := os.WriteFile(macro, []byte("Transform: [AWS::Serverless-2016-10-31, AWS::LanguageExtensions]\n"+string(body)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = o.cli(t, "drift", "--template", macro, "--stack", o.stackID)
	if code != exitInput || !strings.Contains(stderr, "Transform AWS::LanguageExtensions is not expanded") {
		t.Errorf("LanguageExtensions template: exit %d: %s", code, stderr)
	}

	// A NoEcho parameter's deployed value is masked: it must be given.
	noecho, err := os.ReadFile("testdata/drift/noecho.yaml")
	if err != nil {
		t.Fatal(err)
	}
	o.emu.SetStackTemplate(o.stackID, string(noecho), map[string]string{"Retention": "14"})
	for _, cmd := range []string{"plan", "drift"} {
		code, _, stderr = o.cli(t, cmd, "--template", "testdata/drift/noecho.yaml", "--stack", o.stackID)
		if code != exitInput || !strings.Contains(stderr, "NoEcho parameters Retention") || !strings.Contains(stderr, "--parameter NAME=VALUE") {
			t.Errorf("%s with a NoEcho parameter: exit %d: %s", cmd, code, stderr)
		}
	}
	code, stdout, stderr = o.cli(t, "plan", "--template", "testdata/drift/noecho.yaml", "--stack", o.stackID, "--parameter", "Retention=14")
	if code != exitClean || !strings.Contains(stdout, "not-sent") {
		t.Errorf("NoEcho parameter given: exit %d\n%s%s", code, stdout, stderr)
	}

	// An SSM-typed parameter is planned with its last resolved value, and
	// the plan says so.
	o.emu.SetStackTemplate(o.stackID, string(body), map[string]string{"Retention": "/backup/retention-days"})
	o.emu.SetResolvedParameter(o.stackID, "Retention", "14")
	code, stdout, stderr = o.cli(t, args...)
	if code != exitClean || !strings.Contains(stdout, "not-sent") || !strings.Contains(stderr, "warning: SSM parameter Retention is planned with the value it resolved to at the last deploy") {
		t.Errorf("SSM parameter: exit %d\n%s%s", code, stdout, stderr)
	}

	code, stdout, stderr = o.cli(t, "plan", "--template", stackTemplate, "--stack", "new-stack")
	if code != exitFindings || !strings.Contains(stdout, "stack new-stack does not exist yet") || !strings.Contains(stdout, `CreatePolicy (new policy) "daily"`) {
		t.Errorf("new stack: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestDriftBinary: the built command finds the emulator through
// AWS_ENDPOINT_URL and the standard credential variables, as the
// functions do.
func TestDriftBinary(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	if _, err := o.admin(t).DetachPolicy(context.Background(), &organizations.DetachPolicyInput{PolicyId: aws.String(o.policyID), TargetId: aws.String(awsemu.SampleDevAccount)}); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "backup-policy")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "drift", "--template", stackTemplate, "--stack", "backup-org-policies")
	cmd.Env = append(os.Environ(), o.emu.Env(o.emu.CredentialsFor(readerUser))...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFindings || !strings.Contains(string(out), "detached out of band from 555555555555") {
		t.Errorf("drift through AWS_ENDPOINT_URL: %v\n%s", err, out)
	}
}
