package orgpolicy_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
)

// write is a write call as the plan and the call log both show it: the
// operation and, for AttachPolicy and DetachPolicy, the target.
type write struct{ Operation, Target string }

func planWrites(rp orgpolicy.ResourcePlan) []write {
	var out []write
	for _, s := range rp.Steps {
		out = append(out, write{s.Operation, s.Target})
	}
	return out
}

// loggedWrites are the Organizations writes of the call log, in order.
func (e *env) loggedWrites() []write {
	var out []write
	for _, c := range e.emu.CallsTo("organizations") {
		if strings.HasPrefix(c.Operation, "List") || strings.HasPrefix(c.Operation, "Describe") || c.ErrorCode != "" {
			continue
		}
		w := write{Operation: c.Operation}
		if _, t, ok := strings.Cut(c.Target, " -> "); ok {
			w.Target = t
		} else if _, t, ok := strings.Cut(c.Target, " -x "); ok {
			w.Target = t
		}
		out = append(out, w)
	}
	return out
}

// TestPlanMatchesDeploy: the plan of each kind of change lists exactly the
// writes the request CloudFormation then sends makes, in their order
// (compared with the call log), and planning writes nothing.
func TestPlanMatchesDeploy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		// outOfBand runs after the Create; newProps are the next
		// template's properties (nil: the resource is removed).
		outOfBand  func(t *testing.T, e *env, id string)
		newProps   map[string]any
		wantAction orgpolicy.Action
		wantOps    []string
	}{
		{
			name:       "content, targets and tags change",
			newProps:   map[string]any{"Variables": []any{map[string]any{"$vault": "other-vault"}}, "PolicyTargets": []any{awsemu.SampleRootID, awsemu.SampleDevOU}, "Tags": []any{map[string]any{"Key": "team", "Value": "storage"}}},
			wantAction: orgpolicy.ActionUpdate,
			wantOps:    []string{"UpdatePolicy", "TagResource", "AttachPolicy", "DetachPolicy", "DetachPolicy"},
		},
		{
			name:       "a rename and a target detached out of band",
			outOfBand:  detachOutOfBand(awsemu.SampleDevAccount),
			newProps:   map[string]any{"PolicyName": "daily-v2"},
			wantAction: orgpolicy.ActionUpdate,
			wantOps:    []string{"UpdatePolicy", "AttachPolicy"},
		},
		{
			name:       "deleted out of band: replaced",
			outOfBand:  deleteOutOfBand,
			newProps:   map[string]any{"PolicyDescription": "daily backups"},
			wantAction: orgpolicy.ActionReplace,
			wantOps:    []string{"CreatePolicy", "AttachPolicy", "AttachPolicy", "AttachPolicy"},
		},
		{
			name:       "a property that changes no policy, organization in sync",
			newProps:   map[string]any{"EnablePolicyType": "true"},
			wantAction: orgpolicy.ActionNoChange,
		},
		{
			name:       "removed from the template",
			wantAction: orgpolicy.ActionDelete,
			wantOps:    []string{"DetachPolicy", "DetachPolicy", "DetachPolicy", "DeletePolicy"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			old := props(t, nil)
			id := e.create(t, old).PhysicalResourceID
			if tt.outOfBand != nil {
				tt.outOfBand(t, e, id)
			}
			deployed := []orgpolicy.Declared{{LogicalID: logicalID, Properties: old}}
			var declared []orgpolicy.Declared
			var next request
			if tt.newProps != nil {
				p := props(t, tt.newProps)
				declared = []orgpolicy.Declared{{LogicalID: logicalID, Properties: p}}
				next = request{typ: cfn.RequestUpdate, physicalID: id, props: p, oldProps: old}
			} else {
				next = request{typ: cfn.RequestDelete, physicalID: id, props: old}
			}

			e.emu.ResetCalls()
			plan, err := e.reader.Plan(ctx, stackID, declared, deployed, ro)
			if err != nil {
				t.Fatal(err)
			}
			if w := e.writes(); len(w) > 0 {
				t.Errorf("plan wrote: %v", w)
			}
			if len(plan.Resources) != 1 {
				t.Fatalf("plan of %d resources, want 1: %+v", len(plan.Resources), plan)
			}
			rp := plan.Resources[0]
			if rp.Action != tt.wantAction {
				t.Errorf("action %s (%s), want %s", rp.Action, rp.Reason, tt.wantAction)
			}
			var ops []string
			for _, s := range rp.Steps {
				ops = append(ops, s.Operation)
			}
			if diff := cmp.Diff(tt.wantOps, ops); diff != "" {
				t.Errorf("planned operations (-want +got):\n%s", diff)
			}
			if plan.Changes() != (len(tt.wantOps) > 0) {
				t.Errorf("Changes() = %v with steps %v", plan.Changes(), ops)
			}

			e.emu.ResetCalls()
			mustSucceed(t, e.do(t, next))
			if diff := cmp.Diff(planWrites(rp), e.loggedWrites()); diff != "" {
				t.Errorf("plan (-) and the deploy's writes (+) differ:\n%s", diff)
			}
		})
	}
}

// TestPlanDetails: what a plan says beyond the operations: the content diff
// of an UpdatePolicy, a rename, the tags, why a resource is not sent, and
// a new stack planned with no call at all.
func TestPlanDetails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	old := props(t, nil)
	id := e.create(t, old).PhysicalResourceID
	changed := props(t, map[string]any{"PolicyName": "daily-v2", "Variables": []any{map[string]any{"$vault": "other-vault"}}})
	weekly := props(t, map[string]any{"PolicyName": "weekly"})
	// Someone edits the policy in the console; the template does not
	// change this resource, so the deploy will not repair it.
	org := adminClient(t, e)
	if _, err := org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(id), Description: aws.String("edited")}); err != nil {
		t.Fatal(err)
	}
	deployed := []orgpolicy.Declared{{LogicalID: logicalID, Properties: old}, {LogicalID: "Unchanged", Properties: old}}
	plan, err := e.reader.Plan(ctx, stackID, []orgpolicy.Declared{
		{LogicalID: logicalID, Properties: changed},
		{LogicalID: "Unchanged", Properties: old},
		{LogicalID: "WeeklyBackupPolicy", Properties: weekly},
	}, deployed, ro)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Resources) != 3 {
		t.Fatalf("%d resources planned, want 3", len(plan.Resources))
	}
	upd := plan.Resources[0]
	if upd.Action != orgpolicy.ActionUpdate || upd.PolicyID != id || len(upd.Steps) != 1 {
		t.Fatalf("update plan %+v", upd)
	}
	s := upd.Steps[0]
	if diff := cmp.Diff(&[2]string{"daily", "daily-v2"}, s.Name); diff != "" {
		t.Errorf("rename (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&[2]string{"edited", ""}, s.Description); diff != "" {
		t.Errorf("description restored (-want +got):\n%s", diff)
	}
	if !strings.Contains(s.ContentDiff, "-            \"@@assign\": \"org-vault\"\n+            \"@@assign\": \"other-vault\"\n") {
		t.Errorf("content diff does not show the new vault:\n%s", s.ContentDiff)
	}
	if got := plan.Resources[1]; got.Action != orgpolicy.ActionNotSent || got.Steps != nil || !strings.Contains(got.Reason, "CloudFormation sends no request") {
		t.Errorf("unchanged resource planned as %+v", got)
	}
	created := plan.Resources[2]
	if created.Action != orgpolicy.ActionCreate || len(created.Steps) != 4 || created.Steps[0].Operation != orgpolicy.OpCreatePolicy {
		t.Fatalf("new resource planned as %+v", created)
	}
	wantTags := map[string]string{"team": "platform", orgpolicy.OwnerStackTag: stackID, orgpolicy.OwnerLogicalIDTag: "WeeklyBackupPolicy"}
	if diff := cmp.Diff(wantTags, created.Steps[0].Tags); diff != "" {
		t.Errorf("CreatePolicy tags (-want +got):\n%s", diff)
	}

	// CloudFormation refuses a changed ServiceToken; a removed resource
	// that is retained gets no Delete; a replaced one whose old policy is
	// retained gets no cleanup.
	token := props(t, map[string]any{"ServiceToken": "arn:aws:lambda:us-east-1:222222222222:function:other-manager:live"})
	retained := []orgpolicy.Declared{{LogicalID: logicalID, Properties: old, DeletionPolicy: "Retain"}}
	plan, err = e.reader.Plan(ctx, stackID, []orgpolicy.Declared{{LogicalID: logicalID, Properties: token}}, deployed[:1], ro)
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Resources[0]; got.Action != orgpolicy.ActionRefused || !strings.Contains(got.Reason, "ServiceToken changed") || len(got.Steps) > 0 || !plan.Refused() {
		t.Errorf("changed ServiceToken planned as %+v", got)
	}
	plan, err = e.reader.Plan(ctx, stackID, nil, retained, ro)
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Resources[0]; got.Action != orgpolicy.ActionRetain || got.PolicyID != id || len(got.Steps) > 0 {
		t.Errorf("removed resource with DeletionPolicy Retain planned as %+v", got)
	}
	deleteOutOfBand(t, e, id)
	plan, err = e.reader.Plan(ctx, stackID, []orgpolicy.Declared{{LogicalID: logicalID, Properties: changed, UpdateReplacePolicy: "Retain"}}, deployed[:1], ro)
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Resources[0]; got.Action != orgpolicy.ActionReplace || !strings.Contains(got.Reason, "UpdateReplacePolicy Retain") || slices.ContainsFunc(got.Steps, func(s orgpolicy.Step) bool { return s.Cleanup }) {
		t.Errorf("replacement with UpdateReplacePolicy Retain planned as %+v", got)
	}

	// A stack that does not exist: every resource a create, nothing read.
	e.emu.ResetCalls()
	plan, err = e.reader.Plan(ctx, "", []orgpolicy.Declared{{LogicalID: logicalID, Properties: old}}, nil, ro)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.emu.Calls()); n > 0 {
		t.Errorf("planning a new stack made %d calls", n)
	}
	if got := plan.Resources[0]; got.Action != orgpolicy.ActionCreate || len(got.Steps) != 4 {
		t.Errorf("new stack planned as %+v", got)
	}
}

func detachOutOfBand(target string) func(t *testing.T, e *env, id string) {
	return func(t *testing.T, e *env, id string) {
		t.Helper()
		if _, err := adminClient(t, e).DetachPolicy(context.Background(), &organizations.DetachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(target)}); err != nil {
			t.Fatal(err)
		}
	}
}
