package tagreapply_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/pkg/tagreapply"
)

// TestCallsPerRestore measures, from the emulator's call log, the calls of
// one restore event: a snapshot-type recovery point (EBS, RDS) has its tags
// read in the GetResources call that reads the source and restored
// resources, an AWS Backup one (EFS) with backup:ListTags. A redelivery,
// and an in-place restore, have nothing to write and make no TagResources
// call.
func TestCallsPerRestore(t *testing.T) {
	t.Parallel()
	ebs, rds, efs := fixtures[0], fixtures[2], fixtures[5]
	snapshot := map[string]int{"backup:DescribeRestoreJob": 1, "tagging:GetResources": 1, "tagging:TagResources": 1}
	backupRP := map[string]int{"backup:DescribeRestoreJob": 1, "backup:ListTags": 1, "tagging:GetResources": 1, "tagging:TagResources": 1}
	tests := []struct {
		name              string
		f                 fixture
		first, redelivery map[string]int
	}{
		{"EBS", ebs, snapshot, map[string]int{"backup:DescribeRestoreJob": 1, "tagging:GetResources": 1}},
		{"RDS", rds, snapshot, map[string]int{"backup:DescribeRestoreJob": 1, "tagging:GetResources": 1}},
		{"EFS", efs, backupRP, map[string]int{"backup:DescribeRestoreJob": 1, "backup:ListTags": 1, "tagging:GetResources": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
			id := e.restore(t, "job-"+tt.name, tt.f, sourceTags, recoveryPointTags, nil)
			ev := event(t, "restore-completed.json", id, tt.f)
			if err := e.handle(t, ev); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.first, e.callCounts()); diff != "" {
				t.Errorf("first delivery: calls (-want +got):\n%s", diff)
			}
			// The recovery point's own key arrived through whichever
			// read its ARN calls for.
			if got := e.tags(t, tt.f.created)["backup-plan"]; got != "daily" {
				t.Errorf("recovery point tag backup-plan = %q on the restored resource", got)
			}
			e.emu.ResetCalls()
			if err := e.handle(t, ev); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.redelivery, e.callCounts()); diff != "" {
				t.Errorf("redelivery: calls (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("in-place EFS", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
		f := fixture{"EFS", efs.source, efs.source, efs.recoveryPoint, nil, nil}
		id := e.restore(t, "job-inplace", f, sourceTags, recoveryPointTags, nil)
		if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int{"backup:DescribeRestoreJob": 1, "tagging:GetResources": 1}, e.callCounts()); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
	})
}

// TestEBSSnapshotAccountlessARN: AWS Backup names EBS snapshot recovery
// points without the account; their tags are asked for, and found, under
// the account-qualified ARN the Tagging API uses.
func TestEBSSnapshotAccountlessARN(t *testing.T) {
	t.Parallel()
	f := fixtures[0]
	if !strings.HasPrefix(f.recoveryPoint, "arn:aws:ec2:us-east-1::snapshot/") {
		t.Fatalf("fixture recovery point %s is not in AWS Backup's form", f.recoveryPoint)
	}
	e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
	id := e.restore(t, "job-ebs", f, nil, recoveryPointTags, nil)
	if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"env": "prod-at-backup-time", "backup-plan": "daily"}, e.tags(t, f.created)); diff != "" {
		t.Errorf("restored volume tags (-want +got):\n%s", diff)
	}
	var reads []string
	for _, c := range e.emu.CallsTo("tagging") {
		if c.Operation == "GetResources" {
			reads = append(reads, c.Target)
		}
	}
	want := []string{f.created + "," + f.source + ",arn:aws:ec2:us-east-1:" + acct + ":snapshot/snap-0a1b2c3d4e5f60001"}
	if diff := cmp.Diff(want, reads); diff != "" {
		t.Errorf("GetResources ARNs (-want +got):\n%s", diff)
	}
}

// TestDynamoDBBasicBackup: a DynamoDB backup without advanced features
// has no tags at all; that is an empty set, read nowhere, not an error.
func TestDynamoDBBasicBackup(t *testing.T) {
	t.Parallel()
	f := fixture{"DynamoDB", arnOf("dynamodb", "table/orders"), arnOf("dynamodb", "table/orders-restored"), arnOf("dynamodb", "table/orders/backup/01732000000000-6f1e2d3c"), nil, nil}
	e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
	id := e.restore(t, "job-ddb", f, map[string]string{"team": "payments"}, nil, nil)
	if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"team": "payments"}, e.tags(t, f.created)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"backup:DescribeRestoreJob": 1, "tagging:GetResources": 1, "tagging:TagResources": 1}, e.callCounts()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if rec := e.record(t, id); rec["result"] != "tagged" || rec["reason"] != nil {
		t.Errorf("record %v: want tagged with nothing to note", rec)
	}
}

// TestRecoveryPointTagsUnreadable: a recovery point whose tags cannot be
// read costs its part of the merge and a note; a transient error is
// retried.
func TestRecoveryPointTagsUnreadable(t *testing.T) {
	t.Parallel()
	f := fixtures[5] // EFS: an AWS Backup recovery point
	t.Run("access denied is a note", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
		e.emu.InjectFault(awsemu.Fault{Service: "backup", Operation: "ListTags", Kind: awsemu.FaultAccessDenied})
		id := e.restore(t, "job-denied", f, sourceTags, recoveryPointTags, nil)
		if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]string{"team": "payments", "env": "prod", "cost-center": "cc-42", "secret-token-id": "abc"}, e.tags(t, f.created)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		rec := e.record(t, id)
		if rec["result"] != "tagged" || !strings.Contains(fmt.Sprint(rec["reason"]), "cannot be read") || !strings.Contains(fmt.Sprint(rec["reason"]), "AccessDeniedException") {
			t.Errorf("record %v", rec)
		}
	})
	t.Run("throttling throughout is retried", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
		e.emu.InjectFault(awsemu.Fault{Service: "backup", Operation: "ListTags", Kind: awsemu.FaultThrottle})
		id := e.restore(t, "job-throttled", f, sourceTags, recoveryPointTags, nil)
		if err := e.handle(t, event(t, "restore-completed.json", id, f)); err == nil || !strings.Contains(err.Error(), "ThrottlingException") {
			t.Fatalf("error %v, want a transient one for Lambda to retry", err)
		}
		if n := e.emu.CountCalls("tagging", "TagResources"); n != 0 {
			t.Errorf("%d TagResources calls before the retry", n)
		}
	})
}

// TestUnsupportedType: a type the Tagging API cannot tag is its own
// result, logged and counted apart, neither a failure nor retried.
func TestUnsupportedType(t *testing.T) {
	t.Parallel()
	f := fixture{"Timestream", arnOf("timestream", "database/db/table/t"), arnOf("timestream", "database/db/table/t-restored"), arnOf("backup", "recovery-point:ts-1"), nil, nil}
	e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
	id := e.restore(t, "job-ts", f, sourceTags, nil, nil)
	if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
		t.Fatalf("an unsupported type returned %v; Lambda would retry it for nothing", err)
	}
	rec := e.record(t, id)
	if rec["result"] != "unsupported" || rec["level"] != "WARN" || !strings.Contains(fmt.Sprint(rec["reason"]), "cannot tag Timestream resources") {
		t.Errorf("record %v", rec)
	}
	for name, want := range map[string]float64{"Unsupported": 1, "Failures": 0, "EventsProcessed": 1} {
		if got := e.metric(t, "Timestream", name); got != want {
			t.Errorf("%s metric %v, want %v", name, got, want)
		}
	}
	if diff := cmp.Diff(map[string]int{"backup:DescribeRestoreJob": 1}, e.callCounts()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// TestInPlaceRestore: when the restore wrote into the source itself (an
// EFS item restore, an S3 restore into the source bucket), the source's
// current tags win: recovery point tags it no longer has are not re-added.
func TestInPlaceRestore(t *testing.T) {
	t.Parallel()
	current := map[string]string{"team": "payments", "owner": "ana"} // env and backup-plan removed since the backup
	atBackup := map[string]string{"team": "orders", "env": "prod", "backup-plan": "daily"}
	for _, f := range []fixture{
		{"EFS", fixtures[5].source, fixtures[5].source, fixtures[5].recoveryPoint, nil, nil},
		{"S3", fixtures[7].source, fixtures[7].source, fixtures[7].recoveryPoint, nil, nil},
	} {
		t.Run(f.resourceType, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
			id := e.restore(t, "job-"+f.resourceType, f, current, atBackup, nil)
			if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(current, e.tags(t, f.source)); diff != "" {
				t.Errorf("tags after an in-place restore (-want +got):\n%s", diff)
			}
			if n := e.emu.CountCalls("tagging", "TagResources"); n != 0 {
				t.Errorf("%d TagResources calls: nothing should be written", n)
			}
			if rec := e.record(t, id); rec["result"] != "unchanged" || !strings.Contains(fmt.Sprint(rec["reason"]), "in-place restore") {
				t.Errorf("record %v", rec)
			}
		})
	}
	t.Run("provenance is still recorded", func(t *testing.T) {
		t.Parallel()
		f := fixture{"S3", fixtures[7].source, fixtures[7].source, fixtures[7].recoveryPoint, nil, nil}
		e := newEnv(t, tagreapply.Config{ProvenanceKey: "restored-from"}, awsemu.Options{})
		id := e.restore(t, "job-prov", f, current, atBackup, nil)
		if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"team": "payments", "owner": "ana", "restored-from": f.recoveryPoint}
		if diff := cmp.Diff(want, e.tags(t, f.source)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// TestMetricsLevel: EMF records carry the level they are given, so that
// the function's ApplicationLogLevel never filters them out; INFO by
// default.
func TestMetricsLevel(t *testing.T) {
	t.Parallel()
	for _, level := range []string{"", "ERROR"} {
		e := newEnv(t, tagreapply.Config{MetricsLevel: level}, awsemu.Options{})
		f := fixtures[0]
		id := e.restore(t, "job-level", f, sourceTags, nil, nil)
		if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
			t.Fatal(err)
		}
		recs, err := e.metrics.Records()
		if err != nil || len(recs) == 0 {
			t.Fatalf("no EMF records: %v", err)
		}
		want := level
		if want == "" {
			want = "INFO"
		}
		for _, r := range recs {
			if r["level"] != want {
				t.Errorf("configured %q: EMF record level %v, want %s", level, r["level"], want)
			}
		}
	}
}

// TestCompositeParentJob: the parent job of a composite restore (EKS)
// names no restored resource of its own; it is reported unsupported, not
// failed, and not retried. Its child jobs are ordinary jobs.
func TestCompositeParentJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
	f := fixture{"EKS", arnOf("eks", "cluster/prod"), "", arnOf("backup", "recovery-point:eks-1"), nil, nil}
	e.emu.AddRestoreJob(awsemu.RestoreJob{
		ID: "job-eks-parent", VaultName: vault, RecoveryPointARN: f.recoveryPoint, SourceResourceARN: f.source,
		ResourceType: "EKS", Status: "COMPLETED", IsParent: true,
		IAMRoleARN: arnOf("iam", "role/BackupOrgServiceRole"),
	})
	if err := e.handle(t, event(t, "restore-completed.json", "job-eks-parent", f)); err != nil {
		t.Fatalf("a composite parent job returned %v; Lambda would retry it for nothing", err)
	}
	rec := e.record(t, "job-eks-parent")
	if rec["result"] != "unsupported" || !strings.Contains(fmt.Sprint(rec["reason"]), "composite restore") {
		t.Errorf("record %v", rec)
	}
	if got := e.metric(t, "EKS", "Failures"); got != 0 {
		t.Errorf("Failures metric %v, want 0", got)
	}
	if diff := cmp.Diff(map[string]int{"backup:DescribeRestoreJob": 1}, e.callCounts()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}
