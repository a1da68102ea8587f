package lambdalog_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/backup-as-code/orgbackup/pkg/lambdalog"
)

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		level string
		want  []string // messages that get through, of debug, info, warn, error
	}{
		{"", []string{"info", "warn", "error"}},
		{"TRACE", []string{"debug", "info", "warn", "error"}},
		{"debug", []string{"debug", "info", "warn", "error"}},
		{"WARN", []string{"warn", "error"}},
		{"FATAL", []string{"error"}},
		{"nonsense", []string{"info", "warn", "error"}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		l := lambdalog.New(&buf, tt.level)
		l.Debug("debug")
		l.Info("info")
		l.Warn("warn")
		l.Error("error")
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("not JSON: %q", line)
			}
			got = append(got, rec["msg"].(string))
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("level %q: logged %v, want %v", tt.level, got, tt.want)
		}
	}
}

func TestMetricLevel(t *testing.T) {
	t.Parallel()
	// Lambda sends a record when its level is at or above the configured
	// one, in the order TRACE < DEBUG < INFO < WARN < ERROR < FATAL.
	order := []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}
	rank := func(l string) int {
		for i, o := range order {
			if o == l {
				return i
			}
		}
		return 2 // unset or unknown: Lambda's default, INFO
	}
	for _, configured := range append(order, "", "warn", "nonsense") {
		got := lambdalog.MetricLevel(configured)
		if rank(got) < rank(strings.ToUpper(configured)) {
			t.Errorf("MetricLevel(%q) = %q: Lambda would filter it out", configured, got)
		}
		if rank(got) > max(rank(strings.ToUpper(configured)), 2) {
			t.Errorf("MetricLevel(%q) = %q: more severe than needed", configured, got)
		}
	}
}

// TestRecordTimestamp: every record has "level" and an RFC 3339 UTC
// "timestamp", the keys of the Lambda developer guide's example ("Log-level
// filtering"): without a valid timestamp Lambda gives a record the level
// INFO, so a WARN record would pass an INFO-only filter and an ERROR one be
// reclassified. A "timestamp" attribute inside a group stays as it is.
func TestRecordTimestamp(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	before := time.Now()
	lambdalog.New(&buf, "DEBUG").Warn("careful", slog.Group("job", slog.Time("time", before)))
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not JSON: %q", buf.String())
	}
	if rec["level"] != "WARN" {
		t.Errorf("level %v, want WARN", rec["level"])
	}
	if _, ok := rec["time"]; ok {
		t.Errorf("record still has slog's time key: %v", rec)
	}
	ts, _ := rec["timestamp"].(string)
	got, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil || !strings.HasSuffix(ts, "Z") || got.Before(before.Add(-time.Millisecond)) || got.After(time.Now()) {
		t.Errorf("timestamp %q is not the record's time in RFC 3339 UTC (%v)", ts, err)
	}
	if job, _ := rec["job"].(map[string]any); job["time"] == nil {
		t.Errorf("a grouped time attribute was renamed: %v", rec)
	}
}
