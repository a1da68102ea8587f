package awsemu_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
)

const admin = "arn:aws:iam::111111111111:user/admin"

// sdkConfig is a plain SDK configuration (no retries) so tests see every
// error the emulator returns.
func sdkConfig(t *testing.T, emu *awsemu.Emulator, c awsemu.Credentials) aws.Config {
	t.Helper()
	opts := append(emu.ConfigOptions(c), config.WithRetryMaxAttempts(1))
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func orgClient(t *testing.T, emu *awsemu.Emulator, principal string) *organizations.Client {
	t.Helper()
	return organizations.NewFromConfig(sdkConfig(t, emu, emu.CredentialsFor(principal)))
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func createPolicy(t *testing.T, org *organizations.Client, name, typ, content string) string {
	t.Helper()
	out, err := org.CreatePolicy(context.Background(), &organizations.CreatePolicyInput{
		Name: aws.String(name), Description: aws.String(""), Type: types.PolicyType(typ), Content: aws.String(content),
	})
	if err != nil {
		t.Fatalf("CreatePolicy %s: %v", name, err)
	}
	return aws.ToString(out.Policy.PolicySummary.Id)
}

func TestOrganizationsRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	emu := awsemu.New(t, awsemu.Options{})
	org := orgClient(t, emu, admin)
	id := createPolicy(t, org, "daily", "BACKUP_POLICY", `{"plans":{}}`)
	scp := createPolicy(t, org, "deny", "SERVICE_CONTROL_POLICY", `{"Version":"2012-10-17","Statement":[]}`)
	if _, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(awsemu.SampleProdOU)}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		call       func() error
		wantCode   string
		wantReason string
	}{
		{"duplicate name in a type", func() error {
			_, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("daily"), Description: aws.String(""), Type: types.PolicyTypeBackupPolicy, Content: aws.String(`{"plans":{}}`)})
			return err
		}, "DuplicatePolicyException", ""},
		{"same name in another type is allowed", func() error {
			_, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("daily"), Description: aws.String(""), Type: types.PolicyTypeTagPolicy, Content: aws.String(`{"tags":{}}`)})
			return err
		}, "", ""},
		{"content over the backup limit", func() error {
			_, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("big"), Description: aws.String(""), Type: types.PolicyTypeBackupPolicy, Content: aws.String(`{"plans":{"p":"` + strings.Repeat(" ", 10000) + `"}}`)})
			return err
		}, "ConstraintViolationException", "POLICY_CONTENT_LIMIT_EXCEEDED"},
		{"content not JSON", func() error {
			_, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("bad"), Description: aws.String(""), Type: types.PolicyTypeBackupPolicy, Content: aws.String(`{"plans":`)})
			return err
		}, "MalformedPolicyDocumentException", ""},
		{"unknown policy type", func() error {
			_, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("x"), Description: aws.String(""), Type: "BACKUP", Content: aws.String(`{}`)})
			return err
		}, "InvalidInputException", "INVALID_ENUM_POLICY_TYPE"},
		{"reserved tag key", func() error {
			_, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("t"), Description: aws.String(""), Type: types.PolicyTypeBackupPolicy, Content: aws.String(`{"plans":{}}`), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("")}}})
			return err
		}, "InvalidInputException", "INVALID_SYSTEM_TAGS_PARAMETER"},
		{"attach twice", func() error {
			_, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(awsemu.SampleProdOU)})
			return err
		}, "DuplicatePolicyAttachmentException", ""},
		{"attach to a missing account", func() error {
			_, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String("123456789012")})
			return err
		}, "TargetNotFoundException", ""},
		{"attach a missing policy", func() error {
			_, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String("p-zzzzzzzz"), TargetId: aws.String(awsemu.SampleProdOU)})
			return err
		}, "PolicyNotFoundException", ""},
		{"malformed target ID", func() error {
			_, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String("ou-1")})
			return err
		}, "InvalidInputException", "INVALID_PATTERN_TARGET_ID"},
		{"policy type not enabled", func() error {
			ai := createPolicy(t, org, "optout", "AISERVICES_OPT_OUT_POLICY", `{"services":{}}`)
			_, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(ai), TargetId: aws.String(awsemu.SampleRootID)})
			return err
		}, "PolicyTypeNotEnabledException", ""},
		{"detach where not attached", func() error {
			_, err := org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(awsemu.SampleDevOU)})
			return err
		}, "PolicyNotAttachedException", ""},
		{"delete while attached", func() error {
			_, err := org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String(id)})
			return err
		}, "PolicyInUseException", ""},
		{"tags of a missing policy", func() error {
			_, err := org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String("p-zzzzzzzz")})
			return err
		}, "TargetNotFoundException", ""},
		{"member account without delegation", func() error {
			_, err := orgClient(t, emu, "arn:aws:iam::444444444444:role/app").ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: types.PolicyTypeBackupPolicy})
			return err
		}, "AccessDeniedException", ""},
		{"account outside the organization", func() error {
			_, err := orgClient(t, emu, "arn:aws:iam::999999999999:role/x").ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: types.PolicyTypeBackupPolicy})
			return err
		}, "AWSOrganizationsNotInUseException", ""},
		{"bad next token", func() error {
			_, err := org.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: types.PolicyTypeBackupPolicy, NextToken: aws.String("bm90LWEtdG9rZW4")})
			return err
		}, "InvalidInputException", "INVALID_NEXT_TOKEN"},
		{"scp limit of five per target", func() error {
			for i := range 5 {
				p := createPolicy(t, org, fmt.Sprintf("scp%d", i), "SERVICE_CONTROL_POLICY", `{}`)
				if _, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(p), TargetId: aws.String(awsemu.SampleSandboxAccount)}); err != nil {
					return err
				}
			}
			_, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(scp), TargetId: aws.String(awsemu.SampleSandboxAccount)})
			return err
		}, "ConstraintViolationException", "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if got := errorCode(err); got != tt.wantCode {
				t.Fatalf("error %v, want code %q", err, tt.wantCode)
			}
			if tt.wantReason == "" {
				return
			}
			var cv *types.ConstraintViolationException
			var ii *types.InvalidInputException
			reason := ""
			switch {
			case errors.As(err, &cv):
				reason = string(cv.Reason)
			case errors.As(err, &ii):
				reason = string(ii.Reason)
			}
			if reason != tt.wantReason {
				t.Errorf("reason %q, want %q", reason, tt.wantReason)
			}
		})
	}
}

func TestOrganizationsPagination(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	emu := awsemu.New(t, awsemu.Options{PageSize: 2})
	org := orgClient(t, emu, admin)
	var want []string
	for i := range 5 {
		want = append(want, createPolicy(t, org, fmt.Sprintf("p%d", i), "BACKUP_POLICY", `{"plans":{}}`))
	}
	for _, target := range []string{awsemu.SampleRootID, awsemu.SampleProdOU, awsemu.SampleDevOU, awsemu.SampleProdAccount, awsemu.SampleDevAccount} {
		if _, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(want[0]), TargetId: aws.String(target)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	pages := organizations.NewListPoliciesPaginator(org, &organizations.ListPoliciesInput{Filter: types.PolicyTypeBackupPolicy})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Policies) > 2 {
			t.Errorf("page of %d, above the page size", len(page.Policies))
		}
		for _, p := range page.Policies {
			got = append(got, aws.ToString(p.Id))
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("policies (-want +got):\n%s", diff)
	}
	var targets []string
	tp := organizations.NewListTargetsForPolicyPaginator(org, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(want[0])})
	for tp.HasMorePages() {
		page, err := tp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range page.Targets {
			targets = append(targets, string(tg.Type)+" "+aws.ToString(tg.Name))
		}
	}
	wantTargets := []string{"ROOT Root", "ORGANIZATIONAL_UNIT Prod", "ORGANIZATIONAL_UNIT Dev", "ACCOUNT Prod App", "ACCOUNT Dev App"}
	if diff := cmp.Diff(wantTargets, targets); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	if n := emu.CountCalls("organizations", "ListTargetsForPolicy"); n != 3 {
		t.Errorf("%d ListTargetsForPolicy pages for 5 targets, want 3", n)
	}
	for _, id := range want[1:4] {
		if _, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(awsemu.SampleProdOU)}); err != nil {
			t.Fatal(err)
		}
	}
	var onProd []string
	fp := organizations.NewListPoliciesForTargetPaginator(org, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(awsemu.SampleProdOU), Filter: types.PolicyTypeBackupPolicy})
	for fp.HasMorePages() {
		page, err := fp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Policies {
			onProd = append(onProd, aws.ToString(p.Id))
		}
	}
	if diff := cmp.Diff(want[:4], onProd); diff != "" {
		t.Errorf("policies on the Prod OU, in attachment order (-want +got):\n%s", diff)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("first k calls", func(t *testing.T) {
		t.Parallel()
		emu := awsemu.New(t, awsemu.Options{})
		emu.InjectFault(awsemu.Fault{Service: "organizations", Operation: "ListPolicies", Kind: awsemu.FaultConcurrentModification, First: 2})
		org := orgClient(t, emu, admin)
		var codes []string
		for range 3 {
			_, err := org.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: types.PolicyTypeBackupPolicy})
			codes = append(codes, errorCode(err))
		}
		if diff := cmp.Diff([]string{"ConcurrentModificationException", "ConcurrentModificationException", ""}, codes); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		// Other operations are untouched.
		if _, err := org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); err != nil {
			t.Error(err)
		}
		calls := emu.CallsTo("organizations")
		if !calls[0].Injected || calls[2].Injected || calls[0].Caller != admin {
			t.Errorf("call log: %+v", calls)
		}
	})
	t.Run("probability is repeatable and roughly the fraction", func(t *testing.T) {
		t.Parallel()
		run := func() []bool {
			emu := awsemu.New(t, awsemu.Options{Seed: 42})
			emu.InjectFault(awsemu.Fault{Service: "organizations", Kind: awsemu.FaultThrottle, Probability: 0.3})
			org := orgClient(t, emu, admin)
			var failed []bool
			for range 200 {
				_, err := org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
				failed = append(failed, errorCode(err) == "TooManyRequestsException")
			}
			return failed
		}
		a, b := run(), run()
		if diff := cmp.Diff(a, b); diff != "" {
			t.Error("the same seed gave different faults")
		}
		n := 0
		for _, f := range a {
			if f {
				n++
			}
		}
		if n < 40 || n > 80 {
			t.Errorf("%d of 200 calls failed; want about 60", n)
		}
	})
	t.Run("after handling the change is made", func(t *testing.T) {
		t.Parallel()
		emu := awsemu.New(t, awsemu.Options{})
		emu.InjectFault(awsemu.Fault{Service: "organizations", Operation: "CreatePolicy", Kind: awsemu.FaultInternalError, First: 1, AfterHandling: true})
		_, err := orgClient(t, emu, admin).CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("x"), Description: aws.String(""), Type: types.PolicyTypeBackupPolicy, Content: aws.String(`{"plans":{}}`)})
		if errorCode(err) != "ServiceException" || len(emu.Policies()) != 1 {
			t.Errorf("error %v, %d policies; want a 500 and the policy created", err, len(emu.Policies()))
		}
	})
	t.Run("latency ends when the client gives up", func(t *testing.T) {
		t.Parallel()
		emu := awsemu.New(t, awsemu.Options{})
		remove := emu.InjectFault(awsemu.Fault{Service: "organizations", Latency: time.Hour})
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := orgClient(t, emu, admin).DescribeOrganization(cctx, &organizations.DescribeOrganizationInput{})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v", err)
		}
		remove()
		if _, err := orgClient(t, emu, admin).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); err != nil {
			t.Errorf("fault still active after remove: %v", err)
		}
	})
}

func TestIdentity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	emu := awsemu.New(t, awsemu.Options{MaxCredentialLifetime: 15 * time.Minute})
	role := "arn:aws:iam::111111111111:role/OrgAdmin"
	emu.AddRole(awsemu.Role{ARN: role, Trusted: []string{"arn:aws:iam::222222222222:role/manager"}, ExternalID: "ext"})
	caller := sts.NewFromConfig(sdkConfig(t, emu, emu.CredentialsFor("arn:aws:sts::222222222222:assumed-role/manager/fn")))

	_, err := caller.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s"), ExternalId: aws.String("ext")})
	if errorCode(err) != "ValidationError" {
		t.Errorf("one-character session name: %v", err)
	}
	out, err := caller.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("sess"), ExternalId: aws.String("ext"), DurationSeconds: aws.Int32(3600)})
	if err != nil {
		t.Fatal(err)
	}
	if life := time.Until(aws.ToTime(out.Credentials.Expiration)); life > 15*time.Minute || life < 14*time.Minute {
		t.Errorf("credentials last %v, want the 15-minute cap", life)
	}
	assumed := awsemu.Credentials{AccessKeyID: aws.ToString(out.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey), SessionToken: aws.ToString(out.Credentials.SessionToken)}
	who, err := sts.NewFromConfig(sdkConfig(t, emu, assumed)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:sts::111111111111:assumed-role/OrgAdmin/sess" || aws.ToString(who.Account) != "111111111111" {
		t.Errorf("GetCallerIdentity = %+v, %v", who, err)
	}
	for name, in := range map[string]*sts.AssumeRoleInput{
		"wrong external ID": {RoleArn: aws.String(role), RoleSessionName: aws.String("sess"), ExternalId: aws.String("nope")},
		"missing role":      {RoleArn: aws.String("arn:aws:iam::111111111111:role/Nope"), RoleSessionName: aws.String("sess")},
	} {
		if _, err := caller.AssumeRole(ctx, in); errorCode(err) != "AccessDenied" {
			t.Errorf("%s: %v", name, err)
		}
	}
	untrusted := sts.NewFromConfig(sdkConfig(t, emu, emu.CredentialsFor("arn:aws:iam::222222222222:role/other")))
	if _, err := untrusted.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("sess"), ExternalId: aws.String("ext")}); errorCode(err) != "AccessDenied" {
		t.Errorf("untrusted principal: %v", err)
	}
	// A session token that does not go with the key is refused.
	forged := assumed
	forged.SessionToken = "forged"
	if _, err := sts.NewFromConfig(sdkConfig(t, emu, forged)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); errorCode(err) != "InvalidClientTokenId" {
		t.Errorf("forged token: %v", err)
	}
	unknown := awsemu.Credentials{AccessKeyID: "AKIAUNKNOWN", SecretAccessKey: "x"}
	if _, err := organizations.NewFromConfig(sdkConfig(t, emu, unknown)).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); errorCode(err) != "UnrecognizedClientException" {
		t.Errorf("unknown key: %v", err)
	}
}

func TestS3(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	emu := awsemu.New(t, awsemu.Options{})
	cfg := sdkConfig(t, emu, emu.CredentialsFor(admin))
	client := s3.NewFromConfig(cfg)
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("policies")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("policies")}); errorCode(err) != "BucketAlreadyOwnedByYou" {
		t.Errorf("second CreateBucket: %v", err)
	}
	v1, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("policies"), Key: aws.String("a/b.json"), Body: strings.NewReader("one")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("policies"), Key: aws.String("a/b.json"), Body: bytes.NewReader([]byte("two"))}); err != nil {
		t.Fatal(err)
	}
	read := func(in *s3.GetObjectInput, opts ...func(*s3.Options)) (string, error) {
		out, err := client.GetObject(ctx, in, opts...)
		if err != nil {
			return "", err
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		return string(b), err
	}
	if got, err := read(&s3.GetObjectInput{Bucket: aws.String("policies"), Key: aws.String("a/b.json")}); got != "two" || err != nil {
		t.Errorf("latest = %q, %v", got, err)
	}
	if got, err := read(&s3.GetObjectInput{Bucket: aws.String("policies"), Key: aws.String("a/b.json"), VersionId: v1.VersionId}); got != "one" || err != nil {
		t.Errorf("version 1 = %q, %v", got, err)
	}
	for name, tt := range map[string]struct {
		in   *s3.GetObjectInput
		code string
	}{
		"missing key":     {&s3.GetObjectInput{Bucket: aws.String("policies"), Key: aws.String("nope")}, "NoSuchKey"},
		"missing bucket":  {&s3.GetObjectInput{Bucket: aws.String("nope"), Key: aws.String("a")}, "NoSuchBucket"},
		"missing version": {&s3.GetObjectInput{Bucket: aws.String("policies"), Key: aws.String("a/b.json"), VersionId: aws.String("v9")}, "NoSuchVersion"},
	} {
		if _, err := read(tt.in); errorCode(err) != tt.code {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestResponseUpload(t *testing.T) {
	t.Parallel()
	emu := awsemu.New(t, awsemu.Options{})
	put := func(contentType string) int {
		req, _ := http.NewRequest(http.MethodPut, emu.ResponseURL("r1"), strings.NewReader(`{"Status":"SUCCESS"}`))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// The presigned URL is not signed for a content type.
	if code := put("application/json"); code != http.StatusForbidden {
		t.Errorf("PUT with Content-Type answered %d, want 403", code)
	}
	done := make(chan awsemu.Upload)
	go func() {
		u, _ := emu.WaitUpload(context.Background(), "r1")
		done <- u
	}()
	if code := put(""); code != http.StatusOK {
		t.Errorf("PUT answered %d", code)
	}
	if u := <-done; string(u.Body) != `{"Status":"SUCCESS"}` {
		t.Errorf("upload %q", u.Body)
	}
	if n := len(emu.Uploads("r1")); n != 1 {
		t.Errorf("%d uploads recorded", n)
	}
}

// TestPoliciesBelongToTheirOrganization: each caller sees only its own
// organization's policies.
func TestPoliciesBelongToTheirOrganization(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	emu := awsemu.New(t, awsemu.Options{OtherOrganizations: []awsemu.OrgFixture{awsemu.SecondOrganization()}})
	first := orgClient(t, emu, admin)
	second := orgClient(t, emu, "arn:aws:iam::888888888888:user/admin")
	id := createPolicy(t, first, "daily", "BACKUP_POLICY", `{"plans":{}}`)

	_, err := second.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(id)})
	if code := errorCode(err); code != "PolicyNotFoundException" {
		t.Errorf("DescribePolicy of another organization's policy: %v, want PolicyNotFoundException", err)
	}
	_, err = second.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(awsemu.SecondRootID)})
	if code := errorCode(err); code != "PolicyNotFoundException" {
		t.Errorf("AttachPolicy of another organization's policy: %v, want PolicyNotFoundException", err)
	}
	// Names are unique per organization, IDs everywhere.
	other := createPolicy(t, second, "daily", "BACKUP_POLICY", `{"plans":{}}`)
	if other == id {
		t.Errorf("both organizations' policies have ID %s", id)
	}
	out, err := second.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(other)})
	if err != nil {
		t.Fatal(err)
	}
	if arn := aws.ToString(out.Policy.PolicySummary.Arn); arn != "arn:aws:organizations::888888888888:policy/o-z9y8x7w6v5/backup_policy/"+other {
		t.Errorf("ARN %s does not name the second organization", arn)
	}
	_, err = second.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(other), TargetId: aws.String(awsemu.SampleProdOU)})
	if code := errorCode(err); code != "TargetNotFoundException" {
		t.Errorf("attaching to another organization's OU: %v, want TargetNotFoundException", err)
	}
	if n := len(emu.Policies()); n != 2 {
		t.Errorf("%d policies, want one per organization", n)
	}
}

// TestRolePermissions: a role whose policy allows a list of actions is
// refused every other one, as IAM refuses it.
func TestRolePermissions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const role = "arn:aws:iam::111111111111:role/OrgAdmin"
	emu := awsemu.New(t, awsemu.Options{})
	emu.AddRole(awsemu.Role{ARN: role, Trusted: []string{"arn:aws:iam::222222222222:root"}, Actions: []string{
		"organizations:CreatePolicy", "organizations:DescribePolicy", "organizations:ListPolicies",
	}})
	out, err := sts.NewFromConfig(sdkConfig(t, emu, emu.CredentialsFor("arn:aws:iam::222222222222:user/ci"))).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("session")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	org := organizations.NewFromConfig(sdkConfig(t, emu, awsemu.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}))
	id := createPolicy(t, org, "daily", "BACKUP_POLICY", `{"plans":{}}`)
	session := "arn:aws:sts::111111111111:assumed-role/OrgAdmin/session"

	tests := []struct {
		name string
		call func() error
		want string
	}{
		{
			name: "create with tags needs TagResource too",
			call: func() error {
				_, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{
					Name: aws.String("weekly"), Description: aws.String(""), Type: types.PolicyTypeBackupPolicy, Content: aws.String(`{"plans":{}}`),
					Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
				})
				return err
			},
			want: "User: " + session + " is not authorized to perform: organizations:TagResource because no identity-based policy allows the organizations:TagResource action",
		},
		{
			name: "an action on a policy names it",
			call: func() error {
				_, err := org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(id)})
				return err
			},
			want: "User: " + session + " is not authorized to perform: organizations:ListTagsForResource on resource: arn:aws:organizations::111111111111:policy/o-a1b2c3d4e5/backup_policy/" + id + " because no identity-based policy allows the organizations:ListTagsForResource action",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var re interface{ HTTPStatusCode() int }
			if errorCode(err) != "AccessDeniedException" || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
				t.Fatalf("error %v, want AccessDeniedException (HTTP 400)", err)
			}
			var ae smithy.APIError
			errors.As(err, &ae)
			if ae.ErrorMessage() != tt.want {
				t.Errorf("message %q\nwant %q", ae.ErrorMessage(), tt.want)
			}
		})
	}
	if _, err := org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(id)}); err != nil {
		t.Errorf("an allowed action was refused: %v", err)
	}
	if n := len(emu.Policies()); n != 1 {
		t.Errorf("%d policies; the refused CreatePolicy made one", n)
	}
}
