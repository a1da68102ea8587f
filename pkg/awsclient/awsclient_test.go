package awsclient_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/v2/xray"
	"github.com/aws/aws-xray-sdk-go/v2/xraylog"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/internal/logcapture"
	"github.com/backup-as-code/orgbackup/pkg/awsclient"
)

const mgmtAdmin = "arn:aws:iam::111111111111:user/admin"

func load(t *testing.T, emu *awsemu.Emulator, principal string, opts awsclient.Options) aws.Config {
	t.Helper()
	opts.ConfigOptions = append(emu.ConfigOptions(emu.CredentialsFor(principal)), opts.ConfigOptions...)
	cfg, err := awsclient.Load(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestLoadHonoursAWSEndpointURL(t *testing.T) {
	emu := awsemu.New(t, awsemu.Options{})
	creds := emu.CredentialsFor(mgmtAdmin)
	for _, kv := range emu.Env(creds) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Arn) != mgmtAdmin || cfg.Region != awsemu.Region {
		t.Errorf("caller %s in %s; the environment's endpoint, keys and region were not used", aws.ToString(out.Arn), cfg.Region)
	}
}

func TestOrganizationsRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		kind         awsemu.FaultKind
		first        int
		wantErrCode  string
		wantAttempts int
	}{
		{"concurrent modification clears", awsemu.FaultConcurrentModification, 3, "", 4},
		{"policy changes in progress clears", awsemu.FaultPolicyChangesInProgress, 2, "", 3},
		{"finalizing organization clears", awsemu.FaultFinalizingOrganization, 1, "", 2},
		{"throttling clears", awsemu.FaultThrottle, 2, "", 3},
		{"5xx clears", awsemu.FaultInternalError, 2, "", 3},
		{"persistent concurrent modification stops at MaxAttempts", awsemu.FaultConcurrentModification, 0, "ConcurrentModificationException", 4},
		{"access denied is not retried", awsemu.FaultAccessDenied, 0, "AccessDeniedException", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu := awsemu.New(t, awsemu.Options{})
			emu.InjectFault(awsemu.Fault{Service: "organizations", Kind: tt.kind, First: tt.first})
			org := awsclient.Organizations(load(t, emu, mgmtAdmin, awsclient.Options{MaxAttempts: 4, MaxBackoff: time.Millisecond}))
			_, err := org.DescribeOrganization(context.Background(), &organizations.DescribeOrganizationInput{})
			if tt.wantErrCode == "" && err != nil {
				t.Fatalf("DescribeOrganization: %v", err)
			}
			if tt.wantErrCode != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErrCode)) {
				t.Fatalf("error %v, want %s", err, tt.wantErrCode)
			}
			if n := emu.CountCalls("organizations", "DescribeOrganization"); n != tt.wantAttempts {
				t.Errorf("%d attempts, want %d", n, tt.wantAttempts)
			}
		})
	}
}

func TestRetriesEndWithTheContext(t *testing.T) {
	t.Parallel()
	emu := awsemu.New(t, awsemu.Options{})
	emu.InjectFault(awsemu.Fault{Service: "organizations", Kind: awsemu.FaultConcurrentModification})
	// Long backoff, many attempts: only the deadline can end this.
	org := awsclient.Organizations(load(t, emu, mgmtAdmin, awsclient.Options{MaxAttempts: 50, MaxBackoff: time.Hour}))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the context's deadline", err)
	}
	if n := emu.CountCalls("organizations", ""); n >= 50 {
		t.Errorf("%d attempts: the retries did not stop at the deadline", n)
	}
}

// TestRetriesEndedByTheContextKeepTheCause: the SDK answers a call whose
// back-off the deadline cut with a canceled-request error; the attempts
// made and the last AWS error are kept.
func TestRetriesEndedByTheContextKeepTheCause(t *testing.T) {
	t.Parallel()
	emu := awsemu.New(t, awsemu.Options{})
	emu.InjectFault(awsemu.Fault{Service: "organizations", Operation: "AttachPolicy", Kind: awsemu.FaultConcurrentModification})
	org := awsclient.Organizations(load(t, emu, mgmtAdmin, awsclient.Options{MaxAttempts: 1000, MaxBackoff: 50 * time.Millisecond}))
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	_, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String("p-bk00000001"), TargetId: aws.String(awsemu.SampleRootID)})
	var ae *awsclient.AttemptsError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an AttemptsError", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not say the deadline ended the call", err)
	}
	sent := emu.CountCalls("organizations", "AttachPolicy")
	// The deadline can cut one request in flight before the emulator logs
	// it.
	if sent < 2 || ae.Attempts < sent || ae.Attempts > sent+1 {
		t.Errorf("%d attempts recorded, the emulator answered %d", ae.Attempts, sent)
	}
	want := fmt.Sprintf("gave up after %d attempts at the deadline; last error ConcurrentModificationException", ae.Attempts)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q\ndoes not contain %q", err, want)
	}

	// Calls that end for another reason are the SDK's errors unchanged.
	emu.ClearFaults()
	emu.InjectFault(awsemu.Fault{Service: "organizations", Operation: "AttachPolicy", Kind: awsemu.FaultConcurrentModification, First: 2})
	_, err = org.AttachPolicy(context.Background(), &organizations.AttachPolicyInput{PolicyId: aws.String("p-bk00000001"), TargetId: aws.String(awsemu.SampleRootID)})
	if errors.As(err, &ae) || !strings.Contains(err.Error(), "PolicyNotFoundException") {
		t.Errorf("error %v, want the PolicyNotFoundException the third attempt got", err)
	}
}

func TestRoleCredentialsCache(t *testing.T) {
	t.Parallel()
	const role = "arn:aws:iam::111111111111:role/Admin"
	emu := awsemu.New(t, awsemu.Options{})
	emu.AddRole(awsemu.Role{ARN: role, Trusted: []string{"arn:aws:iam::222222222222:root"}})
	base := load(t, emu, "arn:aws:iam::222222222222:role/manager", awsclient.Options{})
	roles := awsclient.NewRoleCredentials(sts.NewFromConfig(base), "backup org/policy manager!")
	ctx := context.Background()

	for range 3 {
		cfg, err := roles.Config(ctx, base, role, "")
		if err != nil {
			t.Fatal(err)
		}
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if want := "arn:aws:sts::111111111111:assumed-role/Admin/backup-org-policy-manager-"; aws.ToString(out.Arn) != want {
			t.Errorf("caller %s, want %s (session name sanitized)", aws.ToString(out.Arn), want)
		}
	}
	if n := emu.CountCalls("sts", "AssumeRole"); n != 1 {
		t.Errorf("%d AssumeRole calls for one role, want 1", n)
	}
	if _, err := roles.Config(ctx, base, role, "ext-1"); err != nil {
		t.Fatal(err)
	}
	if n := emu.CountCalls("sts", "AssumeRole"); n != 2 {
		t.Errorf("%d AssumeRole calls; another external ID is another cache entry", n)
	}
	_, err := roles.Config(ctx, base, "arn:aws:iam::111111111111:role/Missing", "")
	if err == nil || !strings.Contains(err.Error(), "assuming role arn:aws:iam::111111111111:role/Missing") || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("error for a role that cannot be assumed: %v", err)
	}
}

func TestRoleCredentialsRefreshBeforeExpiry(t *testing.T) {
	t.Parallel()
	const role = "arn:aws:iam::111111111111:role/Admin"
	// Credentials that expire within the refresh window are replaced on
	// the next use instead of lapsing mid-invocation.
	emu := awsemu.New(t, awsemu.Options{MaxCredentialLifetime: 4 * time.Minute})
	emu.AddRole(awsemu.Role{ARN: role, Trusted: []string{"arn:aws:iam::222222222222:root"}})
	base := load(t, emu, "arn:aws:iam::222222222222:role/manager", awsclient.Options{})
	roles := awsclient.NewRoleCredentials(sts.NewFromConfig(base), "s")
	for range 2 {
		if _, err := roles.Config(context.Background(), base, role, ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := emu.CountCalls("sts", "AssumeRole"); n != 2 {
		t.Errorf("%d AssumeRole calls, want 2", n)
	}
}

// The X-Ray tests change the X-Ray SDK's global configuration, so they do
// not run in parallel.

// TestConfigureTracing calls a traced client without a segment in its
// context: outside Lambda the X-Ray SDK stays quiet; in Lambda it logs the
// missing segment as an error, through the function's JSON logger. Each
// case sets the process-wide state itself, so the order of the tests does
// not matter.
func TestConfigureTracing(t *testing.T) {
	emu := awsemu.New(t, awsemu.Options{})
	tests := []struct {
		name       string
		taskRoot   string
		wantLogged bool
	}{
		{"outside Lambda", "", false},
		{"in Lambda", "/var/task", true},
		{"outside Lambda again", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v, ok := os.LookupEnv("AWS_XRAY_CONTEXT_MISSING"); ok {
				t.Skipf("AWS_XRAY_CONTEXT_MISSING=%s overrides the strategy", v)
			}
			var logs logcapture.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, nil))
			getenv := func(k string) string {
				if k == "LAMBDA_TASK_ROOT" {
					return tt.taskRoot
				}
				return ""
			}
			if err := awsclient.ConfigureTracing(logger, getenv); err != nil {
				t.Fatal(err)
			}
			cfg := load(t, emu, mgmtAdmin, awsclient.Options{Tracing: true})
			if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
				t.Fatal(err)
			}
			logged := strings.Contains(logs.String(), "segment cannot be found")
			if logged != tt.wantLogged {
				t.Errorf("missing segment logged: %v, want %v; logs:\n%s", logged, tt.wantLogged, logs.String())
			}
			if logged && (!strings.Contains(logs.String(), `"level":"ERROR"`) || !strings.Contains(logs.String(), `"component":"xray"`)) {
				t.Errorf("X-Ray's message is not an ERROR record of component xray:\n%s", logs.String())
			}
		})
	}
	// Leave the quiet strategy and the SDK's own logger for the next test.
	xray.SetLogger(xraylog.NewDefaultLogger(os.Stdout, xraylog.LogLevelInfo))
}

// TestLoadLeavesXRayAlone loads a traced configuration and checks that the
// X-Ray logger set before is still the one in use.
func TestLoadLeavesXRayAlone(t *testing.T) {
	var logs logcapture.Buffer
	xray.SetLogger(xraylog.NewDefaultLogger(&logs, xraylog.LogLevelDebug))
	if err := xray.Configure(xray.Config{ContextMissingStrategy: ctxmissing.NewDefaultLogErrorStrategy()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		xray.SetLogger(xraylog.NewDefaultLogger(os.Stdout, xraylog.LogLevelInfo))
		_ = awsclient.ConfigureTracing(nil, func(string) string { return "" })
	})
	emu := awsemu.New(t, awsemu.Options{})
	cfg := load(t, emu, mgmtAdmin, awsclient.Options{Tracing: true})
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "segment cannot be found") {
		t.Errorf("Load replaced the X-Ray logger or its context-missing strategy; the logger set before saw:\n%s", logs.String())
	}
}

func TestTracingRecordsSubsegmentsInLambda(t *testing.T) {
	daemon, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Close()
	if err := xray.Configure(xray.Config{DaemonAddr: daemon.LocalAddr().String()}); err != nil {
		t.Fatal(err)
	}
	emu := awsemu.New(t, awsemu.Options{})
	org := awsclient.Organizations(load(t, emu, mgmtAdmin, awsclient.Options{Tracing: true}))
	// What aws-lambda-go puts in each invocation's context, under the
	// string key the X-Ray SDK reads.
	const header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	ctx := context.WithValue(context.Background(), xray.LambdaTraceHeaderKey, header) //nolint:staticcheck // SA1029: the string key is the libraries' contract
	if _, err := org.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: types.PolicyTypeBackupPolicy}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	_ = daemon.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := daemon.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no segment reached the X-Ray daemon: %v", err)
	}
	seg := string(buf[:n])
	for _, want := range []string{`"name":"Organizations"`, `"operation":"ListPolicies"`, `"trace_id":"1-5759e988-bd862e3fe1be46a994272793"`} {
		if !strings.Contains(seg, want) {
			t.Errorf("segment lacks %s:\n%s", want, seg)
		}
	}
	emuReq := emu.CallsTo("organizations")
	if len(emuReq) != 1 {
		t.Fatalf("%d calls", len(emuReq))
	}
}
