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
	"github.com/backup-as-code/orgbackup/internal/logcapture"
)

// TestBootstrap builds the real bootstrap and drives it as Lambda does,
// through a local Runtime API, with AWS_ENDPOINT_URL at the emulator and the
// ResponseURL at the emulator's stand-in for CloudFormation's S3 bucket.
func TestBootstrap(t *testing.T) {
	bootstrap := localenv.BuildFunction(t, "backup-org-policy-manager")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	event := func(name string) []byte { return localenv.SampleEvent(t, name) }

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
