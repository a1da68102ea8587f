package lambdalog_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

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
