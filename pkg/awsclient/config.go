package awsclient

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-xray-sdk-go/v2/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/v2/xray"
	"github.com/aws/aws-xray-sdk-go/v2/xraylog"
)

// Defaults of the retry policy. Attempts are many because the errors worth
// retrying here (Organizations' ConcurrentModification while other pipelines
// touch the organization) clear within seconds; the invocation deadline, not
// the attempt count, is what really bounds a call.
const (
	DefaultMaxAttempts = 10
	DefaultMaxBackoff  = 8 * time.Second
)

// Options configure Load.
type Options struct {
	// MaxAttempts per API call, including the first; default
	// DefaultMaxAttempts.
	MaxAttempts int
	// MaxBackoff caps the jittered exponential delay between attempts;
	// default DefaultMaxBackoff.
	MaxBackoff time.Duration
	// Tracing adds X-Ray instrumentation to every client made from the
	// configuration. It changes no process-wide X-Ray setting: the entry
	// point calls ConfigureTracing once for that.
	Tracing bool
	// ConfigOptions are applied after this package's own, for overrides
	// such as config.WithBaseEndpoint or static credentials in tests.
	ConfigOptions []func(*config.LoadOptions) error
}

// Load returns the SDK configuration: the default chain plus the retry
// policy and, when asked, tracing.
//
// The retryer is the SDK's standard one (throttling, 5xx and transient
// network errors, jittered exponential backoff). Its client-side retry
// quota is switched off: a Lambda function that meets a burst of
// ConcurrentModificationException would otherwise exhaust the token bucket
// and fail calls without trying them, and the attempt cap plus the context
// deadline already bound the work. Every sleep between attempts ends when
// the context does, so retries never outlive the invocation; a call whose
// retries the context ended returns an AttemptsError naming the attempts
// made and the last AWS error (RecordAttempts).
func Load(ctx context.Context, opts Options) (aws.Config, error) {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	lo := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = opts.MaxAttempts
				o.MaxBackoff = opts.MaxBackoff
				o.RateLimiter = ratelimit.None
			})
		}),
	}
	cfg, err := config.LoadDefaultConfig(ctx, append(lo, opts.ConfigOptions...)...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	cfg.APIOptions = append(cfg.APIOptions, RecordAttempts)
	if opts.Tracing {
		// Subsegments for every call, under the segment of the context.
		awsv2.AWSV2Instrumentor(&cfg.APIOptions)
	}
	return cfg, nil
}

// ConfigureTracing sets the X-Ray SDK's process-wide settings; each
// function's main calls it once, before Load, so nothing depends on which
// code loads a configuration first.
//
// The X-Ray SDK's messages go to logger as JSON log records (by default the
// SDK prints plain text to stdout, which breaks JSON logs); nil leaves its
// logger as it is.
//
// In Lambda (getenv(LAMBDA_TASK_ROOT) set) the runtime puts the trace
// header in each invocation's context and the SDK records subsegments
// under the function's facade segment; a call without one is an error
// worth logging, the SDK's default. Elsewhere (tests, the demo, a laptop)
// no segment exists, so the SDK ignores the missing context instead of
// logging an error for every call. AWS_XRAY_CONTEXT_MISSING, which the SDK
// reads itself, overrides both.
func ConfigureTracing(logger *slog.Logger, getenv func(string) string) error {
	if logger != nil {
		xray.SetLogger(xrayLogger{logger})
	}
	var strategy ctxmissing.Strategy = ctxmissing.NewDefaultLogErrorStrategy()
	if getenv(xray.LambdaTaskRootKey) == "" {
		strategy = ctxmissing.NewDefaultIgnoreErrorStrategy()
	}
	if err := xray.Configure(xray.Config{ContextMissingStrategy: strategy}); err != nil {
		return fmt.Errorf("configuring X-Ray: %w", err)
	}
	return nil
}

// xrayLogger writes the X-Ray SDK's messages through slog. Its info
// messages ("Emitter using address ...") are debug detail for the function.
type xrayLogger struct{ l *slog.Logger }

func (x xrayLogger) Log(level xraylog.LogLevel, msg fmt.Stringer) {
	lvl := slog.LevelDebug
	switch level {
	case xraylog.LogLevelWarn:
		lvl = slog.LevelWarn
	case xraylog.LogLevelError:
		lvl = slog.LevelError
	}
	x.l.Log(context.Background(), lvl, "x-ray: "+msg.String(), slog.String("component", "xray"))
}

// LoadFunction is what a function's main does before lambda.Start:
// ConfigureTracing, then Load with tracing on every client.
func LoadFunction(ctx context.Context, logger *slog.Logger, getenv func(string) string) (aws.Config, error) {
	if err := ConfigureTracing(logger, getenv); err != nil {
		return aws.Config{}, err
	}
	return Load(ctx, Options{Tracing: true})
}
