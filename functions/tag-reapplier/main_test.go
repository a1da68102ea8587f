package main_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/localenv"
	"github.com/backup-as-code/orgbackup/internal/localenv/localenvtest"
	"github.com/backup-as-code/orgbackup/internal/logcapture"
)

// TestBootstrap builds the real bootstrap and drives it through a local
// Lambda Runtime API with the sample restore events, AWS_ENDPOINT_URL at the
// emulator.
func TestBootstrap(t *testing.T) {
	bootstrap := localenvtest.BuildFunction(t, "tag-reapplier")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	event := func(name string) []byte { return localenvtest.SampleEvent(t, name) }

	t.Run("restore events and a backfill", func(t *testing.T) {
		var out logcapture.Buffer
		env, err := localenv.StartTagReapplier(ctx, localenv.Options{Bootstrap: bootstrap, Output: &out, Env: []string{"PROVENANCE_TAG_KEY=restored-from"}})
		if err != nil {
			t.Fatal(err)
		}
		defer env.Close()
		localenv.SeedRestores(env.AWS)
		sample := localenv.SampleRestores[0]

		if res, err := env.Function.Invoke(ctx, event("restore-running.json"), 10*time.Second); err != nil || res.Error != nil {
			t.Fatalf("RUNNING: %v %v", err, res.Error)
		}
		if n := len(env.AWS.Calls()); n != 0 {
			t.Errorf("%d AWS calls for a RUNNING job", n)
		}
		if res, err := env.Function.Invoke(ctx, event("restore-completed.json"), 10*time.Second); err != nil || res.Error != nil {
			t.Fatalf("COMPLETED: %v %v", err, res.Error)
		}
		tags, _ := env.AWS.ResourceTags(sample.CreatedARN)
		want := map[string]string{
			"Name": "orders-data-restore-test", "team": "payments", "env": "prod", "cost-center": "cc-42",
			"backup-plan": "org-daily-monthly", "restored-from": sample.RecoveryPointARN,
		}
		if diff := cmp.Diff(want, tags); diff != "" {
			t.Errorf("restored volume tags (-want +got):\n%s", diff)
		}

		res, err := env.Function.Invoke(ctx, event("backfill.json"), 30*time.Second)
		if err != nil || res.Error != nil {
			t.Fatalf("backfill: %v %v", err, res.Error)
		}
		var sum struct {
			Processed, Tagged int
			Complete          bool
		}
		if err := json.Unmarshal(res.Payload, &sum); err != nil || !sum.Complete || sum.Processed != 4 || sum.Tagged != 3 {
			t.Errorf("backfill summary %s (%v)", res.Payload, err)
		}

		// The backfill's metrics are the last lines the function writes.
		if _, err := out.Wait(ctx, func(r map[string]any) bool { _, emf := r["_aws"]; return emf && r["awsRequestId"] == res.RequestID }); err != nil {
			t.Fatalf("no metrics from the backfill invocation: %v", err)
		}
		records, err := out.Records()
		if err != nil {
			t.Fatal(err) // every line, logs and metrics alike, is JSON
		}
		var emf, processed int
		for _, r := range records {
			if _, ok := r["_aws"]; ok {
				emf++
			}
			if r["msg"] == "restore job processed" {
				processed++
			}
		}
		if emf == 0 || processed != 6 {
			t.Errorf("%d EMF records and %d job records; want metrics and one record per job (1 ignored, 1 event, 4 backfill)", emf, processed)
		}
		segments := strings.Join(env.Segments(), "\n")
		for _, want := range []string{`"operation":"DescribeRestoreJob"`, `"operation":"TagResources"`, `"operation":"ListRestoreJobs"`} {
			if !strings.Contains(segments, want) {
				t.Errorf("no X-Ray subsegment with %s", want)
			}
		}
	})

	// Lambda drops JSON records below the function's ApplicationLogLevel
	// (AWS_LAMBDA_LOG_LEVEL); the metrics must not be among them.
	t.Run("EMF records carry the application log level", func(t *testing.T) {
		var out logcapture.Buffer
		env, err := localenv.StartTagReapplier(ctx, localenv.Options{Bootstrap: bootstrap, Output: &out, Env: []string{"AWS_LAMBDA_LOG_LEVEL=ERROR"}})
		if err != nil {
			t.Fatal(err)
		}
		defer env.Close()
		localenv.SeedRestores(env.AWS)
		res, err := env.Function.Invoke(ctx, event("restore-completed.json"), 10*time.Second)
		if err != nil || res.Error != nil {
			t.Fatalf("COMPLETED: %v %v", err, res.Error)
		}
		rec, err := out.Wait(ctx, func(r map[string]any) bool { _, emf := r["_aws"]; return emf && r["awsRequestId"] == res.RequestID })
		if err != nil {
			t.Fatal(err)
		}
		if rec["level"] != "ERROR" {
			t.Errorf("EMF record level %v, want ERROR: Lambda would drop it", rec["level"])
		}
	})

	t.Run("invalid configuration fails the init", func(t *testing.T) {
		var out logcapture.Buffer
		_, err := localenv.StartTagReapplier(ctx, localenv.Options{Bootstrap: bootstrap, Output: &out, Env: []string{"TAG_PRECEDENCE=newest"}})
		if err == nil {
			t.Fatal("the function started with TAG_PRECEDENCE=newest")
		}
		if !strings.Contains(out.String(), `TAG_PRECEDENCE: \"newest\"; allowed: source, recovery-point`) {
			t.Errorf("the log does not explain the bad variable:\n%s", out.String())
		}
	})
}
