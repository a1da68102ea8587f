package customresource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/backup-as-code/orgbackup/pkg/cfnresponse"
	"github.com/backup-as-code/orgbackup/pkg/invocation"
	"github.com/backup-as-code/orgbackup/pkg/lambdalog"
)

// invalidInput is what a resource function's error implements, anywhere in
// its chain (errors.As), to be counted as InvalidInput rather than as the
// function's fault: the request is wrong.
type invalidInput interface{ InvalidInput() bool }

// Options configure a Handler. The zero value is ready for Lambda.
type Options struct {
	// SafetyMargin is kept free before the Lambda deadline to send the
	// response: the work's context ends that long before the invocation
	// does. Default 10s, but never more than a third of the time the
	// invocation has, so short test deadlines work too.
	SafetyMargin time.Duration
	// Client sends the response; default an http.Client with a 10s
	// timeout per attempt that follows a redirect only to an allowed
	// response host. Another client must check redirects itself.
	Client Doer
	// MaxPutAttempts bounds the attempts to deliver the response; default
	// 6.
	MaxPutAttempts int
	// Logger is the base logger; default slog.Default().
	Logger *slog.Logger
	// LogStreamName is named in failure reasons; default the Lambda
	// function's log stream (AWS_LAMBDA_LOG_STREAM_NAME).
	LogStreamName string

	// ResponseHosts are the hosts a ResponseURL may name
	// (ParseResponseHosts); an event naming another is refused unanswered.
	// Default: the S3 hosts of the invoked function's partition.
	ResponseHosts []HostPattern
	// StackAccounts are the accounts whose stacks may send requests
	// (ParseAccounts); others are answered FAILED before the resource
	// function runs. Default: the invoked function's own account.
	StackAccounts []string

	// Metrics receives one CloudWatch Embedded Metric Format record per
	// request; default os.Stdout, which Lambda sends to CloudWatch Logs.
	Metrics io.Writer
	// MetricsNamespace is the records' CloudWatch namespace; default
	// BackupAsCode/CustomResource.
	MetricsNamespace string
	// MetricLevel is the "level" the records carry, one the function's log
	// level filter keeps (lambdalog.MetricLevel); default INFO.
	MetricLevel string
	// FunctionName is the records' FunctionName dimension; default the
	// Lambda function's name (AWS_LAMBDA_FUNCTION_NAME).
	FunctionName string
}

// Handler serves custom-resource requests with a resource function of
// aws-lambda-go's cfn.CustomResourceFunction shape. An error fails the
// request and its text becomes the Reason; an error that implements
// InvalidInput() bool returning true is counted as InvalidInput. Its Handle
// method is the Lambda handler.
//
// PhysicalResourceId rules, the same on every path:
//   - Delete: always the event's ID (CloudFormation rejects a change).
//   - Create and Update: the ID the function returned, with or without an
//     error; else, on Update, the event's ID; else, on a Create that
//     produced nothing, the RequestId, as aws-lambda-go's cfn package does.
//     A failed Create that left a resource behind returns its ID with the
//     error, so that CloudFormation's rollback sends a Delete for it.
//   - A FAILED Update keeps the event's ID: CloudFormation rolls back to the
//     resource it knows, and the Reason names the one the function
//     returned, if another, as not tracked by CloudFormation.
type Handler struct {
	fn      cfn.CustomResourceFunction
	opts    Options
	sender  sender
	metrics *metricWriter
}

// NewHandler returns a Handler running fn.
func NewHandler(fn cfn.CustomResourceFunction, opts Options) *Handler {
	if opts.SafetyMargin <= 0 {
		opts.SafetyMargin = invocation.DefaultMargin
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: checkRedirect}
	}
	if opts.MaxPutAttempts <= 0 {
		opts.MaxPutAttempts = 6
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.LogStreamName == "" {
		opts.LogStreamName = lambdacontext.LogStreamName
	}
	if opts.Metrics == nil {
		opts.Metrics = os.Stdout
	}
	if opts.MetricsNamespace == "" {
		opts.MetricsNamespace = "BackupAsCode/CustomResource"
	}
	if opts.MetricLevel == "" {
		opts.MetricLevel = "INFO"
	}
	if opts.FunctionName == "" {
		opts.FunctionName = lambdacontext.FunctionName
	}
	return &Handler{
		fn:      fn,
		opts:    opts,
		sender:  sender{client: opts.Client, maxAttempts: opts.MaxPutAttempts, baseDelay: 200 * time.Millisecond, maxDelay: 2 * time.Second},
		metrics: &metricWriter{w: opts.Metrics, namespace: opts.MetricsNamespace, function: opts.FunctionName, level: opts.MetricLevel, now: time.Now},
	}
}

type outcome struct {
	// physicalID is what the function returned; with an error, what the
	// request left behind. It survives the rewording of a late error as a
	// timeout.
	physicalID string
	data       map[string]any
	err        error
	panic      *panicError
}

type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("internal error: panic: %v", p.value) }

// errTimeout is the cause of a FAILED response sent because the work did not
// finish before the safety margin.
var errTimeout = errors.New("the work did not finish before the Lambda deadline")

// HandleRaw is the Lambda handler: it decodes the event itself so that a
// malformed request that still names its ResponseURL is answered FAILED
// rather than never (unless the URL is refused, see Handle).
func (h *Handler) HandleRaw(ctx context.Context, raw json.RawMessage) error {
	ev, err := DecodeEvent(raw)
	if err == nil {
		return h.Handle(ctx, ev)
	}
	logger := h.opts.Logger.With(slog.String("requestId", ev.RequestID), slog.String("stackId", ev.StackID), slog.String("logicalResourceId", ev.LogicalResourceID))
	logger.Error("malformed custom resource request", slog.String("error", err.Error()))
	if ev.ResponseURL == "" || ev.RequestID == "" {
		h.count(ctx, logger, ev, kindInvalidInput)
		return err
	}
	ctx, refused := h.admitURL(ctx, logger, ev)
	if refused {
		return nil
	}
	return h.respond(ctx, logger, ev, outcome{err: inputError{err}})
}

// admitURL checks the event's ResponseURL. A refused event is logged and
// counted, and gets no answer; the invocation succeeds, so Lambda does not
// retry it (CloudFormation invokes asynchronously: Lambda Developer Guide,
// "Using AWS Lambda with CloudFormation"; Lambda retries failed
// asynchronous invocations). An admitted event gets a context carrying the
// allowed hosts, which the response PUT's redirects are checked against.
func (h *Handler) admitURL(ctx context.Context, logger *slog.Logger, ev cfn.Event) (context.Context, bool) {
	hosts := h.trust(ctx).hosts
	if err := checkResponseURL(ev.ResponseURL, hosts); err != nil {
		// Only where it points: a presigned URL carries its signature.
		target := ""
		if u, perr := url.Parse(ev.ResponseURL); perr == nil {
			target = u.Scheme + "://" + u.Host
		}
		logger.Error("custom resource request refused: no response is sent",
			slog.String("error", err.Error()), slog.String("responseUrl", target), slog.String("requestType", string(ev.RequestType)))
		h.count(ctx, logger, ev, kindRefusedURL)
		return ctx, true
	}
	return context.WithValue(ctx, hostsKey{}, hosts), false
}

// Handle serves one request and returns nil once its response is delivered,
// whatever the response says. It returns an error only when the response
// could not be delivered, so that the invocation is reported as failed.
func (h *Handler) Handle(ctx context.Context, event cfn.Event) error {
	logger := h.opts.Logger.With(
		slog.String("requestId", event.RequestID),
		slog.String("stackId", event.StackID),
		slog.String("logicalResourceId", event.LogicalResourceID),
		slog.String("requestType", string(event.RequestType)),
	)
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		logger = logger.With(slog.String("awsRequestId", lc.AwsRequestID))
	}
	logger.Info("custom resource request received",
		slog.String("resourceType", event.ResourceType),
		slog.String("physicalResourceId", event.PhysicalResourceID))
	ctx, refused := h.admitURL(ctx, logger, event)
	if refused {
		return nil
	}
	if err := checkStack(event, h.trust(ctx).accounts); err != nil {
		return h.respond(ctx, logger, event, outcome{err: err})
	}

	workCtx, margin, cancel := h.workContext(ctx)
	defer cancel()
	workCtx = lambdalog.NewContext(workCtx, logger)

	done := make(chan outcome, 1)
	go func() {
		var out outcome
		defer func() {
			if v := recover(); v != nil {
				out = outcome{panic: &panicError{value: v, stack: debug.Stack()}}
				out.err = out.panic
			}
			done <- out
		}()
		out.physicalID, out.data, out.err = h.fn(workCtx, event)
	}()

	var out outcome
	finished := true
	select {
	case out = <-done:
	case <-workCtx.Done():
		out, finished = h.afterWorkDeadline(ctx, workCtx, margin, done)
	}
	if out.panic != nil {
		logger.Error("custom resource handler panicked", slog.Any("panic", out.panic.value), slog.String("stack", string(out.panic.stack)))
	}

	err := h.respond(ctx, logger, event, out)

	if !finished {
		// The work's context is over, so the function's AWS calls return
		// at once; wait for it so nothing of this request runs on when
		// Lambda thaws the process for the next one.
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
	return err
}

// workContext ends the work invocation.Margin before the invocation's
// deadline (SafetyMargin, at most a third of the time left), and returns
// that margin.
func (h *Handler) workContext(ctx context.Context) (context.Context, time.Duration, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		ctx, cancel := context.WithCancel(ctx)
		return ctx, 0, cancel
	}
	margin := invocation.Margin(deadline, h.opts.SafetyMargin)
	ctx, cancel := context.WithDeadlineCause(ctx, deadline.Add(-margin),
		fmt.Errorf("work deadline reached %s before the Lambda deadline", margin.Round(time.Millisecond)))
	return ctx, margin, cancel
}

// afterWorkDeadline decides the outcome once the work's deadline has
// passed. The function's AWS calls end with its context, so it normally
// returns within milliseconds, with an error that says what it was doing
// (for example the operation, the target and the last AWS error of the
// retries the deadline cut). It is given a quarter of the safety margin for
// that, and the rest stays for the response; a function that does not
// return by then is answered with the deadline alone. finished is false
// when the function is still running.
func (h *Handler) afterWorkDeadline(ctx, workCtx context.Context, margin time.Duration, done <-chan outcome) (out outcome, finished bool) {
	grace := time.NewTimer(margin / 4)
	defer grace.Stop()
	select {
	case out = <-done:
		switch {
		case out.err == nil || out.panic != nil:
			// The work completed (or panicked) after all: report it as it is.
		case errors.Is(out.err, workCtx.Err()) && out.err.Error() == workCtx.Err().Error():
			// A bare context error says less than the deadline's cause.
			out.err = fmt.Errorf("%w: %w; changes may be partially applied", errTimeout, context.Cause(workCtx))
		default:
			out.err = fmt.Errorf("%w: %w; changes may be partially applied", errTimeout, out.err)
		}
		return out, true
	case <-grace.C:
	case <-ctx.Done():
	}
	return outcome{err: fmt.Errorf("%w: %w; changes may be partially applied", errTimeout, context.Cause(workCtx))}, false
}

func (h *Handler) respond(ctx context.Context, logger *slog.Logger, event cfn.Event, out outcome) error {
	resp := cfnresponse.Success(event, physicalID(event, out), out.data)
	reason := ""
	if out.err != nil {
		resp.Status = cfn.StatusFailed
		resp.Data = nil
		reason = out.err.Error()
		if left := out.physicalID; event.RequestType == cfn.RequestUpdate && left != "" && left != event.PhysicalResourceID {
			// A failed Update keeps the old ID, so CloudFormation will never
			// delete what this request created; say so.
			reason += fmt.Sprintf("; %s was created by this request and is not tracked by CloudFormation", left)
		}
		logger.Error("custom resource request failed", slog.String("error", reason), slog.String("physicalResourceId", resp.PhysicalResourceID))
	}
	body, err := h.encode(resp, reason)
	if err != nil {
		// Only Data can make a response this large; fail without it.
		logger.Error("response too large", slog.String("error", err.Error()))
		resp.Status, resp.Data = cfn.StatusFailed, nil
		if body, err = h.encode(resp, fmt.Sprintf("internal error: the resource's attributes exceed the %d-byte response limit", cfnresponse.MaxBytes)); err != nil {
			return fmt.Errorf("encoding custom resource response: %w", err)
		}
	}
	kind := errorKind("")
	if resp.Status == cfn.StatusFailed {
		kind = classify(out)
		if out.err == nil { // the attributes did not fit
			kind = kindOther
		}
	}
	attempts, err := h.sender.send(ctx, event.ResponseURL, body)
	h.count(ctx, logger, event, kind)
	if err != nil {
		logger.Error("custom resource response not delivered", slog.String("error", err.Error()), slog.Int("attempts", attempts))
		return fmt.Errorf("sending custom resource response: %w", err)
	}
	logger.Info("custom resource response sent",
		slog.String("status", string(resp.Status)),
		slog.String("physicalResourceId", resp.PhysicalResourceID),
		slog.String("reason", resp.Reason),
		slog.Int("bytes", len(body)),
		slog.Int("attempts", attempts))
	return nil
}

// count writes the request's metric record; kind is empty for a SUCCESS.
func (h *Handler) count(ctx context.Context, logger *slog.Logger, event cfn.Event, kind errorKind) {
	awsRequestID := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		awsRequestID = lc.AwsRequestID
	}
	if err := h.metrics.write(event, kind, awsRequestID); err != nil {
		logger.Error("metric record not written", slog.String("error", err.Error()))
	}
}

func (h *Handler) encode(resp *cfn.Response, reason string) ([]byte, error) {
	if reason == "" {
		resp.Reason = ""
		return cfnresponse.Encode(resp)
	}
	suffix := ""
	if h.opts.LogStreamName != "" {
		suffix = " (log stream: " + h.opts.LogStreamName + ")"
	}
	return cfnresponse.EncodeWithReason(resp, reason, suffix)
}

func physicalID(event cfn.Event, out outcome) string {
	if event.RequestType == cfn.RequestDelete {
		return event.PhysicalResourceID
	}
	if event.RequestType == cfn.RequestUpdate && out.err != nil {
		return event.PhysicalResourceID
	}
	for _, id := range []string{out.physicalID, event.PhysicalResourceID} {
		if id != "" {
			return id
		}
	}
	return event.RequestID
}
