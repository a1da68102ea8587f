package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/internal/localenv/localenvtest"
	"github.com/backup-as-code/orgbackup/internal/logcapture"
	"github.com/backup-as-code/orgbackup/internal/runtimeapi"
	"github.com/backup-as-code/orgbackup/pkg/awsclient"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
	"github.com/backup-as-code/orgbackup/pkg/policysource"
)

func TestReadConfig(t *testing.T) {
	t.Parallel()
	topic := "arn:aws:sns:us-east-1:222222222222:drift"
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		stacks  int
	}{
		{name: "stacks and topic", env: map[string]string{"DRIFT_STACKS": "a, b ,,c", "TOPIC_ARN": topic}, stacks: 3},
		{name: "no stacks", env: map[string]string{"DRIFT_STACKS": " , ", "TOPIC_ARN": topic}, wantErr: "DRIFT_STACKS: name at least one stack"},
		{name: "no topic", env: map[string]string{"DRIFT_STACKS": "a"}, wantErr: `TOPIC_ARN "": want the ARN of an SNS topic`},
		{name: "not a topic", env: map[string]string{"DRIFT_STACKS": "a", "TOPIC_ARN": "arn:aws:sqs:us-east-1:222222222222:q"}, wantErr: "want the ARN of an SNS topic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := readConfig(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(c.stacks) != tt.stacks || c.readerRole != "BackupOrgPolicyReader" || c.topic.AccountID != "222222222222" {
				t.Errorf("config %+v, %v", c, err)
			}
		})
	}
}

// TestBootstrap builds the real bootstrap and runs it through a local
// Lambda Runtime API with a schedule event, AWS_ENDPOINT_URL at the
// emulator: a detached target is found, counted in the EMF record and
// published.
func TestBootstrap(t *testing.T) {
	bootstrap := localenvtest.BuildFunction(t, "policy-drift-check")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	emu := awsemu.New(t, awsemu.Options{})
	emu.AddRole(awsemu.Role{ARN: "arn:aws:iam::111111111111:role/BackupOrgPolicyManagerOrgAdmin", Trusted: []string{"arn:aws:iam::222222222222:role/backup-org-policy-manager"}})
	emu.AddRole(awsemu.Role{ARN: "arn:aws:iam::111111111111:role/BackupOrgPolicyReader", Trusted: []string{"arn:aws:iam::222222222222:role/policy-drift-check"}, Actions: []string{
		"organizations:ListPolicies", "organizations:DescribePolicy", "organizations:ListTargetsForPolicy", "organizations:ListTagsForResource",
	}})
	topic := "arn:aws:sns:us-east-1:222222222222:backup-policy-drift"
	emu.AddTopic(topic, "arn:aws:kms:us-east-1:222222222222:key/0b1e7a40-8c2d-41ef-9f1a-0affd3b1c9a1")

	body, err := os.ReadFile("testdata/stack.yaml")
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"OrgManagementAccount": "111111111111", "Retention": "35"}
	stackID := emu.AddStack("222222222222", "us-east-1", "backup-org-policies")
	emu.SetStackTemplate(stackID, string(body), params)
	f, err := policysource.Read("testdata/stack.yaml", policysource.Options{Parameters: params, StackID: stackID, StackName: "backup-org-policies", Account: "222222222222"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := awsclient.Load(ctx, awsclient.Options{ConfigOptions: emu.ConfigOptions(emu.CredentialsFor("arn:aws:sts::222222222222:assumed-role/backup-org-policy-manager/fn"))})
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := orgpolicy.NewResource(cfg, "fn", orgpolicy.Defaults{}).Handle(ctx, cfn.Event{RequestType: cfn.RequestCreate, StackID: stackID, LogicalResourceID: "DailyBackupPolicy", ResourceProperties: f.Policies[0].Properties})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := awsclient.Load(ctx, awsclient.Options{ConfigOptions: emu.ConfigOptions(emu.CredentialsFor("arn:aws:iam::111111111111:user/admin"))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := organizations.NewFromConfig(admin).DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(awsemu.SampleDevAccount)}); err != nil {
		t.Fatal(err)
	}

	var out logcapture.Buffer
	env := append(emu.Env(emu.CredentialsFor("arn:aws:sts::222222222222:assumed-role/policy-drift-check/policy-drift-check")),
		"DRIFT_STACKS=backup-org-policies", "TOPIC_ARN="+topic, "READER_ROLE_NAME=BackupOrgPolicyReader", "AWS_XRAY_SDK_DISABLED=true")
	fn, err := runtimeapi.StartFunction(runtimeapi.Config{Bootstrap: bootstrap, Name: "policy-drift-check", Env: env, Output: &out})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fn.Stop() }()
	if err := fn.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	event := []byte(`{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"Scheduled Event","source":"aws.events","account":"222222222222","time":"2026-12-02T06:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:222222222222:rule/drift-check"],"detail":{}}`)
	res, err := fn.Invoke(ctx, event, 30*time.Second)
	if err != nil || res.Error != nil {
		t.Fatalf("invoke: %v %v\n%s", err, res.Error, out.String())
	}
	msgs := emu.Messages(topic)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Message, "DailyBackupPolicy "+id+": targets-drift") {
		t.Fatalf("published %+v", msgs)
	}
	rec, err := out.Wait(ctx, func(r map[string]any) bool { _, emf := r["_aws"]; return emf })
	if err != nil {
		t.Fatalf("no EMF record: %v\n%s", err, out.String())
	}
	if rec["TargetsDrift"] != 1.0 || rec["Findings"] != 1.0 || rec["FunctionName"] != "policy-drift-check" {
		t.Errorf("EMF record %v", rec)
	}
	records, err := out.Records()
	if err != nil {
		t.Fatal(err) // every line is JSON
	}
	for _, r := range records {
		if _, emf := r["_aws"]; !emf && (r["requestId"] != res.RequestID || r["eventId"] != "7bf73129-1428-4cd3-a780-95db273d1602") {
			t.Errorf("log line without the invocation's IDs: %v", r)
		}
	}
}
