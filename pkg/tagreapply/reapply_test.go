package tagreapply_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/pkg/tagreapply"
)

var (
	sourceTags = map[string]string{
		"team": "payments", "env": "prod", "cost-center": "cc-42",
		"aws:cloudformation:stack-name": "orders", "secret-token-id": "abc",
	}
	recoveryPointTags = map[string]string{
		"env": "prod-at-backup-time", "backup-plan": "daily",
		"aws:backup:source-resource": "vol-0a1b2c3d4e5f60001",
	}
)

// TestEveryResourceType: each restored type ends with the merged tags,
// source tags winning, aws: keys and configured exclusions never written,
// the recovery point's tags read with backup:ListTags only when its ARN is
// an AWS Backup one and otherwise in the same GetResources call as the
// source and restored resources.
func TestEveryResourceType(t *testing.T) {
	t.Parallel()
	for i, f := range fixtures {
		t.Run(f.resourceType, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tagreapply.Config{Exclusions: []string{"secret-*"}}, awsemu.Options{})
			id := e.restore(t, fmt.Sprintf("job-%02d", i), f, sourceTags, recoveryPointTags, nil)
			if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"team": "payments", "env": "prod", "cost-center": "cc-42", "backup-plan": "daily"}
			if diff := cmp.Diff(want, e.tags(t, f.created)); diff != "" {
				t.Errorf("restored resource tags (-want +got):\n%s", diff)
			}
			wantCalls := map[string]int{"backup:DescribeRestoreJob": 1, "tagging:GetResources": 1, "tagging:TagResources": 1}
			if strings.HasPrefix(f.recoveryPoint, "arn:aws:backup:") {
				wantCalls["backup:ListTags"] = 1
			}
			if instanceID(f.created) != "" {
				wantCalls["ec2:DescribeInstances"] = 1
			}
			if diff := cmp.Diff(wantCalls, e.callCounts()); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			rec := e.record(t, id)
			if rec["result"] != "tagged" || rec["resourceType"] != f.resourceType {
				t.Errorf("record %v", rec)
			}
			if diff := cmp.Diff([]any{"aws:backup:source-resource", "aws:cloudformation:stack-name", "secret-token-id"}, sortedAny(rec["tagsExcluded"])); diff != "" {
				t.Errorf("excluded keys in the record (-want +got):\n%s", diff)
			}
			wantApplied := 4.0
			if instanceID(f.created) != "" {
				// The restored volume on /dev/sdg has no source volume
				// on its device: it gets the instance's four tags too.
				wantApplied = 8
			}
			if got := e.metric(t, f.resourceType, "TagsApplied"); got != wantApplied {
				t.Errorf("TagsApplied metric %v, want %v", got, wantApplied)
			}
		})
	}
}

func TestMergeRulesEndToEnd(t *testing.T) {
	t.Parallel()
	f := fixtures[0]
	existing := map[string]string{"env": "restored-copy", "Name": "restored"}
	tests := []struct {
		name string
		cfg  tagreapply.Config
		want map[string]string
	}{
		{
			name: "defaults: keep existing keys, source wins",
			want: map[string]string{"env": "restored-copy", "Name": "restored", "team": "payments", "cost-center": "cc-42", "secret-token-id": "abc", "backup-plan": "daily"},
		},
		{
			name: "overwrite existing keys",
			cfg:  tagreapply.Config{Overwrite: true},
			want: map[string]string{"env": "prod", "Name": "restored", "team": "payments", "cost-center": "cc-42", "secret-token-id": "abc", "backup-plan": "daily"},
		},
		{
			name: "recovery point wins, overwriting",
			cfg:  tagreapply.Config{Overwrite: true, Precedence: tagreapply.RecoveryPointFirst},
			want: map[string]string{"env": "prod-at-backup-time", "Name": "restored", "team": "payments", "cost-center": "cc-42", "secret-token-id": "abc", "backup-plan": "daily"},
		},
		{
			name: "exact exclusion and provenance",
			cfg:  tagreapply.Config{Exclusions: []string{"cost-center"}, ProvenanceKey: "restored-from"},
			want: map[string]string{"env": "restored-copy", "Name": "restored", "team": "payments", "secret-token-id": "abc", "backup-plan": "daily", "restored-from": f.recoveryPoint},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tt.cfg, awsemu.Options{})
			id := e.restore(t, "job-1", f, sourceTags, recoveryPointTags, existing)
			if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, e.tags(t, f.created)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSixtyCandidateTags(t *testing.T) {
	t.Parallel()
	f := fixtures[4]
	e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
	src := map[string]string{}
	for i := range 60 {
		src[fmt.Sprintf("k%02d", i)] = "v"
	}
	id := e.restore(t, "job-60", f, src, nil, map[string]string{"existing": "1", "aws:dynamodb:x": "y"})
	if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
		t.Fatal(err)
	}
	if n := len(e.tags(t, f.created)) - 1; n != 50 { // aws: tags do not count
		t.Errorf("resource has %d user tags, want exactly 50", n)
	}
	rec := e.record(t, id)
	leftOut, _ := rec["tagsLeftOut"].([]any)
	if len(leftOut) != 11 || leftOut[0] != "k49" || leftOut[10] != "k59" {
		t.Errorf("record reports left out %v, want k49..k59", leftOut)
	}
	if !strings.Contains(rec["reason"].(string), "11 tags left out at the 50-tag limit") {
		t.Errorf("reason %q", rec["reason"])
	}
}

func TestSourceGone(t *testing.T) {
	t.Parallel()
	f := fixtures[2]
	e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
	id := e.restore(t, "job-gone", f, nil, recoveryPointTags, nil)
	if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"env": "prod-at-backup-time", "backup-plan": "daily"}, e.tags(t, f.created)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r := e.record(t, id)["reason"]; !strings.Contains(fmt.Sprint(r), "source resource no longer exists") {
		t.Errorf("reason %v", r)
	}
}

func TestNotCompletedMakesNoCalls(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"restore-running.json", "restore-created-state.json", "restore-failed.json"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
			if err := e.handle(t, event(t, name, "E0A2F1C3-7D4B-4A8E-9F6C-1B2D3E4F5A6B", fixtures[0])); err != nil {
				t.Fatal(err)
			}
			if calls := e.emu.Calls(); len(calls) != 0 {
				t.Errorf("%d AWS calls for a job that is not COMPLETED: %+v", len(calls), calls)
			}
			recs, _ := e.logs.Records()
			if len(recs) != 1 || recs[0]["result"] != "ignored" || !strings.Contains(fmt.Sprint(recs[0]["reason"]), "not COMPLETED") {
				t.Errorf("log %v", recs)
			}
		})
	}
}

func TestCallsDoNotDependOnVaults(t *testing.T) {
	t.Parallel()
	counts := map[int]map[string]int{}
	for _, vaults := range []int{1, 500} {
		e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
		for i := range vaults {
			e.emu.AddBackupVault(fmt.Sprintf("vault-%03d", i))
		}
		f := fixtures[0]
		id := e.restore(t, "job-v", f, sourceTags, recoveryPointTags, nil)
		if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
			t.Fatal(err)
		}
		counts[vaults] = e.callCounts()
	}
	if diff := cmp.Diff(counts[1], counts[500]); diff != "" {
		t.Errorf("calls with 1 vault vs 500 (-1 +500):\n%s", diff)
	}
	if n := counts[500]["backup:ListBackupVaults"]; n != 0 {
		t.Errorf("%d ListBackupVaults calls", n)
	}
}

func TestSameEventTwice(t *testing.T) {
	t.Parallel()
	f := fixtures[1]
	e := newEnv(t, tagreapply.Config{ProvenanceKey: "restored-from"}, awsemu.Options{})
	id := e.restore(t, "job-twice", f, sourceTags, recoveryPointTags, nil)
	ev := event(t, "restore-completed.json", id, f)
	if err := e.handle(t, ev); err != nil {
		t.Fatal(err)
	}
	first := e.tags(t, f.created)
	e.emu.ResetCalls()
	if err := e.handle(t, ev); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, e.tags(t, f.created)); diff != "" {
		t.Errorf("second run changed the tags (-first +second):\n%s", diff)
	}
	if n := e.emu.CountCalls("tagging", "TagResources"); n != 0 {
		t.Errorf("%d TagResources calls; the second run has nothing to write", n)
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	f := fixtures[0]
	t.Run("throttled TagResources is retried", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
		e.emu.InjectFault(awsemu.Fault{Service: "tagging", Operation: "TagResources", Kind: awsemu.FaultThrottle, First: 2})
		id := e.restore(t, "job-t", f, sourceTags, nil, nil)
		if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
			t.Fatal(err)
		}
		if e.tags(t, f.created)["team"] != "payments" {
			t.Error("not tagged after throttling")
		}
		if n := e.emu.CountCalls("tagging", "TagResources"); n != 3 {
			t.Errorf("%d TagResources attempts, want 3", n)
		}
	})
	t.Run("persistent 500 returns an error for Lambda to retry", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
		e.emu.InjectFault(awsemu.Fault{Service: "tagging", Operation: "TagResources", Kind: awsemu.FaultInternalError})
		id := e.restore(t, "job-500", f, sourceTags, nil, nil)
		err := e.handle(t, event(t, "restore-completed.json", id, f))
		if !errors.Is(err, tagreapply.ErrTransient) {
			t.Fatalf("error %v, want ErrTransient", err)
		}
		if got := e.metric(t, "EBS", "Failures"); got != 1 {
			t.Errorf("Failures metric %v", got)
		}
	})
	t.Run("500 for the resource in FailedResourcesMap is transient", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
		e.emu.FailTagging(f.created, http.StatusInternalServerError, "InternalServiceException", "try again")
		id := e.restore(t, "job-f500", f, sourceTags, nil, nil)
		if err := e.handle(t, event(t, "restore-completed.json", id, f)); !errors.Is(err, tagreapply.ErrTransient) {
			t.Fatalf("error %v, want ErrTransient", err)
		}
	})
	permanent := []struct {
		name   string
		setup  func(e *env, f fixture)
		f      fixture
		reason string
	}{
		{
			name: "access denied on the call",
			setup: func(e *env, f fixture) {
				e.emu.InjectFault(awsemu.Fault{Service: "tagging", Operation: "TagResources", Kind: awsemu.FaultAccessDenied})
			},
			f:      f,
			reason: "AccessDeniedException",
		},
		{
			name: "access denied for the resource",
			setup: func(e *env, f fixture) {
				e.emu.FailTagging(f.created, http.StatusForbidden, "InvalidParameterException", "not authorized to perform: ec2:CreateTags")
			},
			f:      f,
			reason: "ec2:CreateTags",
		},
		{
			name:   "restored resource deleted before tagging",
			setup:  func(e *env, f fixture) { e.emu.RemoveResource(f.created) },
			f:      f,
			reason: "does not exist",
		},
	}
	for _, tt := range permanent {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
			id := e.restore(t, "job-p", tt.f, sourceTags, nil, nil)
			if tt.setup != nil {
				tt.setup(e, tt.f)
			}
			if err := e.handle(t, event(t, "restore-completed.json", id, tt.f)); err != nil {
				t.Fatalf("a permanent failure returned %v; Lambda would retry it for nothing", err)
			}
			rec := e.record(t, id)
			if rec["result"] != "failed" || rec["level"] != "WARN" || !strings.Contains(fmt.Sprint(rec["reason"]), tt.reason) {
				t.Errorf("record %v", rec)
			}
			if got := e.metric(t, tt.f.resourceType, "Failures"); got != 1 {
				t.Errorf("Failures metric %v", got)
			}
		})
	}
}

func TestRecoveryPointGone(t *testing.T) {
	t.Parallel()
	f := fixtures[3]
	e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
	id := e.restore(t, "job-rp", f, sourceTags, recoveryPointTags, nil)
	e.emu.DeleteRecoveryPoint(f.recoveryPoint)
	if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
		t.Fatal(err)
	}
	if got := e.tags(t, f.created); got["team"] != "payments" || got["backup-plan"] != "" {
		t.Errorf("tags %v: want the source's only", got)
	}
}

func TestUnrecognizedInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
	_, err := e.r.Handle(context.Background(), []byte(`{"detail-type":"Backup Job State Change","source":"aws.backup","detail":{}}`))
	if err == nil || !strings.Contains(err.Error(), `detail-type "Backup Job State Change"`) {
		t.Errorf("error %v", err)
	}
}

func sortedAny(v any) []any {
	s, _ := v.([]any)
	out := append([]any(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if fmt.Sprint(out[j]) < fmt.Sprint(out[i]) {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// A failure's reason is the AWS error code and message, shortened as the
// policy manager's Reasons are (awsclient.Short): no request ID, no HTTP
// details.
func TestFailureReasonIsShort(t *testing.T) {
	t.Parallel()
	f := fixtures[0]
	e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
	id := e.restore(t, "job-short", f, sourceTags, nil, nil)
	e.emu.InjectFault(awsemu.Fault{Service: "tagging", Operation: "TagResources", Kind: awsemu.FaultAccessDenied})
	if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
		t.Fatal(err)
	}
	reason := fmt.Sprint(e.record(t, id)["reason"])
	if !strings.HasPrefix(reason, "tagging "+f.created+": AccessDeniedException: ") {
		t.Errorf("reason %q: want the operation, then the error code and message", reason)
	}
	for _, noise := range []string{"RequestID", "https response error", "StatusCode", "operation error"} {
		if strings.Contains(reason, noise) {
			t.Errorf("reason %q carries the SDK's %q", reason, noise)
		}
	}
}
