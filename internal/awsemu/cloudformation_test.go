package awsemu_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/pkg/awsclient"
)

func clientConfig(t *testing.T, e *awsemu.Emulator) aws.Config {
	t.Helper()
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{MaxAttempts: 1, ConfigOptions: e.ConfigOptions(e.CredentialsFor("arn:aws:iam::222222222222:user/reader"))})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestStacks: DescribeStacks and GetTemplate find a running stack by name
// or ID and a deleted one by ID only; NoEcho values are masked and an
// SSM-typed parameter carries its ResolvedValue.
func TestStacks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := awsemu.New(t, awsemu.Options{})
	body := "Parameters:\n  Secret:\n    Type: String\n    NoEcho: true\n  Retention:\n    Type: AWS::SSM::Parameter::Value<String>\nResources: {}\n"
	id := e.AddStack("222222222222", "us-east-1", "policies")
	e.SetStackTemplate(id, body, map[string]string{"Secret": "s3cr3t", "Retention": "/backup/retention"})
	e.SetResolvedParameter(id, "Retention", "35")
	cf := cloudformation.NewFromConfig(clientConfig(t, e))

	out, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("policies")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for _, p := range out.Stacks[0].Parameters {
		got[aws.ToString(p.ParameterKey)] = [2]string{aws.ToString(p.ParameterValue), aws.ToString(p.ResolvedValue)}
	}
	want := map[string][2]string{"Secret": {"*****", ""}, "Retention": {"/backup/retention", "35"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parameters (-want +got):\n%s", diff)
	}
	tpl, err := cf.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String(id), TemplateStage: cftypes.TemplateStageOriginal})
	if err != nil || aws.ToString(tpl.TemplateBody) != body {
		t.Errorf("GetTemplate: %v %q", err, aws.ToString(tpl.TemplateBody))
	}
	e.DeleteStack(id)
	if _, err := cf.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String("policies")}); errorCode(err) != "ValidationError" {
		t.Errorf("GetTemplate of a deleted stack by name: %v, want ValidationError", err)
	}
	if _, err := cf.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String(id)}); err != nil {
		t.Errorf("GetTemplate of a deleted stack by ID: %v (AWS keeps it 90 days)", err)
	}
	if _, err := cf.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String(id), TemplateStage: "Final"}); errorCode(err) != "ValidationError" {
		t.Errorf("TemplateStage Final: %v, want ValidationError", err)
	}
}

// TestPublish: Publish reaches an existing topic only, with the subject
// and message rules of the API reference; an encrypted topic needs its key.
func TestPublish(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := awsemu.New(t, awsemu.Options{})
	topic := "arn:aws:sns:us-east-1:222222222222:drift"
	e.AddTopic(topic, "arn:aws:kms:us-east-1:222222222222:key/k")
	c := sns.NewFromConfig(clientConfig(t, e))
	tests := []struct {
		name, topic, subject, message, code string
	}{
		{name: "ok", topic: topic, subject: "Drift: 2 findings", message: "details"},
		{name: "non-ASCII subject", topic: topic, subject: "Dérive : 2", message: "details"},
		{name: "subject of 100 characters", topic: topic, subject: strings.Repeat("a", 100), message: "m", code: "InvalidParameter"},
		{name: "line break in subject", topic: topic, subject: "a\nb", message: "m", code: "InvalidParameter"},
		{name: "message over 256 KB", topic: topic, subject: "s", message: strings.Repeat("x", 262145), code: "InvalidParameter"},
		{name: "no such topic", topic: "arn:aws:sns:us-east-1:222222222222:none", subject: "s", message: "m", code: "NotFound"},
	}
	for _, tt := range tests {
		_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(tt.topic), Subject: aws.String(tt.subject), Message: aws.String(tt.message)})
		if errorCode(err) != tt.code {
			t.Errorf("%s: error %v, want code %q", tt.name, err, tt.code)
		}
	}
	if got := e.Messages(topic); len(got) != 2 || got[1].Subject != "Dérive : 2" {
		t.Errorf("messages %+v", got)
	}
	for _, call := range e.CallsTo("sns") {
		if call.ErrorCode == "" && !cmp.Equal(call.Actions, []string{"sns:Publish", "kms:GenerateDataKey", "kms:Decrypt"}) {
			t.Errorf("Publish to an encrypted topic needs %v", call.Actions)
		}
	}
}
