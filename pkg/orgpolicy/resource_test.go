package orgpolicy_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
)

func TestCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	resp := e.create(t, props(t, nil))

	p := e.policy(t, resp.PhysicalResourceID)
	if p.Content != wantContent {
		t.Errorf("content sent:\n%s\nwant\n%s", p.Content, wantContent)
	}
	if p.Name != "daily" || p.Type != "BACKUP_POLICY" || p.Description != "" {
		t.Errorf("policy = %+v", p)
	}
	if diff := cmp.Diff([]string{awsemu.SampleDevAccount, awsemu.SampleProdOU, awsemu.SampleRootID}, sortedTargets(p)); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ownerTags(map[string]string{"team": "platform"}), p.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	sum := sha256.Sum256([]byte(wantContent))
	targetsSum := sha256.Sum256([]byte("555555555555,ou-a1b2-prod0001,r-a1b2"))
	wantData := map[string]any{
		"PolicyId":            p.ID,
		"PolicyArn":           p.ARN,
		"PolicyName":          "daily",
		"PolicyType":          "BACKUP_POLICY",
		"PolicyTargets":       "555555555555,ou-a1b2-prod0001,r-a1b2",
		"PolicyTargetCount":   "3",
		"PolicyTargetsSha256": hex.EncodeToString(targetsSum[:]),
		"ContentSha256":       hex.EncodeToString(sum[:]),
	}
	if diff := cmp.Diff(wantData, resp.Data); diff != "" {
		t.Errorf("Data (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(p.ARN, "arn:aws:organizations::111111111111:policy/o-a1b2c3d4e5/backup_policy/p-") {
		t.Errorf("ARN %s", p.ARN)
	}

	// SPEC §6: N targets cost N+1 Organizations calls, plus one AssumeRole.
	want := map[string]int{"CreatePolicy": 1, "AttachPolicy": 3}
	if diff := cmp.Diff(want, e.successfulCalls("organizations")); diff != "" {
		t.Errorf("Organizations calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"AssumeRole": 1}, e.successfulCalls("sts")); diff != "" {
		t.Errorf("STS calls (-want +got):\n%s", diff)
	}
	for _, c := range e.emu.CallsTo("organizations") {
		if c.Caller != "arn:aws:sts::111111111111:assumed-role/BackupOrgPolicyManagerOrgAdmin/backup-org-policy-manager" {
			t.Errorf("%s was called as %s, not through the org-admin role", c.Operation, c.Caller)
		}
	}

	// The role's credentials are cached across invocations.
	e.create(t, props(t, map[string]any{"PolicyName": "weekly"}))
	if n := e.emu.CountCalls("sts", "AssumeRole"); n != 1 {
		t.Errorf("AssumeRole called %d times for two requests, want 1", n)
	}
}

func TestCreateWithOwnCredentialsAsDelegatedAdministrator(t *testing.T) {
	t.Parallel()
	org := awsemu.SampleOrganization()
	org.DelegatedAdministrators = []string{awsemu.SampleSolutionAccount}
	e := newEnv(t, envOptions{emu: awsemu.Options{Organization: &org}, ownCredentials: true})
	p := props(t, nil)
	id := e.create(t, p).PhysicalResourceID
	// A retried Create adopts; an Update changes content, targets and
	// tags; a Delete removes the policy: every Organizations action the
	// resource uses, all with the function's own role.
	mustSucceed(t, e.do(t, request{typ: cfn.RequestCreate, props: p}))
	changed := props(t, map[string]any{"PolicyName": "daily-2", "PolicyTargets": awsemu.SampleDevOU, "Tags": map[string]any{"env": "prod"}})
	mustSucceed(t, e.do(t, request{typ: cfn.RequestUpdate, physicalID: id, props: changed, oldProps: p}))
	mustSucceed(t, e.do(t, request{typ: cfn.RequestDelete, physicalID: id, props: changed}))
	if n := len(e.emu.Policies()); n != 0 {
		t.Errorf("%d policies left", n)
	}
	if n := e.emu.CountCalls("sts", ""); n != 0 {
		t.Errorf("%d STS calls; without OrgManagementAccount the function's own credentials are used", n)
	}
	ops := map[string]bool{}
	for _, c := range e.emu.CallsTo("organizations") {
		ops[c.Operation] = true
		if c.Caller != "arn:aws:sts::222222222222:assumed-role/backup-org-policy-manager/backup-org-policy-manager" {
			t.Errorf("%s called as %s", c.Operation, c.Caller)
		}
	}
	if len(ops) != 11 {
		t.Errorf("the delegated-administrator path used %d Organizations operations, want all 11: %v", len(ops), ops)
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		overrides map[string]any
		// wantWrites are the Organizations write calls of the update.
		wantWrites map[string]int
		check      func(t *testing.T, e *env, p awsemu.PolicyState)
	}{
		{
			name:       "nothing changed",
			wantWrites: map[string]int{},
		},
		{
			name:       "content only",
			overrides:  map[string]any{"Variables": []any{map[string]any{"$vault": "other-vault"}}},
			wantWrites: map[string]int{"UpdatePolicy": 1},
			check: func(t *testing.T, e *env, p awsemu.PolicyState) {
				if !strings.Contains(p.Content, `"target_backup_vault_name":{"@@assign":"other-vault"}`) {
					t.Errorf("content not updated: %s", p.Content)
				}
			},
		},
		{
			name:       "name and description",
			overrides:  map[string]any{"PolicyName": "daily-v2", "PolicyDescription": "Daily backups"},
			wantWrites: map[string]int{"UpdatePolicy": 1},
			check: func(t *testing.T, e *env, p awsemu.PolicyState) {
				if p.Name != "daily-v2" || p.Description != "Daily backups" {
					t.Errorf("got name %q, description %q", p.Name, p.Description)
				}
			},
		},
		{
			name:       "targets plus one minus one",
			overrides:  map[string]any{"PolicyTargets": []any{awsemu.SampleRootID, awsemu.SampleProdOU, awsemu.SampleSandboxAccount}},
			wantWrites: map[string]int{"AttachPolicy": 1, "DetachPolicy": 1},
			check: func(t *testing.T, e *env, p awsemu.PolicyState) {
				if diff := cmp.Diff([]string{awsemu.SampleSandboxAccount, awsemu.SampleProdOU, awsemu.SampleRootID}, sortedTargets(p)); diff != "" {
					t.Errorf("targets (-want +got):\n%s", diff)
				}
				var attach, detach int
				for _, c := range e.emu.CallsTo("organizations") {
					switch c.Operation {
					case "AttachPolicy":
						attach = c.Seq
					case "DetachPolicy":
						detach = c.Seq
					}
				}
				if attach > detach {
					t.Error("detached before attaching: the old target was uncovered in between")
				}
			},
		},
		{
			name:       "tags converge, ownership kept",
			overrides:  map[string]any{"Tags": []any{map[string]any{"Key": "team", "Value": "backup"}, map[string]any{"Key": "cost-center", "Value": "42"}}},
			wantWrites: map[string]int{"TagResource": 1},
			check: func(t *testing.T, e *env, p awsemu.PolicyState) {
				if diff := cmp.Diff(ownerTags(map[string]string{"team": "backup", "cost-center": "42"}), p.Tags); diff != "" {
					t.Errorf("tags (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:       "tags removed",
			overrides:  map[string]any{"Tags": nil},
			wantWrites: map[string]int{"UntagResource": 1},
			check: func(t *testing.T, e *env, p awsemu.PolicyState) {
				if diff := cmp.Diff(ownerTags(nil), p.Tags); diff != "" {
					t.Errorf("tags (-want +got):\n%s", diff)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			old := props(t, nil)
			id := e.create(t, old).PhysicalResourceID
			e.emu.ResetCalls()

			resp := e.do(t, request{typ: cfn.RequestUpdate, physicalID: id, props: props(t, tt.overrides), oldProps: old})
			mustSucceed(t, resp)
			if resp.PhysicalResourceID != id {
				t.Errorf("physical ID changed from %s to %s on an in-place update", id, resp.PhysicalResourceID)
			}
			if diff := cmp.Diff(tt.wantWrites, e.writes()); diff != "" {
				t.Errorf("write calls (-want +got):\n%s", diff)
			}
			if tt.check != nil {
				tt.check(t, e, e.policy(t, id))
			}
		})
	}
}

func TestUpdateReplacement(t *testing.T) {
	t.Parallel()
	t.Run("PolicyType changed", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOptions{})
		old := props(t, nil)
		oldID := e.create(t, old).PhysicalResourceID
		before := e.policy(t, oldID)

		tagPolicy := props(t, map[string]any{
			"PolicyType": "TAG_POLICY", "PolicyRegions": nil, "Variables": nil,
			"PolicyContent": `{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"}}}}`,
		})
		resp := e.do(t, request{typ: cfn.RequestUpdate, physicalID: oldID, props: tagPolicy, oldProps: old})
		mustSucceed(t, resp)
		newID := resp.PhysicalResourceID
		if newID == oldID {
			t.Fatal("PolicyType change kept the physical ID")
		}
		if p := e.policy(t, newID); p.Type != "TAG_POLICY" || len(p.Targets) != 3 {
			t.Errorf("new policy = %+v", p)
		}
		if diff := cmp.Diff(before, e.policy(t, oldID)); diff != "" {
			t.Errorf("old policy changed before CloudFormation's Delete (-before +after):\n%s", diff)
		}
		// CloudFormation then deletes the old resource with the old
		// properties.
		mustSucceed(t, e.do(t, request{typ: cfn.RequestDelete, physicalID: oldID, props: old}))
		if _, ok := e.emu.Policy(oldID); ok {
			t.Error("old policy survived its Delete")
		}
		e.policy(t, newID)
	})
	t.Run("deleted out of band", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOptions{})
		old := props(t, nil)
		oldID := e.create(t, old).PhysicalResourceID
		deleteOutOfBand(t, e, oldID)

		resp := e.do(t, request{typ: cfn.RequestUpdate, physicalID: oldID, props: old, oldProps: old})
		mustSucceed(t, resp)
		if resp.PhysicalResourceID == oldID {
			t.Fatal("recreated policy kept the deleted ID")
		}
		if p := e.policy(t, resp.PhysicalResourceID); p.Content != wantContent || len(p.Targets) != 3 {
			t.Errorf("recreated policy = %+v", p)
		}
		// The Delete CloudFormation sends for the old ID finds nothing.
		mustSucceed(t, e.do(t, request{typ: cfn.RequestDelete, physicalID: oldID, props: old}))
	})
	t.Run("failed replacement removes the new policy", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOptions{})
		old := props(t, nil)
		oldID := e.create(t, old).PhysicalResourceID
		badTarget := props(t, map[string]any{
			"PolicyType": "TAG_POLICY", "PolicyRegions": nil, "Variables": nil,
			"PolicyContent": `{"tags":{}}`,
			"PolicyTargets": []any{awsemu.SampleRootID, "999999999999"},
		})
		resp := e.do(t, request{typ: cfn.RequestUpdate, physicalID: oldID, props: badTarget, oldProps: old})
		mustFail(t, resp, "attaching Organizations policy", "to target 999999999999", "TargetNotFoundException", "was removed again")
		if resp.PhysicalResourceID != oldID {
			t.Errorf("FAILED update answered physical ID %s, want the old %s", resp.PhysicalResourceID, oldID)
		}
		if n := len(e.emu.Policies()); n != 1 {
			t.Errorf("%d policies exist, want only the old one", n)
		}
		if strings.Contains(resp.Reason, "not tracked by CloudFormation") {
			t.Errorf("Reason claims a leftover policy that was removed: %s", resp.Reason)
		}
	})
}

// TestUpdateChangingAccessWithinTheOrganization: switching between the
// function's own credentials (delegated administrator) and the management
// account of the same organization is no replacement; a failing update
// leaves the live policy as it was.
func TestUpdateChangingAccessWithinTheOrganization(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		from, to any // OrgManagementAccount; nil: own credentials
	}{
		{"own credentials to the management account", nil, awsemu.SampleManagementAccount},
		{"the management account to own credentials", awsemu.SampleManagementAccount, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			org := awsemu.SampleOrganization()
			org.DelegatedAdministrators = []string{awsemu.SampleSolutionAccount}
			e := newEnv(t, envOptions{emu: awsemu.Options{Organization: &org}, ownCredentials: true})
			old := props(t, map[string]any{"OrgManagementAccount": tt.from})
			id := e.create(t, old).PhysicalResourceID
			before := e.policy(t, id)

			oneBadTarget := props(t, map[string]any{
				"OrgManagementAccount": tt.to,
				"PolicyTargets":        []any{awsemu.SampleRootID, awsemu.SampleProdOU, awsemu.SampleDevAccount, "999999999999"},
			})
			e.emu.ResetCalls()
			resp := e.do(t, request{typ: cfn.RequestUpdate, physicalID: id, props: oneBadTarget, oldProps: old})
			mustFail(t, resp, "to target 999999999999", "TargetNotFoundException")
			if resp.PhysicalResourceID != id {
				t.Errorf("FAILED update answered %s, want %s", resp.PhysicalResourceID, id)
			}
			after, ok := e.emu.Policy(id)
			if !ok {
				t.Fatal("the live policy was deleted")
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("live policy changed (-before +after):\n%s", diff)
			}
			if n := e.emu.CountCalls("organizations", "CreatePolicy"); n != 0 {
				t.Errorf("%d CreatePolicy calls: treated as a replacement", n)
			}

			// The same change with good targets converges in place, with no
			// call beyond an in-place update's.
			e.emu.ResetCalls()
			good := props(t, map[string]any{"OrgManagementAccount": tt.to, "PolicyTargets": []any{awsemu.SampleRootID}})
			resp = e.do(t, request{typ: cfn.RequestUpdate, physicalID: id, props: good, oldProps: old})
			mustSucceed(t, resp)
			if resp.PhysicalResourceID != id {
				t.Errorf("physical ID changed from %s to %s", id, resp.PhysicalResourceID)
			}
			if diff := cmp.Diff(map[string]int{"DetachPolicy": 2}, e.writes()); diff != "" {
				t.Errorf("write calls (-want +got):\n%s", diff)
			}
			for _, c := range e.emu.CallsTo("organizations") {
				if c.Operation == "DescribeOrganization" {
					t.Error("DescribeOrganization called; the policy read already shows the organization")
				}
			}
		})
	}
}

// TestUpdateToAnotherOrganization: a management account of another
// organization is a replacement there; a policy adopted in the process is
// never removed.
func TestUpdateToAnotherOrganization(t *testing.T) {
	t.Parallel()
	const secondAdminRole = "arn:aws:iam::888888888888:role/BackupOrgPolicyManagerOrgAdmin"
	setup := func(t *testing.T) (*env, string, map[string]any) {
		e := newEnv(t, envOptions{emu: awsemu.Options{OtherOrganizations: []awsemu.OrgFixture{awsemu.SecondOrganization()}}})
		e.emu.AddRole(awsemu.Role{ARN: secondAdminRole, Trusted: []string{managerRole}})
		old := props(t, nil)
		return e, e.create(t, old).PhysicalResourceID, old
	}
	t.Run("replaced there", func(t *testing.T) {
		t.Parallel()
		e, oldID, old := setup(t)
		before := e.policy(t, oldID)
		moved := props(t, map[string]any{"OrgManagementAccount": awsemu.SecondManagementAccount, "PolicyTargets": []any{awsemu.SecondRootID}})
		resp := e.do(t, request{typ: cfn.RequestUpdate, physicalID: oldID, props: moved, oldProps: old})
		mustSucceed(t, resp)
		p := e.policy(t, resp.PhysicalResourceID)
		if resp.PhysicalResourceID == oldID || !strings.Contains(p.ARN, ":policy/"+awsemu.SecondOrgID+"/") {
			t.Errorf("new policy %s (%s) is not in the second organization", p.ID, p.ARN)
		}
		if diff := cmp.Diff([]string{awsemu.SecondRootID}, p.Targets); diff != "" {
			t.Errorf("targets (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(before, e.policy(t, oldID)); diff != "" {
			t.Errorf("old policy changed before CloudFormation's Delete (-before +after):\n%s", diff)
		}
		mustSucceed(t, e.do(t, request{typ: cfn.RequestDelete, physicalID: oldID, props: old}))
		if _, ok := e.emu.Policy(oldID); ok {
			t.Error("old policy survived its Delete")
		}
	})
	t.Run("adopted policy kept when the replacement fails", func(t *testing.T) {
		t.Parallel()
		e, oldID, old := setup(t)
		// An earlier attempt of this replacement left a policy there.
		leftover := e.create(t, props(t, map[string]any{"OrgManagementAccount": awsemu.SecondManagementAccount, "PolicyTargets": []any{awsemu.SecondRootID}})).PhysicalResourceID
		before := e.policy(t, leftover)
		moved := props(t, map[string]any{"OrgManagementAccount": awsemu.SecondManagementAccount, "PolicyTargets": []any{awsemu.SecondRootID, "999999999999"}})
		resp := e.do(t, request{typ: cfn.RequestUpdate, physicalID: oldID, props: moved, oldProps: old})
		mustFail(t, resp, "to target 999999999999", "policy "+leftover+", which already existed and was adopted, is left in place")
		if strings.Contains(resp.Reason, "created by this request") {
			t.Errorf("Reason claims the adopted policy was created: %s", resp.Reason)
		}
		after, ok := e.emu.Policy(leftover)
		if !ok {
			t.Fatal("the adopted policy was deleted")
		}
		if diff := cmp.Diff(before.Targets, after.Targets); diff != "" {
			t.Errorf("adopted policy's targets (-before +after):\n%s", diff)
		}
		e.policy(t, oldID)
	})
}

func TestRollbackUpdateWithInvalidOldProperties(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	good := props(t, nil)
	id := e.create(t, good).PhysicalResourceID
	bad := props(t, map[string]any{"PolicyTargets": []any{"ou-bad"}, "OrgManagementAccount": "12"})
	mustFail(t, e.do(t, request{typ: cfn.RequestUpdate, physicalID: id, props: bad, oldProps: good}), "PolicyTargets[0]")
	// CloudFormation rolls back: an Update from the bad properties to the
	// good ones.
	resp := e.do(t, request{typ: cfn.RequestUpdate, physicalID: id, props: good, oldProps: bad})
	mustSucceed(t, resp)
	if resp.PhysicalResourceID != id {
		t.Errorf("rollback replaced the policy: %s -> %s", id, resp.PhysicalResourceID)
	}
}

func TestUpdateRefusesPolicyOwnedByAnotherResource(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	id := e.create(t, props(t, nil)).PhysicalResourceID
	other := props(t, map[string]any{"PolicyName": "renamed"})
	resp := e.do(t, request{typ: cfn.RequestUpdate, physicalID: id, props: other, oldProps: other, logicalID: "SomeoneElse"})
	mustFail(t, resp, "ownership tags name another resource", "logical ID DailyBackupPolicy")
	if p := e.policy(t, id); p.Name != "daily" {
		t.Errorf("policy owned by another resource was renamed to %q", p.Name)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	t.Run("detaches then deletes", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOptions{})
		p := props(t, nil)
		id := e.create(t, p).PhysicalResourceID
		e.emu.ResetCalls()
		mustSucceed(t, e.do(t, request{typ: cfn.RequestDelete, physicalID: id, props: p}))
		if _, ok := e.emu.Policy(id); ok {
			t.Fatal("policy still exists")
		}
		if diff := cmp.Diff(map[string]int{"DetachPolicy": 3, "DeletePolicy": 1}, e.writes()); diff != "" {
			t.Errorf("writes (-want +got):\n%s", diff)
		}
	})
	t.Run("physical ID of a failed Create", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOptions{})
		resp := e.do(t, request{typ: cfn.RequestCreate, props: props(t, map[string]any{"PolicyName": nil})})
		mustFail(t, resp, "PolicyName: required")
		e.emu.ResetCalls()
		mustSucceed(t, e.do(t, request{typ: cfn.RequestDelete, physicalID: resp.PhysicalResourceID, props: props(t, map[string]any{"PolicyName": nil})}))
		for _, c := range e.emu.Calls() {
			if c.Service != awsemu.ResponseService {
				t.Errorf("unexpected call %s %s", c.Service, c.Operation)
			}
		}
	})
	t.Run("owned by another stack", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOptions{})
		p := props(t, nil)
		id := e.create(t, p).PhysicalResourceID
		before := e.policy(t, id)
		mustSucceed(t, e.do(t, request{typ: cfn.RequestDelete, physicalID: id, props: p, stackID: strings.Replace(stackID, "backup-org-policies", "other-stack", 1)}))
		if diff := cmp.Diff(before, e.policy(t, id)); diff != "" {
			t.Errorf("policy of another stack changed (-before +after):\n%s", diff)
		}
	})
	t.Run("owned by another logical ID", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOptions{})
		p := props(t, nil)
		id := e.create(t, p).PhysicalResourceID
		e.emu.ResetCalls()
		mustSucceed(t, e.do(t, request{typ: cfn.RequestDelete, physicalID: id, props: p, logicalID: "MonthlyBackupPolicy"}))
		e.policy(t, id)
		if w := e.writes(); len(w) != 0 {
			t.Errorf("write calls on a policy owned by another resource: %v", w)
		}
	})
	t.Run("already deleted", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOptions{})
		p := props(t, nil)
		id := e.create(t, p).PhysicalResourceID
		deleteOutOfBand(t, e, id)
		mustSucceed(t, e.do(t, request{typ: cfn.RequestDelete, physicalID: id, props: p}))
	})
}

func TestRetriedCreateMakesOnePolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	p := props(t, nil)
	first := e.create(t, p)
	// Lambda retried the same request, or the first attempt timed out after
	// CreatePolicy: same stack, same logical ID, same properties.
	second := e.do(t, request{typ: cfn.RequestCreate, props: p})
	mustSucceed(t, second)
	if first.PhysicalResourceID != second.PhysicalResourceID {
		t.Errorf("retried Create answered %s, first %s", second.PhysicalResourceID, first.PhysicalResourceID)
	}
	if n := len(e.emu.Policies()); n != 1 {
		t.Errorf("%d policies, want 1", n)
	}
}

func TestCreateAfterLostResponseAdoptsAndFinishes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	// CreatePolicy succeeds but its response is lost; the SDK retries and
	// meets DuplicatePolicyException, which the resource resolves by
	// adopting its own policy and attaching every target.
	e.emu.InjectFault(awsemu.Fault{Service: "organizations", Operation: "CreatePolicy", Kind: awsemu.FaultInternalError, First: 1, AfterHandling: true})
	resp := e.create(t, props(t, nil))
	if n := len(e.emu.Policies()); n != 1 {
		t.Fatalf("%d policies, want 1", n)
	}
	if p := e.policy(t, resp.PhysicalResourceID); len(p.Targets) != 3 {
		t.Errorf("adopted policy has targets %v", p.Targets)
	}
}

func TestCreateNameTakenByAnotherOwner(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	theirs := e.create(t, props(t, nil)).PhysicalResourceID
	e.emu.ResetCalls()
	resp := e.do(t, request{typ: cfn.RequestCreate, props: props(t, nil), logicalID: "AnotherPolicy"})
	mustFail(t, resp, "policy "+theirs+" already has this name and is not managed by this resource", "logical ID DailyBackupPolicy")
	if w := e.writes(); len(w) != 1 || w["CreatePolicy"] != 1 {
		t.Errorf("writes %v; only the refused CreatePolicy was expected", w)
	}
	// Nothing was made, so CloudFormation's rollback Delete has nothing to
	// remove and must not touch their policy.
	mustSucceed(t, e.do(t, request{typ: cfn.RequestDelete, physicalID: resp.PhysicalResourceID, props: props(t, nil), logicalID: "AnotherPolicy"}))
	e.policy(t, theirs)
}

func TestAttachmentFailureIsReportedAndRolledBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	p := props(t, map[string]any{"PolicyTargets": []any{awsemu.SampleProdOU, "777777777777"}})
	resp := e.do(t, request{typ: cfn.RequestCreate, props: p})
	mustFail(t, resp, "to target 777777777777", "TargetNotFoundException")
	if !orgpolicyID(resp.PhysicalResourceID) {
		t.Fatalf("FAILED Create answered %q; CloudFormation needs the policy ID to delete it", resp.PhysicalResourceID)
	}
	// CloudFormation rolls back with a Delete of that ID: nothing is left.
	mustSucceed(t, e.do(t, request{typ: cfn.RequestDelete, physicalID: resp.PhysicalResourceID, props: p}))
	if n := len(e.emu.Policies()); n != 0 {
		t.Errorf("%d policies left after rollback", n)
	}
}

func TestAttachmentLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for i := range 10 {
		e.create(t, props(t, map[string]any{"PolicyName": "p" + string(rune('a'+i)), "PolicyTargets": awsemu.SampleProdOU, "Tags": nil}))
	}
	resp := e.do(t, request{typ: cfn.RequestCreate, props: props(t, map[string]any{"PolicyName": "eleventh", "PolicyTargets": awsemu.SampleProdOU})})
	mustFail(t, resp, "to target ou-a1b2-prod0001", "ConstraintViolationException (MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED)")
}

func orgpolicyID(id string) bool { return strings.HasPrefix(id, "p-") }

// deleteOutOfBand removes a policy the way an administrator would, outside
// CloudFormation.
func deleteOutOfBand(t *testing.T, e *env, id string) {
	t.Helper()
	ctx := context.Background()
	org := adminClient(t, e)
	for _, target := range e.policy(t, id).Targets {
		if _, err := org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(target)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
}
