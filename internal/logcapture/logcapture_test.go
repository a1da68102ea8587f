package logcapture_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/backup-as-code/orgbackup/internal/logcapture"
)

func TestWaitSeesLaterWrites(t *testing.T) {
	t.Parallel()
	var b logcapture.Buffer
	fmt.Fprintln(&b, `{"msg":"first"}`)
	done := make(chan map[string]any)
	go func() {
		r, _ := b.Wait(context.Background(), func(r map[string]any) bool { return r["msg"] == "second" })
		done <- r
	}()
	fmt.Fprintln(&b, `{"msg":"second","n":2}`)
	if r := <-done; r["n"] != float64(2) {
		t.Errorf("Wait returned %v", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.Wait(ctx, func(map[string]any) bool { return false }); err == nil {
		t.Error("Wait for a record never written returned no error")
	}
	fmt.Fprintln(&b, "not json")
	if _, err := b.Records(); err == nil {
		t.Error("a line that is not JSON went unnoticed")
	}
}
