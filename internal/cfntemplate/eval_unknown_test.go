package cfntemplate_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/cfntemplate"
)

// TestEvaluateDeployTimeValues: what only a deployment knows is an
// UnknownError naming the key that supplies it; supplied, it is used.
func TestEvaluateDeployTimeValues(t *testing.T) {
	t.Parallel()
	tpl, err := cfntemplate.Parse("t.yaml", []byte(`Parameters:
  Ssm: {Type: "AWS::SSM::Parameter::Value<List<String>>", Default: /x}
  NoDefault: {Type: String}
Resources:
  Bucket: {Type: AWS::S3::Bucket}
  Value:
    Type: AWS::SSM::Parameter
    Properties:
      Import: !ImportValue {Fn::Sub: "${AWS::Region}-export"}
      Att: !GetAtt Bucket.Arn
      SubAtt: !Sub "${Bucket.Arn}/x"
      Ref: !Ref Bucket
      List: !Join ["+", !Ref Ssm]
      Required: !Ref NoDefault
      Dynamic: "{{resolve:ssm:/name}}-x"
      Json: {Fn::ToJsonString: {b: [1, "<x>"], a: true}}
`))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := tpl.Resource("Value")
	pseudo := map[string]string{"AWS::Region": "eu-west-1"}
	tests := []struct {
		property, kind, key, given, want string
	}{
		{"Import", "Fn::ImportValue", "ImportValue:eu-west-1-export", "v", "v"},
		{"Att", "Fn::GetAtt", "Bucket.Arn", "arn:b", "arn:b"},
		{"SubAtt", "Fn::GetAtt", "Bucket.Arn", "arn:b", "arn:b/x"},
		{"Ref", "Ref", "Bucket", "b", "b"},
		{"List", "SSM parameter", "Ssm", "a,b", "a+b"},
		{"Required", "parameter", "NoDefault", "v", "v"},
		{"Dynamic", "dynamic reference", "{{resolve:ssm:/name}}", "n", "n-x"},
	}
	for _, tt := range tests {
		t.Run(tt.property, func(t *testing.T) {
			t.Parallel()
			_, err := tpl.Evaluate(r.Properties[tt.property], cfntemplate.Deployment{Pseudo: pseudo})
			var u *cfntemplate.UnknownError
			if !errors.As(err, &u) || u.Kind != tt.kind || u.Name != tt.key {
				t.Fatalf("err %v, want UnknownError %s %s", err, tt.kind, tt.key)
			}
			got, err := tpl.Evaluate(r.Properties[tt.property], cfntemplate.Deployment{Pseudo: pseudo, Parameters: map[string]string{tt.key: tt.given}})
			if err != nil || got != tt.want {
				t.Errorf("given: %v, %v; want %q", got, err, tt.want)
			}
		})
	}
	got, err := tpl.Evaluate(r.Properties["Json"], cfntemplate.Deployment{})
	if diff := cmp.Diff(`{"a":true,"b":[1,"<x>"]}`, got); err != nil || diff != "" {
		t.Errorf("Fn::ToJsonString: %v (-want +got):\n%s", err, diff)
	}
}
