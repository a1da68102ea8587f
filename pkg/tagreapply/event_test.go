package tagreapply_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/pkg/tagreapply"
)

func TestDecodeRequestEvents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want tagreapply.RestoreJob
		size int64
		pct  float64
	}{
		{"restore-completed.json", tagreapply.RestoreJob{
			ID: "E0A2F1C3-7D4B-4A8E-9F6C-1B2D3E4F5A6B", Status: "COMPLETED", ResourceType: "EBS",
			RecoveryPointARN:   "arn:aws:ec2:us-east-1::snapshot/snap-0a1b2c3d4e5f60001",
			SourceResourceARN:  "arn:aws:ec2:us-east-1:444444444444:volume/vol-0a1b2c3d4e5f60001",
			CreatedResourceARN: "arn:aws:ec2:us-east-1:444444444444:volume/vol-0a1b2c3d4e5f69001",
			Account:            "444444444444",
		}, 8589934592, 100},
		{"restore-running.json", tagreapply.RestoreJob{ID: "E0A2F1C3-7D4B-4A8E-9F6C-1B2D3E4F5A6B", Status: "RUNNING", ResourceType: "EBS", Account: "444444444444"}, 8589934592, 42.5},
		{"restore-created-state.json", tagreapply.RestoreJob{ID: "E0A2F1C3-7D4B-4A8E-9F6C-1B2D3E4F5A6B", Status: "CREATED", Account: "444444444444"}, 0, 0},
		{"restore-failed.json", tagreapply.RestoreJob{ID: "F1B3A2D4-8E5C-4B9F-A07D-2C3E4F5A6B7C", Status: "FAILED", ResourceType: "EBS", Account: "444444444444"}, 0, 0},
	}
	for _, tt := range tests {
		data, err := os.ReadFile("../../events/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		req, err := tagreapply.DecodeRequest(data)
		if err != nil || req.Event == nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if diff := cmp.Diff(tt.want, req.Event.Job()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.file, diff)
		}
		if d := req.Event.Detail; d.BackupSizeInBytes != tt.size || d.PercentDone != tt.pct || d.CreationDate.IsZero() {
			t.Errorf("%s: size %d, percent %v, created %v", tt.file, d.BackupSizeInBytes, d.PercentDone, d.CreationDate)
		}
	}
}

func TestDecodeRequestBackfillAndErrors(t *testing.T) {
	t.Parallel()
	legacy, _ := os.ReadFile("../../events/backfill-legacy.json")
	if req, err := tagreapply.DecodeRequest(legacy); err != nil || req.Backfill == nil || !req.Backfill.Since.IsZero() {
		t.Errorf("RefreshTagItems: %+v %v", req, err)
	}
	current, _ := os.ReadFile("../../events/backfill.json")
	req, err := tagreapply.DecodeRequest(current)
	if err != nil || req.Backfill == nil || !req.Backfill.Since.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Backfill: %+v %v", req, err)
	}
	if req, err := tagreapply.DecodeRequest([]byte(`{"Backfill":{"DryRun":"true","NextToken":"x"}}`)); err != nil || !req.Backfill.DryRun || req.Backfill.NextToken != "x" {
		t.Errorf("DryRun as a string: %+v %v", req, err)
	}
	for input, want := range map[string]string{
		`[]`:                                 "not a JSON object",
		`{"hello":1}`:                        "unrecognized input",
		`{"RefreshTagItems":"yes"}`:          `RefreshTagItems: "yes"`,
		`{"Backfill":{"Since":"yesterday"}}`: `Backfill.Since: "yesterday" is not an RFC 3339 time`,
		`{"Backfill":{"DryRun":"maybe"}}`:    `Backfill.DryRun: "maybe" is not a boolean`,
		`{"detail-type":"Restore Job State Change","source":"aws.backup","detail":{"status":"COMPLETED"}}`:                    "has no detail.restoreJobId",
		`{"detail-type":"Restore Job State Change","source":"aws.backup","detail":{"restoreJobId":"j","percentDone":"lots"}}`: "detail.percentDone",
		`{"detail-type":"Restore Job State Change","source":"aws.backup","detail":{"restoreJobId":"j","status":{}}}`:          "detail.status: want a string",
	} {
		if _, err := tagreapply.DecodeRequest([]byte(input)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", input, err, want)
		}
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, name := range []string{"restore-completed.json", "restore-running.json", "restore-created-state.json", "restore-failed.json", "backfill.json", "backfill-legacy.json"} {
		data, _ := os.ReadFile("../../events/" + name)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := tagreapply.DecodeRequest(data)
		if err != nil {
			return
		}
		if (req.Event == nil) == (req.Backfill == nil) {
			t.Fatalf("a request must be exactly one of event or backfill: %+v", req)
		}
		if req.Event != nil && req.Event.Job().ID == "" {
			t.Fatal("accepted an event without a restore job ID")
		}
	})
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	got, err := tagreapply.ConfigFromEnv(env(map[string]string{
		tagreapply.EnvExclusions: " secret-*, owner ,", tagreapply.EnvPrecedence: "recovery-point",
		tagreapply.EnvOverwrite: "true", tagreapply.EnvProvenance: "restored-from", tagreapply.EnvConcurrency: "16",
		tagreapply.EnvNamespace: "Org/Tags", tagreapply.EnvLogLevel: "ERROR",
	}))
	want := tagreapply.Config{Exclusions: []string{"secret-*", "owner"}, Precedence: tagreapply.RecoveryPointFirst, Overwrite: true,
		ProvenanceKey: "restored-from", BackfillConcurrency: 16, MetricsNamespace: "Org/Tags", MetricsLevel: "ERROR"}
	if err != nil || !cmp.Equal(want, got) {
		t.Errorf("ConfigFromEnv = %+v, %v", got, err)
	}
	defaults, err := tagreapply.ConfigFromEnv(env(nil))
	if err != nil || defaults.Precedence != tagreapply.SourceFirst || defaults.Overwrite || defaults.BackfillConcurrency != 8 || defaults.MetricsNamespace != tagreapply.DefaultMetricsNamespace || defaults.MetricsLevel != "INFO" {
		t.Errorf("defaults = %+v, %v", defaults, err)
	}
	for k, v := range map[string]string{
		tagreapply.EnvPrecedence: "newest", tagreapply.EnvOverwrite: "sometimes",
		tagreapply.EnvConcurrency: "0", tagreapply.EnvProvenance: "aws:restored",
	} {
		if _, err := tagreapply.ConfigFromEnv(env(map[string]string{k: v})); err == nil || !strings.HasPrefix(err.Error(), k+":") {
			t.Errorf("%s=%s: error %v, want one naming the variable", k, v, err)
		}
	}
}
