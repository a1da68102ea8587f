package orgpolicy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
)

// pythonRoleActions are the actions the earlier solution's org-admin role
// allows (aws-backup-backuporgpolicymanager-mangement-role.yaml): no tag
// action at all.
var pythonRoleActions = []string{
	"organizations:CreatePolicy", "organizations:DeletePolicy", "organizations:AttachPolicy",
	"organizations:DetachPolicy", "organizations:ListPolicies", "organizations:UpdatePolicy",
	"organizations:DescribePolicy", "organizations:ListTargetsForPolicy",
}

// earlierPolicy makes a policy the way the earlier solution did: no tags,
// attached to the root and the sandbox account.
func earlierPolicy(t *testing.T, e *env, name string, tags map[string]string) string {
	t.Helper()
	ctx := context.Background()
	org := adminClient(t, e)
	in := &organizations.CreatePolicyInput{
		Name: aws.String(name), Description: aws.String("from the Python solution"), Type: types.PolicyTypeBackupPolicy,
		Content: aws.String(`{"plans":{"daily":{"regions":{"@@append":["us-east-1"]}}}}`),
	}
	for k, v := range tags {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := org.CreatePolicy(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.Policy.PolicySummary.Id)
	for _, target := range []string{awsemu.SampleRootID, awsemu.SampleSandboxAccount} {
		if _, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(target)}); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func TestAdoptExistingPolicy(t *testing.T) {
	t.Parallel()
	t.Run("untagged policy of the same name is adopted", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOptions{})
		id := earlierPolicy(t, e, "daily", nil)
		e.emu.ResetCalls()
		resp := e.create(t, props(t, map[string]any{"AdoptExistingPolicy": "true"}))
		if resp.PhysicalResourceID != id {
			t.Fatalf("physical ID %s, want the adopted %s", resp.PhysicalResourceID, id)
		}
		p := e.policy(t, id)
		if p.Content != wantContent || p.Description != "" {
			t.Errorf("adopted policy not converged: %+v", p)
		}
		if diff := cmp.Diff([]string{awsemu.SampleDevAccount, awsemu.SampleProdOU, awsemu.SampleRootID}, sortedTargets(p)); diff != "" {
			t.Errorf("targets (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(ownerTags(map[string]string{"team": "platform"}), p.Tags); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
		if n := len(e.emu.Policies()); n != 1 {
			t.Errorf("%d policies, want the adopted one only", n)
		}
		var writes []string
		for _, c := range e.emu.CallsTo("organizations") {
			if c.ErrorCode == "" && !strings.HasPrefix(c.Operation, "List") && !strings.HasPrefix(c.Operation, "Describe") {
				writes = append(writes, c.Operation)
			}
		}
		// The ownership tags come last: until then the policy is not this
		// resource's.
		want := []string{"UpdatePolicy", "TagResource", "AttachPolicy", "AttachPolicy", "DetachPolicy", "TagResource"}
		if diff := cmp.Diff(want, writes); diff != "" {
			t.Errorf("successful writes (-want +got):\n%s", diff)
		}
		// From now on it is an ordinary policy of this resource.
		mustSucceed(t, e.do(t, request{typ: cfn.RequestDelete, physicalID: id, props: props(t, nil)}))
		if _, ok := e.emu.Policy(id); ok {
			t.Error("adopted policy survived its Delete")
		}
	})

	refused := []struct {
		name      string
		tags      map[string]string
		overrides map[string]any
		want      []string
	}{
		{
			name: "not without AdoptExistingPolicy",
			want: []string{"already has this name and is not managed by this resource (it has no ownership tags)", `set AdoptExistingPolicy: "true"`},
		},
		{
			name:      "not when another resource owns it",
			tags:      map[string]string{"backup-org-policy:stack-id": stackID, "backup-org-policy:logical-id": "MonthlyBackupPolicy"},
			overrides: map[string]any{"AdoptExistingPolicy": "true"},
			want:      []string{"is not managed by this resource (its ownership tags say: stack " + stackID + ", logical ID MonthlyBackupPolicy)"},
		},
		{
			name:      "a failed adoption leaves it unowned and out of the rollback",
			overrides: map[string]any{"AdoptExistingPolicy": "true", "PolicyTargets": []any{awsemu.SampleRootID, awsemu.SampleSandboxAccount, "999999999999"}, "Variables": nil, "PolicyRegions": nil, "PolicyContent": `{"plans":{"daily":{"regions":{"@@append":["us-east-1"]}}}}`, "PolicyDescription": "from the Python solution", "Tags": nil},
			want:      []string{"to target 999999999999", "TargetNotFoundException", "it is not adopted (no ownership tags)"},
		},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			id := earlierPolicy(t, e, "daily", tt.tags)
			before := e.policy(t, id)
			p := props(t, tt.overrides)
			resp := e.do(t, request{typ: cfn.RequestCreate, props: p})
			mustFail(t, resp, tt.want...)
			if orgpolicyID(resp.PhysicalResourceID) {
				t.Errorf("FAILED Create answered policy %s: the rollback would delete it", resp.PhysicalResourceID)
			}
			mustSucceed(t, e.do(t, request{typ: cfn.RequestDelete, physicalID: resp.PhysicalResourceID, props: p}))
			if diff := cmp.Diff(before, e.policy(t, id)); diff != "" {
				t.Errorf("existing policy changed (-before +after):\n%s", diff)
			}
		})
	}

	t.Run("a policy whose name only starts the same is not adopted", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOptions{})
		other := earlierPolicy(t, e, "daily-v2", nil)
		before := e.policy(t, other)
		resp := e.create(t, props(t, map[string]any{"AdoptExistingPolicy": "true"}))
		if resp.PhysicalResourceID == other {
			t.Fatal("adopted daily-v2 for PolicyName daily")
		}
		if diff := cmp.Diff(before, e.policy(t, other)); diff != "" {
			t.Errorf("daily-v2 changed (-before +after):\n%s", diff)
		}
	})

	t.Run("the value is checked", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOptions{})
		mustFail(t, e.do(t, request{typ: cfn.RequestCreate, props: props(t, map[string]any{"AdoptExistingPolicy": "yes"})}), `AdoptExistingPolicy: "yes"; allowed: "true", "false"`)
	})
}

// TestAccessDeniedNamesActionAndRole: the earlier solution's org-admin role
// lacks the tag actions; the Reason says which action and which role.
func TestAccessDeniedNamesActionAndRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		actions []string
		adopt   bool
		want    string
	}{
		{
			name:    "Create: CreatePolicy with tags needs TagResource",
			actions: pythonRoleActions,
			want:    "the role " + adminRole + " is not allowed organizations:TagResource: add it to that role's permissions policy",
		},
		{
			name:    "adoption reads the tags",
			actions: append([]string{"organizations:TagResource"}, pythonRoleActions...),
			adopt:   true,
			want:    "the role " + adminRole + " is not allowed organizations:ListTagsForResource: add it to that role's permissions policy",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			e.emu.AddRole(awsemu.Role{ARN: adminRole, Trusted: []string{managerRole}, Actions: tt.actions})
			var existing string
			if tt.adopt {
				existing = earlierPolicy(t, e, "daily", nil)
			}
			e.emu.ResetCalls()
			resp := e.do(t, request{typ: cfn.RequestCreate, props: props(t, map[string]any{"AdoptExistingPolicy": "true"})})
			mustFail(t, resp, "AccessDeniedException", tt.want)
			if w := e.successfulCalls("organizations"); w["UpdatePolicy"]+w["AttachPolicy"]+w["DetachPolicy"]+w["CreatePolicy"] != 0 {
				t.Errorf("writes before the refusal: %v", w)
			}
			if n := len(e.emu.Policies()); (existing == "" && n != 0) || (existing != "" && n != 1) {
				t.Errorf("%d policies", n)
			}
		})
	}
}
