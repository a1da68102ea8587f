package cfntemplate_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/cfntemplate"
)

func load(t *testing.T, path string) *cfntemplate.Template {
	t.Helper()
	tpl, err := cfntemplate.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestParseShortForms(t *testing.T) {
	t.Parallel()
	tpl, err := cfntemplate.Parse("t", []byte(`
Resources:
  A:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-q"
      Tags:
        - Key: k
          Value: !Join ["-", [!Ref AWS::Region, !GetAtt B.Arn, !Select [0, !Split [",", "a,b"]]]]
      DelaySeconds: 5
      FifoQueue: true
`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(tpl.Doc["Resources"])
	want := `{"A":{"Properties":{"DelaySeconds":5,"FifoQueue":true,"QueueName":{"Fn::Sub":"${AWS::StackName}-q"},` +
		`"Tags":[{"Key":"k","Value":{"Fn::Join":["-",[{"Ref":"AWS::Region"},{"Fn::GetAtt":["B","Arn"]},{"Fn::Select":[0,{"Fn::Split":[",","a,b"]}]}]]}}]},"Type":"AWS::SQS::Queue"}}`
	if string(got) != want {
		t.Errorf("parsed\n%s\nwant\n%s", got, want)
	}
	for src, wantErr := range map[string]string{
		"A: !Reff x":         "unknown tag !Reff",
		"A: 1\nA: 2":         `duplicate key "A"`,
		"A: !GetAtt NoDot":   `!GetAtt "NoDot" is not Resource.Attribute`,
		"- just\n- a list\n": "a template must be a mapping",
	} {
		if _, err := cfntemplate.Parse("t", []byte(src)); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: error %v, want %q", src, err, wantErr)
		}
	}
}

func TestGrantsAndCompare(t *testing.T) {
	t.Parallel()
	tpl := load(t, "testdata/good.yaml")
	granted, err := tpl.Grants("Fn")
	if err != nil {
		t.Fatal(err)
	}
	// Both branches of the Fn::If count: some deployment grants them.
	if diff := cmp.Diff([]string{"s3:GetObject", "sqs:SendMessage"}, granted); diff != "" {
		t.Errorf("grants (-want +got):\n%s", diff)
	}
	tests := []struct {
		name            string
		granted, called []string
		missing, unused []string
	}{
		{"equal", granted, []string{"SQS:SendMessage", "s3:GetObject"}, nil, nil},
		{"grant removed", []string{"sqs:SendMessage"}, []string{"sqs:SendMessage", "s3:GetObject"}, []string{"s3:GetObject"}, nil},
		{"grant added", append(granted, "s3:PutObject"), []string{"sqs:SendMessage", "s3:GetObject"}, nil, []string{"s3:PutObject"}},
		{"wildcard", []string{"s3:Get*"}, []string{"s3:GetObject", "s3:GetObjectVersion"}, nil, nil},
		{"unused wildcard", []string{"s3:Get*", "kms:*"}, []string{"s3:GetObject"}, nil, []string{"kms:*"}},
	}
	for _, tt := range tests {
		missing, unused := cfntemplate.CompareActions(tt.granted, tt.called)
		if !cmp.Equal(tt.missing, missing) || !cmp.Equal(tt.unused, unused) {
			t.Errorf("%s: missing %v, unused %v; want %v, %v", tt.name, missing, unused, tt.missing, tt.unused)
		}
	}
	if _, err := tpl.Grants("Queue"); err == nil {
		t.Error("Grants of a queue did not fail")
	}
}

func TestGrantsFollowRole(t *testing.T) {
	t.Parallel()
	tpl := load(t, "testdata/role.yaml")
	// The function has the grants of the role it names; SAM's Lambda
	// runtime policy is not the code's and is not counted.
	for _, id := range []string{"Fn", "Role"} {
		granted, err := tpl.Grants(id)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"s3:GetObject"}, granted); diff != "" {
			t.Errorf("%s grants (-want +got):\n%s", id, diff)
		}
	}
	// Any other managed policy cannot be enumerated.
	for _, id := range []string{"AdminFn", "Admin"} {
		if _, err := tpl.Grants(id); err == nil || !strings.Contains(err.Error(), "AdministratorAccess") {
			t.Errorf("Grants(%s) error %v, want the managed policy named", id, err)
		}
	}
}

func TestEvaluateAndAllowed(t *testing.T) {
	t.Parallel()
	tpl := load(t, "testdata/role.yaml")
	docs, err := tpl.PolicyDocuments("Fn")
	if err != nil {
		t.Fatal(err)
	}
	pseudo := map[string]string{"AWS::Partition": "aws-cn"}
	tests := []struct {
		types string
		req   cfntemplate.Request
		want  bool
	}{
		{"A,B", cfntemplate.Request{Action: "s3:GetObject", Resource: "arn:aws-cn:s3:::bucket-b/x/y"}, true},
		{"A", cfntemplate.Request{Action: "s3:GetObject", Resource: "arn:aws-cn:s3:::bucket-b/x/y"}, false},
		{"A", cfntemplate.Request{Action: "S3:getobject", Resource: "arn:aws-cn:s3:::bucket-a/k"}, true},
		{"A", cfntemplate.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::bucket-a/k"}, false},
		{"A", cfntemplate.Request{Action: "s3:PutObject", Resource: "arn:aws-cn:s3:::bucket-a/k"}, false},
		// IfExists: an absent key matches, a present one must be listed.
		{"A", cfntemplate.Request{Action: "s3:GetObject", Resource: "arn:aws-cn:s3:::bucket-a/k", Context: map[string]string{"s3:prefix": "A"}}, true},
		{"A", cfntemplate.Request{Action: "s3:GetObject", Resource: "arn:aws-cn:s3:::bucket-a/k", Context: map[string]string{"s3:prefix": "B"}}, false},
		{"AB", cfntemplate.Request{Action: "s3:GetObject", Resource: "arn:aws-cn:s3:::bucket-b/k"}, false},
	}
	for _, tt := range tests {
		v, err := tpl.Evaluate(docs[0], cfntemplate.Deployment{Parameters: map[string]string{"Types": tt.types}, Pseudo: pseudo})
		if err != nil {
			t.Fatal(err)
		}
		got, err := cfntemplate.Allowed(v.(map[string]any)["Statement"].([]any), tt.req)
		if err != nil || got != tt.want {
			t.Errorf("Types=%s %s on %s %v: allowed %v (%v), want %v", tt.types, tt.req.Action, tt.req.Resource, tt.req.Context, got, err, tt.want)
		}
	}
	// An explicit Deny wins over the Allow.
	v, _ := tpl.Evaluate(docs[0], cfntemplate.Deployment{Pseudo: map[string]string{"AWS::Partition": "aws"}})
	if got, _ := cfntemplate.Allowed(v.(map[string]any)["Statement"].([]any), cfntemplate.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::bucket-a/secret/k"}); got {
		t.Error("the Deny statement did not win")
	}
	// Conditions and AWS::NoValue resolve; a resource reference does not.
	role, _ := tpl.Resource("Role")
	for name, want := range map[string]string{"": "<nil>", "r": "r"} {
		props, err := tpl.Evaluate(role.Properties, cfntemplate.Deployment{Parameters: map[string]string{"Name": name}, Pseudo: pseudo})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(props.(map[string]any)["RoleName"]); got != want {
			t.Errorf("Name=%q: RoleName %s, want %s", name, got, want)
		}
	}
	if _, err := tpl.Evaluate(tpl.Section("Outputs"), cfntemplate.Deployment{}); err == nil || !strings.Contains(err.Error(), "Role") {
		t.Errorf("evaluating a Ref to a resource: error %v", err)
	}
	if _, err := cfntemplate.Allowed([]any{map[string]any{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": map[string]any{"NumericLessThan": map[string]any{"k": "1"}}}}, cfntemplate.Request{Action: "s3:GetObject", Resource: "x"}); err == nil {
		t.Error("an unknown condition operator was evaluated")
	}
}

// TestAllowedAccountPrincipalAndForAnyValue: a resource policy naming an
// account (its root ARN or the bare ID) admits that account's principals
// and no other account's; ForAnyValue is false for a request without the key.
func TestAllowedAccountPrincipalAndForAnyValue(t *testing.T) {
	t.Parallel()
	role := "arn:aws:iam::222222222222:role/aws-service-role/reports.backup.amazonaws.com/AWSServiceRoleForBackupReports"
	for _, tt := range []struct {
		principal any
		caller    string
		want      bool
	}{
		{map[string]any{"AWS": "arn:aws:iam::222222222222:root"}, role, true},
		{map[string]any{"AWS": "222222222222"}, role, true},
		{map[string]any{"AWS": "arn:aws:iam::333333333333:root"}, role, false},
		{map[string]any{"AWS": "arn:aws:iam::222222222222:root"}, "logs.us-east-1.amazonaws.com", false},
	} {
		st := []any{map[string]any{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*", "Principal": tt.principal}}
		if got, err := cfntemplate.Allowed(st, cfntemplate.Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::b/k", Principal: tt.caller}); err != nil || got != tt.want {
			t.Errorf("Principal %v, caller %s: allowed %v (%v), want %v", tt.principal, tt.caller, got, err, tt.want)
		}
	}
	deny := []any{
		map[string]any{"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
		map[string]any{"Effect": "Deny", "Action": "kms:DisableKey", "Resource": "*", "Condition": map[string]any{"ForAnyValue:StringNotLike": map[string]any{"kms:ResourceAliases": "alias/ok*"}}},
	}
	for _, tt := range []struct {
		context map[string]string
		want    bool
	}{
		{nil, true},
		{map[string]string{"kms:ResourceAliases": "alias/ok-1"}, true},
		{map[string]string{"kms:ResourceAliases": "alias/other"}, false},
	} {
		if got, err := cfntemplate.Allowed(deny, cfntemplate.Request{Action: "kms:DisableKey", Resource: "k", Context: tt.context}); err != nil || got != tt.want {
			t.Errorf("ForAnyValue:StringNotLike with %v: allowed %v (%v), want %v", tt.context, got, err, tt.want)
		}
	}
}
