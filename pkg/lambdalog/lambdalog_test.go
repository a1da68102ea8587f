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
