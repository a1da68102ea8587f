package orgpolicy_test

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/pkg/cfnresponse"
)

// orgWithAccounts is the sample organization with n more member accounts
// under the Workloads OU.
func orgWithAccounts(n int) (awsemu.OrgFixture, []string) {
	org := awsemu.SampleOrganization()
	ids := org.AddAccounts(awsemu.SampleWorkloadsOU, n)
	return org, ids
}

func anyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func targetsSha256(targets []string) string {
	sorted := slices.Sorted(slices.Values(targets))
	sum := sha256.Sum256([]byte(strings.Join(sorted, ",")))
	return hex.EncodeToString(sum[:])
}

// Organizations sets no limit on the entities a policy is attached to; a
// response listing 1,000 account IDs would be over CloudFormation's 4,096
// bytes. The request still succeeds, with the count and hash of the targets
// in place of the list, for Create, Update and Delete alike.
func TestThousandTargets(t *testing.T) {
	t.Parallel()
	org, accounts := orgWithAccounts(1000)
	// ListTargetsForPolicy returns at most 20 per page (MaxResults 1-20).
	e := newEnv(t, envOptions{emu: awsemu.Options{Organization: &org, PageSize: 20}})
	p := props(t, map[string]any{"PolicyTargets": anyList(accounts)})

	resp := e.create(t, p)
	id := resp.PhysicalResourceID
	if got := sortedTargets(e.policy(t, id)); !slices.Equal(got, accounts) {
		t.Errorf("policy attached to %d targets, want the 1,000 accounts", len(got))
	}
	wantData := func(targets []string) map[string]any {
		return map[string]any{"PolicyTargetCount": strconv.Itoa(len(targets)), "PolicyTargetsSha256": targetsSha256(targets)}
	}
	checkData := func(step string, resp cfn.Response, targets []string) {
		t.Helper()
		if _, ok := resp.Data["PolicyTargets"]; ok {
			t.Errorf("%s: PolicyTargets returned for %d targets; it cannot fit the response", step, len(targets))
		}
		got := map[string]any{"PolicyTargetCount": resp.Data["PolicyTargetCount"], "PolicyTargetsSha256": resp.Data["PolicyTargetsSha256"]}
		if diff := cmp.Diff(wantData(targets), got); diff != "" {
			t.Errorf("%s: Data (-want +got):\n%s", step, diff)
		}
		if resp.Data["PolicyId"] != id || resp.Data["ContentSha256"] == nil {
			t.Errorf("%s: Data %v lacks the policy's attributes", step, resp.Data)
		}
	}
	checkData("Create", resp, accounts)
	if diff := cmp.Diff(map[string]int{"CreatePolicy": 1, "AttachPolicy": 1000}, e.successfulCalls("organizations")); diff != "" {
		t.Errorf("Create calls (-want +got):\n%s", diff)
	}

	e.emu.ResetCalls()
	fewer := accounts[1:]
	newProps := props(t, map[string]any{"PolicyTargets": anyList(fewer)})
	resp = e.do(t, request{typ: cfn.RequestUpdate, physicalID: id, props: newProps, oldProps: p})
	mustSucceed(t, resp)
	checkData("Update", resp, fewer)
	if diff := cmp.Diff(map[string]int{"DetachPolicy": 1}, e.writes()); diff != "" {
		t.Errorf("Update writes (-want +got):\n%s", diff)
	}

	mustSucceed(t, e.do(t, request{typ: cfn.RequestDelete, physicalID: id, props: newProps}))
	if n := len(e.emu.Policies()); n != 0 {
		t.Errorf("%d policies left after Delete", n)
	}
}

// PolicyTargets is returned exactly while the response would fit with the
// longest policy ID and ARN Organizations can assign: the choice is made
// before CreatePolicy, when neither is known. The limit is worked out here
// from a response without targets: the list adds 12 bytes for the first
// account and 13 for each further one.
func TestPolicyTargetsOnlyWhileTheResponseFits(t *testing.T) {
	t.Parallel()
	org, accounts := orgWithAccounts(400)
	e := newEnv(t, envOptions{emu: awsemu.Options{Organization: &org, PageSize: 20}})

	none := e.create(t, props(t, map[string]any{"PolicyTargets": nil, "PolicyName": "none"}))
	if none.Data["PolicyTargets"] != "" || none.Data["PolicyTargetCount"] != "0" {
		t.Fatalf("without targets: Data %v", none.Data)
	}
	size0 := len(e.emu.Uploads(none.RequestID)[0].Body)
	// Policy IDs are at most p- and 128 characters, organization IDs at
	// most o- and 32; the ID is in the body three times (physical ID,
	// PolicyId and the ARN).
	longest0 := size0 + 3*(130-len(none.PhysicalResourceID)) + (34 - len(awsemu.SampleOrgID))
	// The count grows from "0" to three digits.
	limit := (cfnresponse.MaxBytes-longest0-12-2)/13 + 1
	t.Logf("PolicyTargets fits up to %d 12-digit account IDs for this stack (a response without targets is %d bytes, %d at worst)", limit, size0, longest0)
	if limit < 100 || limit > 300 {
		t.Fatalf("limit %d outside the expected range; the arithmetic above assumes a three-digit count", limit)
	}

	for _, n := range []int{limit, limit + 1} {
		name := "n" + strconv.Itoa(n)
		resp := e.create(t, props(t, map[string]any{"PolicyTargets": anyList(accounts[:n]), "PolicyName": name}))
		list, listed := resp.Data["PolicyTargets"]
		switch {
		case n <= limit && (!listed || list != strings.Join(accounts[:n], ",")):
			t.Errorf("%d targets: PolicyTargets = %v, want all %d listed", n, list, n)
		case n > limit && listed:
			t.Errorf("%d targets: PolicyTargets listed, but with the longest policy ID the response would be over %d bytes", n, cfnresponse.MaxBytes)
		}
		if resp.Data["PolicyTargetCount"] != strconv.Itoa(n) || resp.Data["PolicyTargetsSha256"] != targetsSha256(accounts[:n]) {
			t.Errorf("%d targets: count %v, hash %v", n, resp.Data["PolicyTargetCount"], resp.Data["PolicyTargetsSha256"])
		}
	}
}
