package awsemu_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
)

// TestEnablePolicyType: ListRoots shows the root's policy types;
// EnablePolicyType is asynchronous (PENDING_ENABLE, attach still refused,
// then ENABLED) and answers the API reference's errors.
func TestEnablePolicyType(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := awsemu.BackupPolicyDisabledOrganization()
	f.UnavailablePolicyTypes = []string{"CHATBOT_POLICY"}
	emu := awsemu.New(t, awsemu.Options{Organization: &f})
	org := orgClient(t, emu, "arn:aws:iam::"+awsemu.SampleManagementAccount+":root")
	status := func() types.PolicyTypeStatus {
		t.Helper()
		out, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
		if err != nil || len(out.Roots) != 1 || aws.ToString(out.Roots[0].Id) != awsemu.SampleRootID {
			t.Fatalf("ListRoots: %+v, %v", out, err)
		}
		for _, pt := range out.Roots[0].PolicyTypes {
			if pt.Type == types.PolicyTypeBackupPolicy {
				return pt.Status
			}
		}
		return ""
	}
	id := createPolicy(t, org, "daily", "BACKUP_POLICY", `{"plans":{}}`)
	attach := func() error {
		_, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(awsemu.SampleProdOU)})
		return err
	}
	enable := func(root, typ string) error {
		_, err := org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(root), PolicyType: types.PolicyType(typ)})
		return err
	}
	if s := status(); s != "" {
		t.Fatalf("BACKUP_POLICY %q before enabling", s)
	}
	if code := errorCode(attach()); code != "PolicyTypeNotEnabledException" {
		t.Fatalf("attach before enabling: %q", code)
	}
	for _, tt := range []struct{ root, typ, want string }{
		{"r-zzzz", "BACKUP_POLICY", "RootNotFoundException"},
		{"root", "BACKUP_POLICY", "InvalidInputException"},
		{awsemu.SampleRootID, "CHATBOT_POLICY", "PolicyTypeNotAvailableForOrganizationException"},
		{awsemu.SampleRootID, "TAG_POLICY", "PolicyTypeAlreadyEnabledException"},
	} {
		if code := errorCode(enable(tt.root, tt.typ)); code != tt.want {
			t.Errorf("EnablePolicyType(%s, %s): %q, want %s", tt.root, tt.typ, code, tt.want)
		}
	}
	if err := enable(awsemu.SampleRootID, "BACKUP_POLICY"); err != nil {
		t.Fatal(err)
	}
	// EnableDelayRequests is 2: the next request still sees PENDING_ENABLE.
	if code := errorCode(enable(awsemu.SampleRootID, "BACKUP_POLICY")); code != "ConcurrentModificationException" {
		t.Errorf("EnablePolicyType while PENDING_ENABLE: %q", code)
	}
	if s := status(); s != types.PolicyTypeStatusEnabled {
		t.Errorf("BACKUP_POLICY %q, want ENABLED", s)
	}
	if err := attach(); err != nil {
		t.Errorf("attach once enabled: %v", err)
	}
	if code := errorCode(enable(awsemu.SampleRootID, "BACKUP_POLICY")); code != "PolicyTypeAlreadyEnabledException" {
		t.Errorf("EnablePolicyType again: %q", code)
	}
	member := orgClient(t, emu, "arn:aws:iam::"+awsemu.SampleDevAccount+":root")
	if _, err := member.ListRoots(ctx, &organizations.ListRootsInput{}); errorCode(err) != "AccessDeniedException" {
		t.Errorf("ListRoots from a member account: %v", err)
	}
}
