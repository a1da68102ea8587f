// Package lambdalog makes the JSON logger the functions write with. Lambda's
// JSON log format passes JSON lines through as they are, and its
// application log level reaches the function as AWS_LAMBDA_LOG_LEVEL.
package lambdalog

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"time"
)

// New returns a JSON logger writing to w at the level named by level (an
// AWS_LAMBDA_LOG_LEVEL value: TRACE, DEBUG, INFO, WARN, ERROR, FATAL);
// INFO when level is empty or unknown.
//
// Each record carries "level" and "timestamp" (RFC 3339, UTC) rather than
// slog's "time": the keys of the Lambda developer guide's example in
// "Log-level filtering", where a record without a valid RFC 3339
// timestamp is given the level INFO whatever its "level" says.
func New(w io.Writer, level string) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: Level(level), ReplaceAttr: timestampAttr}))
}

// TimestampKey is the key of a record's time.
const TimestampKey = "timestamp"

// Timestamp formats t the way every record of the functions carries it.
func Timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func timestampAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
		return slog.String(TimestampKey, Timestamp(a.Value.Time()))
	}
	return a
}

// Level maps a Lambda log level to a slog level.
func Level(level string) slog.Level {
	switch strings.ToUpper(strings.TrimSpace(level)) {
	case "TRACE", "DEBUG":
		return slog.LevelDebug
	case "WARN":
		return slog.LevelWarn
	case "ERROR", "FATAL":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// MetricLevel is the "level" to write on records that must never be
// filtered out, such as CloudWatch Embedded Metric Format lines: with the
// JSON log format Lambda drops application records below the function's
// ApplicationLogLevel and treats a record without a level as INFO
// (Lambda developer guide, "Log-level filtering"). So the record carries
// the configured level itself when that is above INFO, else INFO.
func MetricLevel(level string) string {
	switch l := strings.ToUpper(strings.TrimSpace(level)); l {
	case "WARN", "ERROR", "FATAL":
		return l
	}
	return "INFO"
}

type loggerKey struct{}

// NewContext returns ctx carrying logger: the entry point of an invocation
// puts the logger that names the request there, and the code it calls logs
// through FromContext.
func NewContext(ctx context.Context, logger *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, logger)
}

// FromContext returns the logger NewContext put in ctx, and whether there is
// one (like lambdacontext.FromContext).
func FromContext(ctx context.Context) (*slog.Logger, bool) {
	l, ok := ctx.Value(loggerKey{}).(*slog.Logger)
	return l, ok && l != nil
}
