package orgpolicy_test

import (
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
)

// managerActions are the Organizations actions the manager's code calls.
var managerActions = []string{
	"organizations:CreatePolicy", "organizations:DeletePolicy", "organizations:AttachPolicy",
	"organizations:DetachPolicy", "organizations:ListPolicies", "organizations:UpdatePolicy",
	"organizations:DescribePolicy", "organizations:ListTargetsForPolicy", "organizations:TagResource",
	"organizations:UntagResource", "organizations:ListTagsForResource", "organizations:ListRoots",
	"organizations:EnablePolicyType",
}

func without(actions []string, drop string) []string {
	var out []string
	for _, a := range actions {
		if a != drop {
			out = append(out, a)
		}
	}
	return out
}

func disabledEnv(t *testing.T, roleActions []string) *env {
	t.Helper()
	org := awsemu.BackupPolicyDisabledOrganization()
	e := newEnv(t, envOptions{emu: awsemu.Options{Organization: &org}})
	if roleActions != nil {
		e.emu.AddRole(awsemu.Role{ARN: adminRole, Trusted: []string{managerRole}, Actions: roleActions})
	}
	return e
}

// TestPolicyTypeNotEnabledReasonGivesTheFix: attaching a backup policy in
// an organization whose root has backup policies disabled fails with the
// exact command that enables them; the root's ID is read from the target
// (a root, an OU's ID), or for an account with one ListRoots call, and
// without permission for that the command says where to find it.
func TestPolicyTypeNotEnabledReasonGivesTheFix(t *testing.T) {
	t.Parallel()
	const fix = "`aws organizations enable-policy-type --root-id r-a1b2 --policy-type BACKUP_POLICY`"
	tests := []struct {
		name        string
		target      string
		roleActions []string
		want        string
		listRoots   int
	}{
		{"root target", awsemu.SampleRootID, nil, fix, 0},
		{"OU target: the root is in its ID", awsemu.SampleProdOU, nil, fix, 0},
		{"account target: one ListRoots", awsemu.SampleDevAccount, nil, fix, 1},
		{
			"account target without ListRoots", awsemu.SampleDevAccount, without(managerActions, "organizations:ListRoots"),
			"`aws organizations enable-policy-type --root-id <root ID: aws organizations list-roots> --policy-type BACKUP_POLICY`", 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := disabledEnv(t, tt.roleActions)
			resp := e.do(t, request{typ: cfn.RequestCreate, props: props(t, map[string]any{"PolicyTargets": []any{tt.target}})})
			mustFail(t, resp, "PolicyTypeNotEnabledException", tt.want, `or set EnablePolicyType: "true"`)
			if n := e.emu.CountCalls("organizations", "ListRoots"); n != tt.listRoots {
				t.Errorf("ListRoots called %d times, want %d", n, tt.listRoots)
			}
			if n := e.emu.CountCalls("organizations", "EnablePolicyType"); n != 0 {
				t.Errorf("EnablePolicyType called %d times without EnablePolicyType: \"true\"", n)
			}
			// The policy made before the failed attach is named, so the
			// rollback deletes it.
			if _, ok := e.emu.Policy(resp.PhysicalResourceID); !ok {
				t.Errorf("FAILED response names %q, not the policy created", resp.PhysicalResourceID)
			}
		})
	}
}

// TestEnablePolicyTypeEnablesAndAttaches: with EnablePolicyType: "true" the
// first refused attach enables the type in the root and is retried until
// the asynchronous enabling completes; the other targets attach at once.
func TestEnablePolicyTypeEnablesAndAttaches(t *testing.T) {
	t.Parallel()
	e := disabledEnv(t, nil)
	resp := e.create(t, props(t, map[string]any{"EnablePolicyType": "true"}))
	p := e.policy(t, resp.PhysicalResourceID)
	if diff := cmp.Diff([]string{awsemu.SampleDevAccount, awsemu.SampleProdOU, awsemu.SampleRootID}, sortedTargets(p)); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	want := map[string]int{"CreatePolicy": 1, "AttachPolicy": 3, "ListRoots": 1, "EnablePolicyType": 1}
	if diff := cmp.Diff(want, e.successfulCalls("organizations")); diff != "" {
		t.Errorf("successful Organizations calls (-want +got):\n%s", diff)
	}
	// The first attach refused, then one retry while PENDING_ENABLE
	// (the fixture's EnableDelayRequests is 2).
	if n := e.emu.CountCalls("organizations", "AttachPolicy"); n != 5 {
		t.Errorf("AttachPolicy sent %d times, want 3 + 2 refused", n)
	}

	// The type is enabled now: another Create is N+1 calls again.
	e.emu.ResetCalls()
	e.create(t, props(t, map[string]any{"PolicyName": "weekly", "EnablePolicyType": "true"}))
	if diff := cmp.Diff(map[string]int{"CreatePolicy": 1, "AttachPolicy": 3}, callsByOperation(e)); diff != "" {
		t.Errorf("Organizations calls once enabled (-want +got):\n%s", diff)
	}
}

// TestEnablePolicyTypeNoExtraCallWhenEnabled: the happy path stays N+1
// calls with either setting.
func TestEnablePolicyTypeNoExtraCallWhenEnabled(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"true", "false"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			e.create(t, props(t, map[string]any{"EnablePolicyType": v}))
			if diff := cmp.Diff(map[string]int{"CreatePolicy": 1, "AttachPolicy": 3}, callsByOperation(e)); diff != "" {
				t.Errorf("Organizations calls (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEnablePolicyTypeAccessDenied: a role without
// organizations:EnablePolicyType (AllowEnablePolicyType false) gets a
// Reason naming the action and the role.
func TestEnablePolicyTypeAccessDenied(t *testing.T) {
	t.Parallel()
	e := disabledEnv(t, without(managerActions, "organizations:EnablePolicyType"))
	resp := e.do(t, request{typ: cfn.RequestCreate, props: props(t, map[string]any{"EnablePolicyType": "true"})})
	mustFail(t, resp, "enabling policy type BACKUP_POLICY in root r-a1b2", "AccessDeniedException",
		"the role "+adminRole+" is not allowed organizations:EnablePolicyType: add it to that role's permissions policy")
}

// callsByOperation counts every Organizations request, failed ones too.
func callsByOperation(e *env) map[string]int {
	out := map[string]int{}
	for _, c := range e.emu.CallsTo("organizations") {
		out[c.Operation]++
	}
	return out
}

// TestEnablePolicyTypeAsDelegatedAdministrator: with its own credentials
// (OrgManagementAccount empty) a delegated administrator enables the type
// too (Organizations API Reference, EnablePolicyType: callable by the
// management account or a delegated administrator).
func TestEnablePolicyTypeAsDelegatedAdministrator(t *testing.T) {
	t.Parallel()
	org := awsemu.BackupPolicyDisabledOrganization()
	org.DelegatedAdministrators = []string{awsemu.SampleSolutionAccount}
	e := newEnv(t, envOptions{emu: awsemu.Options{Organization: &org}, ownCredentials: true})
	resp := e.create(t, props(t, map[string]any{"EnablePolicyType": "true"}))
	if n := len(e.policy(t, resp.PhysicalResourceID).Targets); n != 3 {
		t.Errorf("%d targets, want 3", n)
	}
	for _, op := range []string{"ListRoots", "EnablePolicyType"} {
		if n := e.successfulCalls("organizations")[op]; n != 1 {
			t.Errorf("%s succeeded %d times, want 1", op, n)
		}
	}
}
