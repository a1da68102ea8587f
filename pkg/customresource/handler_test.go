package customresource_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/internal/logcapture"
	"github.com/backup-as-code/orgbackup/pkg/cfnresponse"
	"github.com/backup-as-code/orgbackup/pkg/customresource"
	"github.com/backup-as-code/orgbackup/pkg/lambdalog"
)

// responseName is where the harness's response URL stores responses.
const responseName = "r"

const logStream = "2026/11/22/[$LATEST]0123456789abcdef0123456789abcdef"

func loadEvent(t *testing.T, name, responseURL string) cfn.Event {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var ev cfn.Event
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	ev.ResponseURL = responseURL
	return ev
}

type harness struct {
	emu     *awsemu.Emulator
	logs    *logcapture.Buffer
	metrics *logcapture.Buffer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return &harness{emu: awsemu.New(t, awsemu.Options{}), logs: &logcapture.Buffer{}, metrics: &logcapture.Buffer{}}
}

// handler serves requests of the sample stack's account whose ResponseURL
// is on the emulator, unless opts says otherwise.
func (h *harness) handler(fn cfn.CustomResourceFunction, opts customresource.Options) *customresource.Handler {
	opts.Logger = slog.New(slog.NewJSONHandler(h.logs, nil))
	opts.LogStreamName = logStream
	if opts.ResponseHosts == nil {
		opts.ResponseHosts = hostsOf(h.emu.URL())
	}
	if opts.StackAccounts == nil {
		opts.StackAccounts = []string{"222222222222"}
	}
	opts.Metrics = h.metrics
	return customresource.NewHandler(fn, opts)
}

// hostsOf allows the hosts (with their ports) of urls.
func hostsOf(urls ...string) []customresource.HostPattern {
	var list []string
	for _, u := range urls {
		list = append(list, strings.TrimPrefix(u, "http://"))
	}
	hosts, err := customresource.ParseResponseHosts(strings.Join(list, ","))
	if err != nil {
		panic(err)
	}
	return hosts
}

// response returns the only response uploaded for the event, failing the
// test if there is not exactly one.
func (h *harness) response(t *testing.T) (cfn.Response, awsemu.Upload) {
	t.Helper()
	uploads := h.emu.Uploads(responseName)
	if len(uploads) != 1 {
		t.Fatalf("got %d responses uploaded, want exactly 1", len(uploads))
	}
	if len(uploads[0].Body) > cfnresponse.MaxBytes {
		t.Errorf("response body is %d bytes, over the %d-byte limit", len(uploads[0].Body), cfnresponse.MaxBytes)
	}
	var r cfn.Response
	if err := json.Unmarshal(uploads[0].Body, &r); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, uploads[0].Body)
	}
	return r, uploads[0]
}

func TestHandlerOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		event      string
		fn         cfn.CustomResourceFunction
		wantStatus cfn.StatusType
		wantID     string
		wantData   map[string]any
		wantReason []string // substrings
	}{
		{
			name:  "create success returns the function's ID and data",
			event: "create",
			fn: func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
				return "p-bk000042", map[string]any{"PolicyId": "p-bk000042"}, nil
			},
			wantStatus: cfn.StatusSuccess,
			wantID:     "p-bk000042",
			wantData:   map[string]any{"PolicyId": "p-bk000042"},
		},
		{
			name:  "create error without an ID falls back to the request ID",
			event: "create",
			fn: func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
				return "", nil, errors.New("PolicyName: required")
			},
			wantStatus: cfn.StatusFailed,
			wantID:     "3f4c2f6e-2b8a-4d4e-9a51-0c8a0f8d7e11",
			wantReason: []string{"PolicyName: required", "(log stream: " + logStream + ")"},
		},
		{
			name:  "create error after the resource exists keeps its ID for the rollback Delete",
			event: "create",
			fn: func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
				return "p-bk000007", nil, errors.New("attaching policy p-bk000007 to ou-a1b2-prod0001: ConstraintViolationException")
			},
			wantStatus: cfn.StatusFailed,
			wantID:     "p-bk000007",
			wantReason: []string{"ConstraintViolationException"},
		},
		{
			name:  "panic is recovered into FAILED",
			event: "update",
			fn: func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
				var targets []string
				return targets[len(ev.RequestID)], nil, nil
			},
			wantStatus: cfn.StatusFailed,
			wantID:     "p-bk000001",
			wantReason: []string{"internal error: panic: runtime error: index out of range [36] with length 0"},
		},
		{
			name:  "update replacement returns the new ID",
			event: "update",
			fn: func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
				return "p-bk000002", nil, nil
			},
			wantStatus: cfn.StatusSuccess,
			wantID:     "p-bk000002",
		},
		{
			name:  "failed update keeps the event's ID",
			event: "update",
			fn: func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
				return "p-bk000002", nil, errors.New("boom")
			},
			wantStatus: cfn.StatusFailed,
			wantID:     "p-bk000001",
			wantReason: []string{"boom", "p-bk000002 was created by this request and is not tracked by CloudFormation"},
		},
		{
			name:  "delete always echoes the event's ID",
			event: "delete",
			fn: func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
				return "something-else", nil, nil
			},
			wantStatus: cfn.StatusSuccess,
			wantID:     "p-bk000001",
		},
		{
			name:  "attributes too large for the response fail the request",
			event: "create",
			fn: func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
				return "p-bk000003", map[string]any{"Big": strings.Repeat("x", 5000)}, nil
			},
			wantStatus: cfn.StatusFailed,
			wantID:     "p-bk000003",
			wantReason: []string{"exceed the 4096-byte response limit"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			ev := loadEvent(t, tt.event, h.emu.ResponseURL(responseName))
			if err := h.handler(tt.fn, customresource.Options{}).Handle(context.Background(), ev); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			got, _ := h.response(t)
			if got.Status != tt.wantStatus || got.PhysicalResourceID != tt.wantID {
				t.Errorf("got status %s, physical ID %q; want %s, %q (reason %q)", got.Status, got.PhysicalResourceID, tt.wantStatus, tt.wantID, got.Reason)
			}
			if got.RequestID != ev.RequestID || got.StackID != ev.StackID || got.LogicalResourceID != ev.LogicalResourceID {
				t.Errorf("response does not echo the request: %+v", got)
			}
			if diff := cmp.Diff(tt.wantData, got.Data); diff != "" {
				t.Errorf("Data (-want +got):\n%s", diff)
			}
			for _, s := range tt.wantReason {
				if !strings.Contains(got.Reason, s) {
					t.Errorf("Reason %q does not contain %q", got.Reason, s)
				}
			}
			if tt.wantStatus == cfn.StatusSuccess && got.Reason != "" {
				t.Errorf("SUCCESS with Reason %q", got.Reason)
			}
		})
	}
}

func TestHandlerTimeoutAnswersBeforeDeadline(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ev := loadEvent(t, "create", h.emu.ResponseURL(responseName))
	var workEnded atomic.Bool
	fn := func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
		<-ctx.Done() // stands for AWS calls that outlast the invocation
		workEnded.Store(true)
		return "p-bk000009", nil, ctx.Err()
	}
	deadline := time.Now().Add(900 * time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := h.handler(fn, customresource.Options{}).Handle(ctx, ev); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	got, upload := h.response(t)
	if got.Status != cfn.StatusFailed || got.PhysicalResourceID != "p-bk000009" {
		t.Errorf("got %s %q, want FAILED with the reported ID p-bk000009", got.Status, got.PhysicalResourceID)
	}
	if !strings.Contains(got.Reason, "did not finish before the Lambda deadline") || !strings.Contains(got.Reason, "partially applied") {
		t.Errorf("Reason %q does not explain the timeout", got.Reason)
	}
	if !upload.Received.Before(deadline) {
		t.Errorf("response arrived %v after the deadline", upload.Received.Sub(deadline))
	}
	if !workEnded.Load() {
		t.Error("Handle returned while the work was still running")
	}
}

// TestHandlerTimeoutReason: when the work's deadline passes, the function's
// own error says what it was doing, if it returns promptly; a function that
// does not return in time is answered with the deadline alone, still before
// the invocation's deadline.
func TestHandlerTimeoutReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// after runs once the work's context has ended.
		after      func(invocation context.Context) error
		wantReason []string
	}{
		{
			name: "returns its own error",
			after: func(context.Context) error {
				return errors.New("attaching policy p-bk000009 to 111111111111: gave up after 5 attempts at the deadline; last error ConcurrentModificationException")
			},
			wantReason: []string{"the work did not finish before the Lambda deadline: attaching policy p-bk000009 to 111111111111: gave up after 5 attempts at the deadline; last error ConcurrentModificationException; changes may be partially applied"},
		},
		{
			name: "does not return",
			after: func(invocation context.Context) error {
				<-invocation.Done()
				return errors.New("too late to be reported")
			},
			wantReason: []string{"did not finish before the Lambda deadline: work deadline reached", "partially applied"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			ev := loadEvent(t, "create", h.emu.ResponseURL(responseName))
			deadline := time.Now().Add(900 * time.Millisecond)
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			fn := func(work context.Context, ev cfn.Event) (string, map[string]any, error) {
				<-work.Done()
				return "", nil, tt.after(ctx)
			}
			if err := h.handler(fn, customresource.Options{}).Handle(ctx, ev); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			got, upload := h.response(t)
			if got.Status != cfn.StatusFailed {
				t.Errorf("got %s, want FAILED", got.Status)
			}
			for _, want := range tt.wantReason {
				if !strings.Contains(got.Reason, want) {
					t.Errorf("Reason %q\ndoes not contain %q", got.Reason, want)
				}
			}
			if strings.Contains(got.Reason, "too late") {
				t.Errorf("Reason %q holds an error the function returned after the response", got.Reason)
			}
			if !upload.Received.Before(deadline) {
				t.Errorf("response arrived %v after the deadline", upload.Received.Sub(deadline))
			}
		})
	}
}

func TestHandlerReasonTruncation(t *testing.T) {
	t.Parallel()
	head := "creating Organizations policy daily: "
	root := "ConstraintViolationException: MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"
	tests := map[string]string{
		"ascii":     head + strings.Repeat("attaching to ou-a1b2-prod0001 failed; ", 300) + root,
		"multibyte": head + strings.Repeat("ポリシー \"quoted\" <tag> ", 400) + root,
		"escapes":   head + strings.Repeat("\x01\n\t\"\\", 2000) + root,
	}
	for name, reason := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			ev := loadEvent(t, "update", h.emu.ResponseURL(responseName))
			fn := func(context.Context, cfn.Event) (string, map[string]any, error) {
				return "", nil, errors.New(reason)
			}
			if err := h.handler(fn, customresource.Options{}).Handle(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			got, upload := h.response(t)
			for _, want := range []string{head, root, "…[truncated]…", "(log stream: " + logStream + ")"} {
				if !strings.Contains(got.Reason, want) {
					t.Errorf("truncated Reason lost %q", want)
				}
			}
			// The cut must use the room: a response far below the limit
			// dropped more of the error than it had to.
			if len(upload.Body) < cfnresponse.MaxBytes-64 {
				t.Errorf("body is %d bytes; truncation wasted room", len(upload.Body))
			}
			// The full error still goes to the log.
			if !logHas(t, h.logs, "custom resource request failed", "error", reason) {
				t.Error("the log does not carry the full error")
			}
		})
	}
}

func TestHandlerResponseDelivery(t *testing.T) {
	t.Parallel()
	ok := func(context.Context, cfn.Event) (string, map[string]any, error) {
		return "p-bk000001", nil, nil
	}
	t.Run("5xx once then delivered", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.emu.InjectFault(awsemu.Fault{Service: awsemu.ResponseService, Kind: awsemu.FaultInternalError, First: 1})
		ev := loadEvent(t, "create", h.emu.ResponseURL(responseName))
		if err := h.handler(ok, customresource.Options{}).Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		h.response(t)
		if n := h.emu.CountCalls(awsemu.ResponseService, ""); n != 2 {
			t.Errorf("got %d PUT attempts, want 2", n)
		}
	})
	t.Run("connection dropped once then delivered", func(t *testing.T) {
		t.Parallel()
		var attempts atomic.Int32
		var body atomic.Value
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if attempts.Add(1) == 1 {
				conn, _, _ := w.(http.Hijacker).Hijack()
				_ = conn.Close()
				return
			}
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(r.Body)
			body.Store(buf.String())
		}))
		defer srv.Close()
		h := newHarness(t)
		ev := loadEvent(t, "create", srv.URL+"/response")
		if err := h.handler(ok, customresource.Options{ResponseHosts: hostsOf(srv.URL)}).Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if attempts.Load() != 2 || !strings.Contains(body.Load().(string), `"Status":"SUCCESS"`) {
			t.Errorf("attempts %d, delivered %v", attempts.Load(), body.Load())
		}
	})
	t.Run("4xx is not retried and fails the invocation", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.emu.InjectFault(awsemu.Fault{Service: awsemu.ResponseService, Kind: awsemu.FaultAccessDenied})
		ev := loadEvent(t, "create", h.emu.ResponseURL(responseName))
		err := h.handler(ok, customresource.Options{}).Handle(context.Background(), ev)
		if err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("Handle error = %v, want the 403", err)
		}
		if n := h.emu.CountCalls(awsemu.ResponseService, ""); n != 1 {
			t.Errorf("got %d PUT attempts, want 1", n)
		}
	})
	t.Run("persistent 5xx gives up after MaxPutAttempts", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.emu.InjectFault(awsemu.Fault{Service: awsemu.ResponseService, Kind: awsemu.FaultInternalError})
		ev := loadEvent(t, "create", h.emu.ResponseURL(responseName))
		if err := h.handler(ok, customresource.Options{MaxPutAttempts: 3}).Handle(context.Background(), ev); err == nil {
			t.Fatal("Handle succeeded although the response was never delivered")
		}
		if n := h.emu.CountCalls(awsemu.ResponseService, ""); n != 3 {
			t.Errorf("got %d PUT attempts, want 3", n)
		}
	})
}

func TestHandlerLogsCarryRequestIdentity(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ev := loadEvent(t, "update", h.emu.ResponseURL(responseName))
	fn := func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
		logger, _ := lambdalog.FromContext(ctx)
		logger.Info("working", slog.String("step", "plan"))
		return "", nil, errors.New("boom")
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "aws-req-1"})
	if err := h.handler(fn, customresource.Options{}).Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	records, err := h.logs.Records()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range records {
		for k, want := range map[string]string{"requestId": ev.RequestID, "stackId": ev.StackID, "logicalResourceId": ev.LogicalResourceID, "awsRequestId": "aws-req-1"} {
			if rec[k] != want {
				t.Errorf("log line %q: %s = %v, want %q", rec["msg"], k, rec[k], want)
			}
		}
	}
	if len(records) < 4 { // received, working, failed, sent
		t.Errorf("got %d log lines, want at least 4:\n%s", len(records), h.logs.String())
	}
}

// logHas reports whether a log record with message msg has key = value.
func logHas(t *testing.T, logs *logcapture.Buffer, msg, key, value string) bool {
	t.Helper()
	records, err := logs.Records()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range records {
		if rec["msg"] == msg && rec[key] == value {
			return true
		}
	}
	return false
}

// cfnresponse.SuccessSize predicts, before any work, the exact size of the
// body the Handler PUTs, so that a resource function can keep its Data
// within the limit.
func TestSuccessSizeIsTheBodySent(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"create", "update", "delete"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			ev := loadEvent(t, name, h.emu.ResponseURL(responseName))
			id := "p-bk000004"
			data := map[string]any{"PolicyTargets": "111111111111,r-a1b2", "Name": `<"daily" & ポリシー>`, "Count": "2"}
			sent := id
			if ev.RequestType == cfn.RequestDelete {
				sent = ev.PhysicalResourceID // a Delete's response always carries the event's ID
			}
			want, err := cfnresponse.SuccessSize(ev, sent, data)
			if err != nil {
				t.Fatal(err)
			}
			fn := func(context.Context, cfn.Event) (string, map[string]any, error) { return id, data, nil }
			if err := h.handler(fn, customresource.Options{}).Handle(context.Background(), ev); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			got, upload := h.response(t)
			if got.Status != cfn.StatusSuccess {
				t.Fatalf("got %s: %s", got.Status, got.Reason)
			}
			if len(upload.Body) != want {
				t.Errorf("SuccessSize = %d, the body sent is %d bytes", want, len(upload.Body))
			}
		})
	}
}
