package tagreapply_test

import (
	"strings"
	"testing"
	"time"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/pkg/tagreapply"
)

// TestMetricsAreValidEMF checks the records against the Embedded Metric
// Format specification: an _aws member with a millisecond Timestamp and
// CloudWatchMetrics directives whose every dimension and metric name is a
// member of the record, metric values being numbers.
func TestMetricsAreValidEMF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, tagreapply.Config{MetricsNamespace: "Test/Tags"}, awsemu.Options{})
	for i, f := range fixtures[:3] {
		id := e.restore(t, "job-m"+string(rune('a'+i)), f, sourceTags, recoveryPointTags, nil)
		if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.handle(t, event(t, "restore-running.json", "job-x", fixtures[0])); err != nil {
		t.Fatal(err)
	}
	recs, err := e.metrics.Records()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 { // one record per invocation and resource type
		t.Fatalf("%d EMF records, want 4", len(recs))
	}
	for _, r := range recs {
		meta, ok := r["_aws"].(map[string]any)
		if !ok {
			t.Fatalf("no _aws member: %v", r)
		}
		ms, ok := meta["Timestamp"].(float64)
		if !ok || ms < 1e12 {
			t.Errorf("Timestamp %v is not epoch milliseconds", meta["Timestamp"])
		}
		// Lambda's log-level filtering keeps a record's level only with a
		// valid RFC 3339 "timestamp" ("Log-level filtering").
		ts, _ := r["timestamp"].(string)
		if parsed, err := time.Parse(time.RFC3339Nano, ts); err != nil || parsed.UnixMilli() != int64(ms) || !strings.HasSuffix(ts, "Z") {
			t.Errorf("timestamp %q is not the record's time in RFC 3339 UTC (%v)", ts, err)
		}
		if l, _ := r["level"].(string); l != "INFO" {
			t.Errorf("level %q, want INFO", r["level"])
		}
		directives, _ := meta["CloudWatchMetrics"].([]any)
		if len(directives) != 1 {
			t.Fatalf("CloudWatchMetrics %v", meta["CloudWatchMetrics"])
		}
		d := directives[0].(map[string]any)
		if d["Namespace"] != "Test/Tags" {
			t.Errorf("Namespace %v", d["Namespace"])
		}
		for _, set := range d["Dimensions"].([]any) {
			for _, dim := range set.([]any) {
				if _, ok := r[dim.(string)].(string); !ok {
					t.Errorf("dimension %v is not a string member", dim)
				}
			}
		}
		for _, m := range d["Metrics"].([]any) {
			name := m.(map[string]any)["Name"].(string)
			if _, ok := r[name].(float64); !ok {
				t.Errorf("metric %s has no numeric value in %v", name, r)
			}
		}
	}
	if got := e.metric(t, "EBS", "EventsIgnored"); got != 1 {
		t.Errorf("EventsIgnored for the RUNNING event = %v", got)
	}
	if got := e.metric(t, "EBS", "EventsProcessed"); got != 1 {
		t.Errorf("EventsProcessed for EBS = %v; the ignored event must not count", got)
	}
	// The two aws: keys are skipped.
	if got := e.metric(t, "RDS", "TagsSkipped"); got != 2 {
		t.Errorf("TagsSkipped for RDS = %v, want 2", got)
	}
}
