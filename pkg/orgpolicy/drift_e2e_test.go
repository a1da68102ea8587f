package orgpolicy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/pkg/awsclient"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
)

// TestDrift: each drift kind is found through the real SDK against the
// emulated organization, nothing for an organization in sync, and drift
// never writes.
func TestDrift(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name      string
		outOfBand func(t *testing.T, e *env, id string)
		want      []orgpolicy.DriftKind
		check     func(t *testing.T, r orgpolicy.ResourceDrift)
	}{
		{name: "in sync", want: []orgpolicy.DriftKind{orgpolicy.DriftInSync}},
		{name: "content edited in the console", want: []orgpolicy.DriftKind{orgpolicy.DriftContent},
			outOfBand: func(t *testing.T, e *env, id string) {
				org := adminClient(t, e)
				content := strings.Replace(wantContent, `"35"`, `"7"`, 1)
				if _, err := org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(id), Content: aws.String(content)}); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, r orgpolicy.ResourceDrift) {
				if !strings.Contains(r.ContentDiff, "-              \"@@assign\": \"7\"\n+              \"@@assign\": \"35\"\n") {
					t.Errorf("content diff does not show 7 -> 35:\n%s", r.ContentDiff)
				}
			}},
		{name: "a target detached in the console", want: []orgpolicy.DriftKind{orgpolicy.DriftTargets},
			outOfBand: func(t *testing.T, e *env, id string) {
				org := adminClient(t, e)
				if _, err := org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(awsemu.SampleDevAccount)}); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, r orgpolicy.ResourceDrift) {
				if diff := cmp.Diff([]string{awsemu.SampleDevAccount}, r.DetachedOutOfBand); diff != "" || len(r.AttachedOutOfBand) > 0 {
					t.Errorf("detached out of band (-want +got):\n%s; attached %v", diff, r.AttachedOutOfBand)
				}
			}},
		{name: "a tag added in the console", want: []orgpolicy.DriftKind{orgpolicy.DriftTags},
			outOfBand: func(t *testing.T, e *env, id string) {
				org := adminClient(t, e)
				if _, err := org.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(id), Tags: []types.Tag{{Key: aws.String("cost-center"), Value: aws.String("42")}}}); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, r orgpolicy.ResourceDrift) {
				if diff := cmp.Diff([]string{"cost-center"}, r.TagsAdded); diff != "" {
					t.Errorf("tags added (-want +got):\n%s", diff)
				}
			}},
		{name: "deleted in the console", want: []orgpolicy.DriftKind{orgpolicy.DriftMissing},
			outOfBand: deleteOutOfBand},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			p := props(t, nil)
			id := e.create(t, p).PhysicalResourceID
			if tt.outOfBand != nil {
				tt.outOfBand(t, e, id)
			}
			e.emu.ResetCalls()
			rep, err := e.reader.Drift(ctx, stackID, []orgpolicy.Declared{{LogicalID: logicalID, Properties: p}}, ro)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Resources) != 1 {
				t.Fatalf("%d resources, want 1", len(rep.Resources))
			}
			r := rep.Resources[0]
			if diff := cmp.Diff(tt.want, r.Kinds); diff != "" {
				t.Errorf("drift kinds (-want +got):\n%s", diff)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
			if w := e.writes(); len(w) > 0 {
				t.Errorf("drift wrote: %v", w)
			}
		})
	}
}

// TestDriftOwnership: a policy whose tags name this stack and a logical ID
// the template no longer declares is undeclared (orphaned); one of another
// stack is listed for the stack check; untagged ones are not this
// project's.
func TestDriftOwnership(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Pages large enough that each list is one page, for the call count.
	e := newEnv(t, envOptions{emu: awsemu.Options{PageSize: 100}})
	p := props(t, nil)
	gone := e.do(t, request{typ: "Create", props: props(t, map[string]any{"PolicyName": "weekly"}), logicalID: "WeeklyBackupPolicy"})
	mustSucceed(t, gone)
	otherStack := "arn:aws:cloudformation:us-east-1:222222222222:stack/other/0f1e2d3c-0000-11ef-9f1a-0affd3b1c9a1"
	other := e.do(t, request{typ: "Create", props: props(t, map[string]any{"PolicyName": "other"}), stackID: otherStack})
	mustSucceed(t, other)
	earlierPolicy(t, e, "untagged", nil)
	id := e.create(t, p).PhysicalResourceID

	e.emu.ResetCalls()
	rep, err := e.reader.Drift(ctx, stackID, []orgpolicy.Declared{{LogicalID: logicalID, Properties: p}}, ro)
	if err != nil {
		t.Fatal(err)
	}
	want := orgpolicy.DriftReport{
		Resources:   []orgpolicy.ResourceDrift{{LogicalID: logicalID, PolicyID: id, Kinds: []orgpolicy.DriftKind{orgpolicy.DriftInSync}}},
		Undeclared:  []orgpolicy.OwnedPolicy{{PolicyID: gone.PhysicalResourceID, Name: "weekly", Type: "BACKUP_POLICY", StackID: stackID, LogicalID: "WeeklyBackupPolicy"}},
		OtherStacks: []orgpolicy.OwnedPolicy{{PolicyID: other.PhysicalResourceID, Name: "other", Type: "BACKUP_POLICY", StackID: otherStack, LogicalID: logicalID}},
	}
	if diff := cmp.Diff(want, rep); diff != "" {
		t.Errorf("drift report (-want +got):\n%s", diff)
	}
	// The call budget: ListPolicies pages, one ListTagsForResource per
	// policy of the type, DescribePolicy and target pages per matched one.
	calls := e.successfulCalls("organizations")
	policies := len(e.emu.Policies())
	wantCalls := map[string]int{"ListPolicies": 1, "ListTagsForResource": policies, "DescribePolicy": 1, "ListTargetsForPolicy": 1}
	if diff := cmp.Diff(wantCalls, calls); diff != "" {
		t.Errorf("calls for %d policies (-want +got):\n%s", policies, diff)
	}
}

// TestOrphans: a policy is orphaned when the stack its tags name is
// deleted (DescribeStacks by unique ID: DELETE_COMPLETE) or unknown
// (ValidationError); a running stack's is not; a stack in another Region
// is left unchecked. One DescribeStacks per distinct stack.
func TestOrphans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	emu := awsemu.New(t, awsemu.Options{})
	running := emu.AddStack("222222222222", "us-east-1", "backup-org-policies")
	deleted := emu.AddStack("222222222222", "us-east-1", "old-policies")
	emu.DeleteStack(deleted)
	never := "arn:aws:cloudformation:us-east-1:222222222222:stack/never/00000000-0000-4000-8000-000000000000"
	elsewhere := "arn:aws:cloudformation:eu-west-1:222222222222:stack/eu/00000000-0000-4000-8000-000000000001"
	owned := func(id, stack string) orgpolicy.OwnedPolicy {
		return orgpolicy.OwnedPolicy{PolicyID: id, Name: id, Type: "BACKUP_POLICY", StackID: stack, LogicalID: "Daily"}
	}
	policies := []orgpolicy.OwnedPolicy{
		owned("p-running1", running), owned("p-deleted1", deleted), owned("p-deleted2", deleted),
		owned("p-never001", never), owned("p-elsewher", elsewhere),
	}
	// A reader outside the functions' roles (the IAM check of the suite
	// holds the functions' roles to their grants).
	cfg, err := awsclient.Load(ctx, awsclient.Options{ConfigOptions: emu.ConfigOptions(emu.CredentialsFor("arn:aws:iam::222222222222:user/reader"))})
	if err != nil {
		t.Fatal(err)
	}
	got, err := orgpolicy.Orphans(ctx, cloudformation.NewFromConfig(cfg), "222222222222", cfg.Region, policies)
	if err != nil {
		t.Fatal(err)
	}
	want := orgpolicy.OrphanCheck{
		Orphaned:  []orgpolicy.OwnedPolicy{policies[1], policies[2], policies[3]},
		Unchecked: []orgpolicy.OwnedPolicy{policies[4]},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("orphans (-want +got):\n%s", diff)
	}
	if n := emu.CountCalls("cloudformation", "DescribeStacks"); n != 3 {
		t.Errorf("%d DescribeStacks calls, want 3 (one per distinct stack in this account and Region)", n)
	}
}

// TestDriftErrors: a read that fails ends drift and orphans with the error
// and what was being read, never with a partial report.
func TestDriftErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	p := props(t, nil)
	e.create(t, p)
	e.emu.InjectFault(awsemu.Fault{Service: "organizations", Operation: "ListTagsForResource", Kind: awsemu.FaultAccessDenied})
	rep, err := e.reader.Drift(ctx, stackID, []orgpolicy.Declared{{LogicalID: logicalID, Properties: p}}, ro)
	if err == nil || !strings.Contains(err.Error(), "listing tags of Organizations policy") || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Errorf("Drift error = %v, want the tags read and AccessDeniedException", err)
	}
	if len(rep.Resources) > 0 {
		t.Errorf("a partial report with the error: %+v", rep)
	}
	if _, err := e.reader.Drift(ctx, stackID, []orgpolicy.Declared{{LogicalID: logicalID, Properties: props(t, map[string]any{"PolicyName": nil})}}, ro); err == nil || !strings.Contains(err.Error(), logicalID+": ") || !strings.Contains(err.Error(), "PolicyName") {
		t.Errorf("Drift of a resource without PolicyName: error = %v, want its logical ID and the property", err)
	}

	emu := awsemu.New(t, awsemu.Options{})
	stack := emu.AddStack("222222222222", "us-east-1", "backup-org-policies")
	emu.InjectFault(awsemu.Fault{Service: "cloudformation", Operation: "DescribeStacks", Kind: awsemu.FaultAccessDenied})
	cfg, err := awsclient.Load(ctx, awsclient.Options{ConfigOptions: emu.ConfigOptions(emu.CredentialsFor("arn:aws:iam::222222222222:user/reader"))})
	if err != nil {
		t.Fatal(err)
	}
	got, err := orgpolicy.Orphans(ctx, cloudformation.NewFromConfig(cfg), "222222222222", cfg.Region, []orgpolicy.OwnedPolicy{{PolicyID: "p-abcd1234", StackID: stack}})
	if err == nil || !strings.Contains(err.Error(), "describing stack "+stack) || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Errorf("Orphans error = %v, want the stack and AccessDeniedException", err)
	}
	if len(got.Orphaned) > 0 {
		t.Errorf("an access error counted as gone: %+v", got)
	}
}
