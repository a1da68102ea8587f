package runtimeapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/backup-as-code/orgbackup/internal/runtimeapi"
)

func TestFunction(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a function binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bin, err := runtimeapi.Build(ctx, "github.com/backup-as-code/orgbackup/internal/runtimeapi/testdata/echofn", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fn, err := runtimeapi.StartFunction(runtimeapi.Config{Bootstrap: bin, Name: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fn.Stop() }()
	if err := fn.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if fn.FirstRequest().Before(fn.Started) {
		t.Error("first request before the process started")
	}

	res, err := fn.Invoke(ctx, []byte(`{"action":"echo"}`), 5*time.Second)
	if err != nil || res.Error != nil {
		t.Fatalf("Invoke: %v %v", err, res.Error)
	}
	var r struct {
		RequestID, FunctionARN, FunctionName, TraceID string
		Remaining                                     int64 `json:"remainingMs"`
	}
	if err := json.Unmarshal(res.Payload, &r); err != nil {
		t.Fatal(err)
	}
	if r.RequestID == "" || r.FunctionARN != "arn:aws:lambda:us-east-1:222222222222:function:echo" || r.FunctionName != "echo" ||
		!strings.HasPrefix(r.TraceID, "Root=1-") || r.Remaining <= 0 || r.Remaining > 5000 {
		t.Errorf("the function saw %+v", r)
	}

	// The panic comes last: the runtime exits after it, as in Lambda.
	for _, tt := range []struct{ action, want string }{{"fail", "asked to fail"}, {"panic", "asked to panic"}} {
		res, err := fn.Invoke(ctx, []byte(`{"action":"`+tt.action+`"}`), 5*time.Second)
		if err != nil || res.Error == nil || !strings.Contains(res.Error.Message, tt.want) {
			t.Errorf("%s: %v %+v", tt.action, err, res)
		}
	}
}

func TestInvokeTimesOut(t *testing.T) {
	t.Parallel()
	srv, err := runtimeapi.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// No function is polling: the invocation cannot even be delivered.
	if _, err := srv.Invoke(context.Background(), []byte(`{}`), 50*time.Millisecond); !errors.Is(err, runtimeapi.ErrTimeout) {
		t.Errorf("error %v, want ErrTimeout", err)
	}
}
