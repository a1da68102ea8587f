package customresource_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/internal/logcapture"
	"github.com/backup-as-code/orgbackup/pkg/customresource"
)

func mustNotRun(t *testing.T) cfn.CustomResourceFunction {
	return func(context.Context, cfn.Event) (string, map[string]any, error) {
		t.Error("the resource function ran")
		return "", nil, nil
	}
}

func TestHandlerRefusesUntrustedResponseURL(t *testing.T) {
	t.Parallel()
	s3Only := customresource.DefaultResponseHosts("aws")
	t.Run("event", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		// The emulator's URL is http on loopback, but not on a listed host.
		ev := loadEvent(t, "create", h.emu.ResponseURL(responseName))
		if err := h.handler(mustNotRun(t), customresource.Options{ResponseHosts: s3Only}).Handle(context.Background(), ev); err != nil {
			t.Fatalf("Handle = %v; a refused event must not fail the invocation (Lambda would retry it)", err)
		}
		if n := h.emu.CountCalls(awsemu.ResponseService, ""); n != 0 {
			t.Errorf("%d PUTs to the refused URL", n)
		}
		if !logHas(t, h.logs, "custom resource request refused: no response is sent", "responseUrl", strings.TrimSuffix(h.emu.URL(), "/")) {
			t.Errorf("no refusal log line naming the URL's host:\n%s", h.logs.String())
		}
		if strings.Contains(h.logs.String(), "X-Amz-Signature") {
			t.Error("the log carries the presigned URL's signature")
		}
		rec := onlyMetric(t, h.metrics)
		if rec["ErrorKind"] != "RefusedURL" || rec["FailedRequests"] != 1.0 || rec["RequestType"] != "Create" {
			t.Errorf("metric record %v", rec)
		}
	})
	t.Run("malformed event", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		raw, _ := json.Marshal(map[string]any{
			"RequestType": "Create", "RequestId": "req-9", "ResponseURL": "https://collector.attacker.example/r",
			"StackId": "arn:aws:cloudformation:us-east-1:222222222222:stack/s/1", "ResourceProperties": "not an object",
		})
		var calls atomic.Int32
		client := doerFunc(func(*http.Request) (*http.Response, error) { calls.Add(1); return nil, errors.New("sent") })
		if err := h.handler(mustNotRun(t), customresource.Options{ResponseHosts: s3Only, Client: client}).HandleRaw(context.Background(), raw); err != nil {
			t.Fatalf("HandleRaw = %v", err)
		}
		if calls.Load() != 0 {
			t.Errorf("%d PUTs to the refused URL", calls.Load())
		}
		if rec := onlyMetric(t, h.metrics); rec["ErrorKind"] != "RefusedURL" {
			t.Errorf("metric record %v", rec)
		}
	})
}

func TestHandlerRefusesStacksOfOtherAccounts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ev := loadEvent(t, "update", h.emu.ResponseURL(responseName))
	if err := h.handler(mustNotRun(t), customresource.Options{StackAccounts: []string{"333333333333"}}).Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	got, _ := h.response(t)
	if got.Status != cfn.StatusFailed || got.PhysicalResourceID != ev.PhysicalResourceID ||
		!strings.Contains(got.Reason, "stacks of account 222222222222 may not use this function (ALLOWED_STACK_ACCOUNTS)") {
		t.Errorf("response %+v", got)
	}
	if rec := onlyMetric(t, h.metrics); rec["ErrorKind"] != "StackNotAllowed" || rec["RequestType"] != "Update" {
		t.Errorf("metric record %v", rec)
	}
}

// doerFunc is the response client seam: it sees the PUT instead of a host.
type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// TestHandlerTrustDefaultsFromFunctionARN: without configured lists, the
// function accepts the S3 hosts of its own partition and stacks of its own
// account, both read from the ARN Lambda invoked it by.
func TestHandlerTrustDefaultsFromFunctionARN(t *testing.T) {
	t.Parallel()
	const s3URL = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation/r?X-Amz-Signature=abc"
	const cnURL = "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/r?X-Amz-Signature=abc"
	tests := []struct {
		name, functionARN, url, stackID string
		wantPUT                         bool
		wantStatus                      cfn.StatusType
	}{
		{"own account, S3 URL", "arn:aws:lambda:us-east-1:222222222222:function:manager:live", s3URL, "arn:aws:cloudformation:us-east-1:222222222222:stack/s/1", true, cfn.StatusSuccess},
		{"other account's stack", "arn:aws:lambda:us-east-1:222222222222:function:manager:live", s3URL, "arn:aws:cloudformation:us-east-1:444444444444:stack/s/1", true, cfn.StatusFailed},
		{"China partition, China S3 URL", "arn:aws-cn:lambda:cn-north-1:222222222222:function:manager", cnURL, "arn:aws-cn:cloudformation:cn-north-1:222222222222:stack/s/1", true, cfn.StatusSuccess},
		{"China partition, commercial S3 URL", "arn:aws-cn:lambda:cn-north-1:222222222222:function:manager", s3URL, "arn:aws-cn:cloudformation:cn-north-1:222222222222:stack/s/1", false, ""},
		{"not in Lambda: nothing is trusted", "", s3URL, "arn:aws:cloudformation:us-east-1:222222222222:stack/s/1", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var puts []cfn.Response
			client := doerFunc(func(r *http.Request) (*http.Response, error) {
				body, _ := io.ReadAll(r.Body)
				var resp cfn.Response
				_ = json.Unmarshal(body, &resp)
				mu.Lock()
				puts = append(puts, resp)
				mu.Unlock()
				return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(""))}, nil
			})
			ran := false
			fn := func(context.Context, cfn.Event) (string, map[string]any, error) {
				ran = true
				return "p-bk000001", nil, nil
			}
			ev := loadEvent(t, "create", tt.url)
			ev.StackID = tt.stackID
			ctx := context.Background()
			if tt.functionARN != "" {
				ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "a-1", InvokedFunctionArn: tt.functionARN})
			}
			h := customresource.NewHandler(fn, customresource.Options{Client: client, Logger: slog.New(slog.DiscardHandler), Metrics: io.Discard})
			if err := h.Handle(ctx, ev); err != nil {
				t.Fatal(err)
			}
			if !tt.wantPUT {
				if len(puts) != 0 || ran {
					t.Errorf("refused URL: %d PUTs, function ran %v", len(puts), ran)
				}
				return
			}
			if len(puts) != 1 || puts[0].Status != tt.wantStatus {
				t.Fatalf("PUTs %+v, want one %s", puts, tt.wantStatus)
			}
			if ran != (tt.wantStatus == cfn.StatusSuccess) {
				t.Errorf("function ran = %v", ran)
			}
		})
	}
}

// TestHandlerRedirectsAreChecked: an allowed host cannot pass the response
// on to a host that is not.
func TestHandlerRedirectsAreChecked(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	var delivered atomic.Int32
	final := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { delivered.Add(1) }))
	defer final.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		target := other.URL
		if r.URL.Path == "/to-allowed" {
			target = final.URL
		}
		http.Redirect(w, r, target+"/r", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	ok := func(context.Context, cfn.Event) (string, map[string]any, error) {
		return "p-bk000001", nil, nil
	}

	h := newHarness(t)
	opts := customresource.Options{ResponseHosts: hostsOf(redirector.URL, final.URL), MaxPutAttempts: 1}
	if err := h.handler(ok, opts).Handle(context.Background(), loadEvent(t, "create", redirector.URL+"/to-allowed")); err != nil {
		t.Errorf("redirect to an allowed host: %v", err)
	}
	err := h.handler(ok, opts).Handle(context.Background(), loadEvent(t, "create", redirector.URL+"/to-other"))
	if err == nil || !strings.Contains(err.Error(), "not among the allowed response hosts") {
		t.Errorf("redirect to another host: Handle = %v", err)
	}
	if delivered.Load() != 1 || elsewhere.Load() != 0 {
		t.Errorf("allowed host got %d PUTs, the other %d; want 1 and 0", delivered.Load(), elsewhere.Load())
	}
}

// TestHandlerMetrics checks the EMF record of each outcome against the
// format's specification (CloudWatch User Guide, "Specification: Embedded
// metric format").
func TestHandlerMetrics(t *testing.T) {
	t.Parallel()
	denied := &smithy.OperationError{ServiceID: "Organizations", OperationName: "CreatePolicy",
		Err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized"}}
	throttled := &smithy.OperationError{ServiceID: "Organizations", OperationName: "CreatePolicy",
		Err: &smithy.GenericAPIError{Code: "TooManyRequestsException"}}
	network := &smithy.OperationError{ServiceID: "STS", OperationName: "AssumeRole", Err: errors.New("dial tcp: connection refused")}
	tests := []struct {
		name     string
		event    string
		fn       cfn.CustomResourceFunction
		wantKind string // "" = SUCCESS
	}{
		{"success", "create", func(context.Context, cfn.Event) (string, map[string]any, error) {
			return "p-bk000001", nil, nil
		}, ""},
		{"invalid input", "create", func(context.Context, cfn.Event) (string, map[string]any, error) {
			return "", nil, fmt.Errorf("creating policy: %w", invalidProperty{errors.New("PolicyName: required")})
		}, "InvalidInput"},
		{"access denied", "update", func(context.Context, cfn.Event) (string, map[string]any, error) {
			return "", nil, fmt.Errorf("creating policy: %w", denied)
		}, "AccessDenied"},
		{"other AWS error", "delete", func(context.Context, cfn.Event) (string, map[string]any, error) {
			return "", nil, fmt.Errorf("deleting policy: %w", throttled)
		}, "AWSError"},
		{"network error of an AWS call", "create", func(context.Context, cfn.Event) (string, map[string]any, error) {
			return "", nil, fmt.Errorf("connecting: %w", network)
		}, "AWSError"},
		{"panic", "create", func(context.Context, cfn.Event) (string, map[string]any, error) {
			panic("boom")
		}, "Panic"},
		{"timeout", "create", func(ctx context.Context, _ cfn.Event) (string, map[string]any, error) {
			<-ctx.Done()
			return "", nil, ctx.Err()
		}, "Timeout"},
		{"other", "create", func(context.Context, cfn.Event) (string, map[string]any, error) {
			return "", nil, errors.New("policy daily exists and belongs to another stack")
		}, "Other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			ev := loadEvent(t, tt.event, h.emu.ResponseURL(responseName))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "aws-req-7"})
			before := time.Now().UnixMilli()
			opts := customresource.Options{MetricsNamespace: "Test/Manager", MetricLevel: "WARN", FunctionName: "manager-fn"}
			if err := h.handler(tt.fn, opts).Handle(ctx, ev); err != nil {
				t.Fatal(err)
			}
			rec := onlyMetric(t, h.metrics)
			aws := rec["_aws"].(map[string]any)
			if ts, _ := aws["Timestamp"].(float64); int64(ts) < before || int64(ts) > time.Now().UnixMilli() {
				t.Errorf("Timestamp %v is not the time of the request in ms", aws["Timestamp"])
			}
			// Lambda keeps the record's level only beside a valid RFC 3339
			// "timestamp" ("Log-level filtering"): the same instant.
			ts, _ := rec["timestamp"].(string)
			if parsed, err := time.Parse(time.RFC3339Nano, ts); err != nil || parsed.UnixMilli() != int64(aws["Timestamp"].(float64)) || !strings.HasSuffix(ts, "Z") {
				t.Errorf("timestamp %q is not the record's time in RFC 3339 UTC (%v)", ts, err)
			}
			delete(rec, "timestamp")
			wantDims := []any{[]any{"FunctionName"}, []any{"FunctionName", "RequestType"}}
			failed := 0.0
			if tt.wantKind != "" {
				wantDims = append(wantDims, []any{"FunctionName", "RequestType", "ErrorKind"})
				failed = 1
			}
			wantDirective := []any{map[string]any{
				"Namespace":  "Test/Manager",
				"Dimensions": wantDims,
				"Metrics": []any{
					map[string]any{"Name": "Requests", "Unit": "Count"},
					map[string]any{"Name": "FailedRequests", "Unit": "Count"},
				},
			}}
			if diff := cmp.Diff(wantDirective, aws["CloudWatchMetrics"]); diff != "" {
				t.Errorf("CloudWatchMetrics (-want +got):\n%s", diff)
			}
			requestType := map[string]string{"create": "Create", "update": "Update", "delete": "Delete"}[tt.event]
			want := map[string]any{
				"FunctionName": "manager-fn", "RequestType": requestType, "Requests": 1.0, "FailedRequests": failed,
				"level": "WARN", "requestId": ev.RequestID, "awsRequestId": "aws-req-7",
				"stackId": ev.StackID, "logicalResourceId": ev.LogicalResourceID,
			}
			if tt.wantKind != "" {
				want["ErrorKind"] = tt.wantKind
			}
			delete(rec, "_aws")
			if diff := cmp.Diff(want, rec); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandlerMetricDimensionsStayBounded(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	raw, _ := json.Marshal(map[string]any{
		"RequestType": "Create" + strings.Repeat("x", 100), "RequestId": "req-9", "ResponseURL": h.emu.ResponseURL(responseName),
		"StackId": "arn:aws:cloudformation:us-east-1:222222222222:stack/s/1",
	})
	if err := h.handler(mustNotRun(t), customresource.Options{}).HandleRaw(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	if rec := onlyMetric(t, h.metrics); rec["RequestType"] != "Unknown" || rec["ErrorKind"] != "InvalidInput" {
		t.Errorf("metric record %v", rec)
	}
}

// onlyMetric returns the one EMF record written.
func onlyMetric(t *testing.T, metrics *logcapture.Buffer) map[string]any {
	t.Helper()
	records, err := metrics.Records()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 1 {
		t.Fatalf("%d metric records, want 1:\n%s", len(records), metrics.String())
	}
	if _, ok := records[0]["_aws"]; !ok {
		t.Fatalf("not an EMF record: %v", records[0])
	}
	return records[0]
}

// invalidProperty is an error a resource function marks as the request's
// fault.
type invalidProperty struct{ error }

func (e invalidProperty) Unwrap() error      { return e.error }
func (e invalidProperty) InvalidInput() bool { return true }
