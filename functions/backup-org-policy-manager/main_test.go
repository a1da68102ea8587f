package main_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/internal/localenv"
	"github.com/backup-as-code/orgbackup/internal/localenv/localenvtest"
	"github.com/backup-as-code/orgbackup/internal/logcapture"
)

// TestBootstrap builds the real bootstrap and drives it as Lambda does,
// through a local Runtime API, with AWS_ENDPOINT_URL at the emulator and the
// ResponseURL at the emulator's stand-in for CloudFormation's S3 bucket.
func TestBootstrap(t *testing.T) {
	bootstrap := localenvtest.BuildFunction(t, "backup-org-policy-manager")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	event := func(name string) []byte { return localenvtest.SampleEvent(t, name) }

	t.Run("create, update, delete", func(t *testing.T) {
		var logs logcapture.Buffer
		env, err := localenv.StartPolicyManager(ctx, localenv.Options{Bootstrap: bootstrap, Output: &logs})
		if err != nil {
			t.Fatal(err)
		}
		defer env.Close()

		create := send(t, env, event("org-policy-create.json"), "", 30*time.Second)
		if create.Response.Status != "SUCCESS" {
			t.Fatalf("Create: %s %s", create.Response.Status, create.Response.Reason)
		}
		id := create.Response.PhysicalResourceID
		policy, ok := env.AWS.Policy(id)
		if !ok {
			t.Fatalf("policy %s does not exist", id)
		}
		if diff := cmp.Diff([]string{awsemu.SampleDevOU, awsemu.SampleProdOU}, policy.Targets); diff != "" {
			t.Errorf("targets (-want +got):\n%s", diff)
		}
		for _, c := range env.AWS.CallsTo("organizations") {
			if !strings.HasPrefix(c.Caller, "arn:aws:sts::111111111111:assumed-role/BackupOrgPolicyManagerOrgAdmin/") {
				t.Errorf("%s called as %s", c.Operation, c.Caller)
			}
		}

		update := send(t, env, event("org-policy-update.json"), id, 30*time.Second)
		if update.Response.Status != "SUCCESS" || update.Response.PhysicalResourceID != id {
			t.Fatalf("Update: %+v", update.Response)
		}
		if p, _ := env.AWS.Policy(id); !strings.Contains(p.Content, `"delete_after_days":{"@@assign":"42"}`) || len(p.Targets) != 2 || p.Targets[1] != awsemu.SampleWorkloadsOU {
			t.Errorf("after Update: %+v", p)
		}

		del := send(t, env, event("org-policy-delete.json"), id, 30*time.Second)
		if del.Response.Status != "SUCCESS" {
			t.Fatalf("Delete: %+v", del.Response)
		}
		if n := len(env.AWS.Policies()); n != 0 {
			t.Errorf("%d policies after Delete", n)
		}

		// Every log line is JSON; every request line names the request.
		if _, err := logs.Wait(ctx, func(r map[string]any) bool {
			return r["msg"] == "custom resource response sent" && r["awsRequestId"] == del.Invocation.RequestID
		}); err != nil {
			t.Fatalf("the Delete's response is not in the log: %v", err)
		}
		records, err := logs.Records()
		if err != nil {
			t.Error(err)
		}
		for _, rec := range records {
			if rec["component"] == "xray" {
				continue
			}
			for _, k := range []string{"requestId", "stackId", "logicalResourceId", "awsRequestId"} {
				if s, _ := rec[k].(string); s == "" {
					t.Errorf("log line %q has no %s", rec["msg"], k)
				}
			}
		}
		if len(records) == 0 {
			t.Error("the function logged nothing")
		}
		// The AWS calls were traced under the invocation's trace.
		segments := strings.Join(env.Segments(), "\n")
		for _, want := range []string{`"name":"Organizations"`, `"operation":"CreatePolicy"`, `"operation":"AssumeRole"`} {
			if !strings.Contains(segments, want) {
				t.Errorf("no X-Ray subsegment with %s", want)
			}
		}
	})

	t.Run("1,000 targets", func(t *testing.T) {
		// Organizations attaches a policy to any number of entities; the
		// response has room for the count and hash of the targets, not
		// for the list.
		org := awsemu.SampleOrganization()
		accounts := org.AddAccounts(awsemu.SampleWorkloadsOU, 1000)
		env, err := localenv.StartPolicyManager(ctx, localenv.Options{Bootstrap: bootstrap, AWS: awsemu.Options{Organization: &org}})
		if err != nil {
			t.Fatal(err)
		}
		defer env.Close()
		var ev map[string]any
		if err := json.Unmarshal(event("org-policy-create.json"), &ev); err != nil {
			t.Fatal(err)
		}
		ev["ResourceProperties"].(map[string]any)["PolicyTargets"] = accounts
		payload, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		d := send(t, env, payload, "", 60*time.Second)
		if d.Response.Status != "SUCCESS" {
			t.Fatalf("Create: %s %s", d.Response.Status, d.Response.Reason)
		}
		if p, _ := env.AWS.Policy(d.Response.PhysicalResourceID); len(p.Targets) != 1000 {
			t.Errorf("policy attached to %d targets, want 1000", len(p.Targets))
		}
		if _, listed := d.Response.Data["PolicyTargets"]; listed || d.Response.Data["PolicyTargetCount"] != "1000" {
			t.Errorf("Data: PolicyTargets listed %v, PolicyTargetCount %v; want the count only", listed, d.Response.Data["PolicyTargetCount"])
		}
	})

	t.Run("deadline and malformed events still get one answer", func(t *testing.T) {
		env, err := localenv.StartPolicyManager(ctx, localenv.Options{Bootstrap: bootstrap})
		if err != nil {
			t.Fatal(err)
		}
		defer env.Close()
		env.AWS.InjectFault(awsemu.Fault{Service: "organizations", Operation: "AttachPolicy", Latency: time.Hour})
		start := time.Now()
		d := send(t, env, event("org-policy-create.json"), "", 3*time.Second)
		if d.Response.Status != "FAILED" || !strings.Contains(d.Response.Reason, "did not finish before the Lambda deadline") {
			t.Errorf("response %+v", d.Response)
		}
		if !strings.HasPrefix(d.Response.PhysicalResourceID, "p-") {
			t.Errorf("physical ID %q; the rollback needs the created policy's ID", d.Response.PhysicalResourceID)
		}
		if elapsed := time.Since(start); elapsed > 3*time.Second {
			t.Errorf("answered after %v, past the 3s deadline", elapsed)
		}
		env.AWS.ClearFaults()

		var ev map[string]any
		_ = json.Unmarshal(event("org-policy-create.json"), &ev)
		ev["ResourceProperties"] = "not an object"
		bad, _ := json.Marshal(ev)
		if d := send(t, env, bad, "", 30*time.Second); d.Response.Status != "FAILED" || !strings.Contains(d.Response.Reason, "malformed custom resource event") {
			t.Errorf("malformed event: %+v", d.Response)
		}
	})
}

// TestBootstrapTrust: whoever can invoke the function is refused unless the
// event's ResponseURL is on an allowed host and its stack in an allowed
// account, before any AWS call.
func TestBootstrapTrust(t *testing.T) {
	bootstrap := localenvtest.BuildFunction(t, "backup-org-policy-manager")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	create := localenvtest.SampleEvent(t, "org-policy-create.json")

	var logs logcapture.Buffer
	env, err := localenv.StartPolicyManager(ctx, localenv.Options{Bootstrap: bootstrap, Output: &logs, Env: []string{"AWS_LAMBDA_LOG_LEVEL=ERROR"}})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()

	t.Run("ResponseURL off the allowed hosts: no AWS call, no PUT, no retry", func(t *testing.T) {
		// The emulator's own URL under a host name, not the allowed
		// address: a PUT would land in its uploads.
		port := strings.TrimPrefix(env.AWS.URL(), "http://127.0.0.1:")
		for _, u := range []string{
			"http://localhost:" + port + "/cloudformation-response/refused-1",
			"https://s3.amazonaws.com@localhost:" + port + "/cloudformation-response/refused-2",
			"https://evil.amazonaws.com.attacker.net/cloudformation-response/refused-3",
		} {
			env.AWS.ResetCalls()
			var ev map[string]any
			_ = json.Unmarshal(create, &ev)
			ev["ResponseURL"] = u
			payload, _ := json.Marshal(ev)
			res, err := env.Function.Invoke(ctx, payload, 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if res.Error != nil {
				t.Errorf("%s: the invocation failed (%v); Lambda would retry a refused event", u, res.Error)
			}
			if calls := env.AWS.Calls(); len(calls) != 0 {
				t.Errorf("%s: %d calls to AWS or the response URL, want none: %+v", u, len(calls), calls)
			}
			for _, name := range []string{"refused-1", "refused-2", "refused-3"} {
				if n := len(env.AWS.Uploads(name)); n != 0 {
					t.Errorf("%s: %d responses uploaded", u, n)
				}
			}
			if _, err := logs.Wait(ctx, func(r map[string]any) bool {
				return r["msg"] == "custom resource request refused: no response is sent" && r["awsRequestId"] == res.RequestID
			}); err != nil {
				t.Errorf("%s: no refusal in the log: %v", u, err)
			}
			if _, err := logs.Wait(ctx, func(r map[string]any) bool {
				return r["_aws"] != nil && r["ErrorKind"] == "RefusedURL" && r["awsRequestId"] == res.RequestID
			}); err != nil {
				t.Errorf("%s: no RefusedURL metric record: %v", u, err)
			}
		}
	})

	t.Run("stack of another account: FAILED, no AWS call", func(t *testing.T) {
		env.AWS.ResetCalls()
		other := strings.Replace(string(create), ":"+localenv.SolutionAccount+":stack/", ":333333333333:stack/", 1)
		d := send(t, env, []byte(other), "", 30*time.Second)
		if d.Response.Status != "FAILED" || !strings.Contains(d.Response.Reason, "stacks of account 333333333333 may not use this function") {
			t.Errorf("response %+v", d.Response)
		}
		for _, c := range env.AWS.Calls() {
			if c.Service != awsemu.ResponseService {
				t.Errorf("AWS call %s:%s for a refused stack", c.Service, c.Operation)
			}
		}
		// With the log level at ERROR, the metric record still reaches
		// CloudWatch: it carries a level the filter keeps.
		rec, err := logs.Wait(ctx, func(r map[string]any) bool {
			return r["_aws"] != nil && r["awsRequestId"] == d.Invocation.RequestID
		})
		if err != nil {
			t.Fatal(err)
		}
		aws, _ := rec["_aws"].(map[string]any)
		directives, _ := aws["CloudWatchMetrics"].([]any)
		if rec["level"] != "ERROR" || rec["ErrorKind"] != "StackNotAllowed" || rec["FailedRequests"] != 1.0 ||
			rec["FunctionName"] != "backup-org-policy-manager" || len(directives) != 1 ||
			directives[0].(map[string]any)["Namespace"] != "BackupAsCode/PolicyManager" {
			t.Errorf("metric record %v", rec)
		}
	})

	t.Run("bad configuration stops the function at start, naming the variable", func(t *testing.T) {
		for _, tt := range []struct{ env, want string }{
			{"CFN_RESPONSE_HOSTS=https://s3.amazonaws.com", "CFN_RESPONSE_HOSTS: host pattern"},
			{"ALLOWED_STACK_ACCOUNTS=22222222222", "ALLOWED_STACK_ACCOUNTS: account"},
		} {
			var out logcapture.Buffer
			bad, err := localenv.StartPolicyManager(ctx, localenv.Options{Bootstrap: bootstrap, Output: &out, Env: []string{tt.env}})
			if err == nil {
				bad.Close()
				t.Errorf("%s: the function started", tt.env)
				continue
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("%s: the log does not say %q:\n%s", tt.env, tt.want, out.String())
			}
		}
	})
}

func send(t *testing.T, env *localenv.Env, event []byte, physicalID string, timeout time.Duration) localenv.Delivery {
	t.Helper()
	d, err := env.Send(context.Background(), event, physicalID, timeout)
	if err != nil {
		t.Fatal(err)
	}
	if d.Responses != 1 {
		t.Errorf("CloudFormation received %d responses, want 1", d.Responses)
	}
	if d.Invocation.Error != nil {
		t.Errorf("invocation failed: %v", d.Invocation.Error)
	}
	return d
}
