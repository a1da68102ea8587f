package invocation_test

import (
	"testing"
	"time"

	"github.com/backup-as-code/orgbackup/pkg/invocation"
)

func TestMargin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		left     time.Duration
		limit    time.Duration
		min, max time.Duration
	}{
		{"plenty of time: the limit", 15 * time.Minute, invocation.DefaultMargin, invocation.DefaultMargin, invocation.DefaultMargin},
		{"short deadline: a third of it", 900 * time.Millisecond, invocation.DefaultMargin, 250 * time.Millisecond, 300 * time.Millisecond},
		{"a smaller configured limit", time.Minute, time.Second, time.Second, time.Second},
		{"deadline passed: none", -time.Second, invocation.DefaultMargin, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := invocation.Margin(time.Now().Add(tt.left), tt.limit)
			if got < tt.min || got > tt.max {
				t.Errorf("Margin(%v left, limit %v) = %v, want %v to %v", tt.left, tt.limit, got, tt.min, tt.max)
			}
		})
	}
}
