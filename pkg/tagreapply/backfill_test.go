package tagreapply_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/pkg/tagreapply"
)

const backfillJobs = 1200

// restoreMany sets up backfillJobs completed restores of EBS volumes (and a
// few jobs that must not be touched: running, or older than since) and
// returns the restored volumes' ARNs.
func restoreMany(t *testing.T, e *env, since time.Time) []string {
	t.Helper()
	src := arnOf("ec2", "volume/vol-source")
	rp := "arn:aws:ec2:us-east-1::snapshot/snap-source"
	e.emu.AddResource(src, map[string]string{"team": "payments"})
	e.emu.AddRecoveryPoint(awsemu.RecoveryPoint{ARN: rp, VaultName: vault, ResourceARN: src, ResourceType: "EBS", Tags: map[string]string{"plan": "daily"}})
	created := make([]string, backfillJobs)
	for i := range backfillJobs {
		created[i] = arnOf("ec2", fmt.Sprintf("volume/vol-restored%05d", i))
		e.emu.AddResource(created[i], nil)
		e.emu.AddRestoreJob(awsemu.RestoreJob{
			ID: fmt.Sprintf("job-%05d", i), VaultName: vault, RecoveryPointARN: rp, SourceResourceARN: src,
			CreatedResourceARN: created[i], ResourceType: "EBS", Status: "COMPLETED",
			Created: since.Add(time.Duration(i+1) * time.Minute),
		})
	}
	e.emu.AddRestoreJob(awsemu.RestoreJob{ID: "job-running", VaultName: vault, RecoveryPointARN: rp, ResourceType: "EBS", Status: "RUNNING", Created: since.Add(time.Hour)})
	e.emu.AddRestoreJob(awsemu.RestoreJob{ID: "job-old", VaultName: vault, RecoveryPointARN: rp, SourceResourceARN: src, CreatedResourceARN: arnOf("ec2", "volume/vol-old"), ResourceType: "EBS", Status: "COMPLETED", Created: since.Add(-time.Hour)})
	e.emu.AddResource(arnOf("ec2", "volume/vol-old"), nil)
	return created
}

// tagWrites counts TagResources calls per resource.
func tagWrites(e *env) map[string]int {
	out := map[string]int{}
	for _, c := range e.emu.CallsTo("tagging") {
		if c.Operation == "TagResources" && c.ErrorCode == "" {
			out[c.Target]++
		}
	}
	return out
}

func TestBackfillEveryJobOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, tagreapply.Config{BackfillConcurrency: 8}, awsemu.Options{PageSize: 50})
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	created := restoreMany(t, e, since)
	sum, err := e.r.Backfill(context.Background(), tagreapply.BackfillRequest{Since: since})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Complete || sum.Processed != backfillJobs || sum.Tagged != backfillJobs || sum.NextToken != "" {
		t.Errorf("summary %+v", sum)
	}
	writes := tagWrites(e)
	for _, arn := range created {
		if writes[arn] != 1 {
			t.Fatalf("%s tagged %d times, want once", arn, writes[arn])
		}
		if tags, _ := e.emu.ResourceTags(arn); tags["team"] != "payments" || tags["plan"] != "daily" {
			t.Fatalf("%s has tags %v", arn, tags)
		}
	}
	if len(writes) != backfillJobs {
		t.Errorf("%d resources tagged, want %d (jobs before Since and not COMPLETED are left alone)", len(writes), backfillJobs)
	}
	if n := e.emu.CountCalls("backup", "ListRestoreJobs"); n != backfillJobs/50 {
		t.Errorf("%d ListRestoreJobs pages, want %d", n, backfillJobs/50)
	}
	// Backfill reads jobs from the list: no DescribeRestoreJob per job.
	if n := e.emu.CountCalls("backup", "DescribeRestoreJob"); n != 0 {
		t.Errorf("%d DescribeRestoreJob calls", n)
	}
}

func TestBackfillDeadlineAndContinuation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, tagreapply.Config{BackfillConcurrency: 8}, awsemu.Options{PageSize: 50})
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	created := restoreMany(t, e, since)
	remove := e.emu.InjectFault(awsemu.Fault{Service: "tagging", Operation: "TagResources", Latency: 20 * time.Millisecond})

	// 1,200 jobs at 20 ms a write, 8 at a time, take about 3 s: a 2 s
	// invocation must stop part-way, with room for a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	first, err := e.r.Backfill(ctx, tagreapply.BackfillRequest{Since: since})
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Error("the backfill ran into its deadline instead of stopping before it")
	}
	if first.Complete || first.NextToken == "" || first.Processed == 0 || first.Processed >= backfillJobs {
		t.Fatalf("first invocation %+v: want a partial run with a token", first)
	}
	remove()

	second, err := e.r.Backfill(context.Background(), tagreapply.BackfillRequest{NextToken: first.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	if !second.Complete || first.Processed+second.Processed != backfillJobs {
		t.Errorf("second invocation %+v after %d processed: want the remaining %d", second, first.Processed, backfillJobs-first.Processed)
	}
	writes := tagWrites(e)
	for _, arn := range created {
		if writes[arn] != 1 {
			t.Fatalf("%s tagged %d times across the two invocations, want once", arn, writes[arn])
		}
	}
	t.Logf("first invocation processed %d jobs before its deadline, the continuation %d", first.Processed, second.Processed)

	if _, err := e.r.Backfill(context.Background(), tagreapply.BackfillRequest{NextToken: first.NextToken, Since: since.Add(time.Hour)}); err == nil || !strings.Contains(err.Error(), "differs from") {
		t.Errorf("a token with another Since: %v", err)
	}
	if _, err := e.r.Backfill(context.Background(), tagreapply.BackfillRequest{NextToken: "garbage"}); err == nil || !strings.Contains(err.Error(), "Backfill.NextToken") {
		t.Errorf("a bad token: %v", err)
	}
}

func TestBackfillDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, tagreapply.Config{}, awsemu.Options{PageSize: 50})
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	restoreMany(t, e, since)
	sum, err := e.r.Backfill(context.Background(), tagreapply.BackfillRequest{Since: since, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.emu.CountCalls("tagging", "TagResources"); n != 0 {
		t.Errorf("%d TagResources calls in a dry run", n)
	}
	if !sum.DryRun || !sum.Complete || sum.Tagged != backfillJobs {
		t.Errorf("summary %+v: want every job reported as would-be tagged", sum)
	}
}

func TestBackfillThroughHandler(t *testing.T) {
	t.Parallel()
	e := newEnv(t, tagreapply.Config{}, awsemu.Options{PageSize: 7})
	f := fixtures[5]
	e.restore(t, "job-h", f, sourceTags, recoveryPointTags, nil)
	sum, err := e.r.Handle(context.Background(), []byte(`{"RefreshTagItems": "true"}`))
	if err != nil || sum == nil || sum.Processed != 1 || !sum.Complete {
		t.Fatalf("summary %+v, %v", sum, err)
	}
	if e.tags(t, f.created)["team"] != "payments" {
		t.Error("not tagged")
	}
}
