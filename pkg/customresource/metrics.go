package customresource

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/smithy-go"

	"github.com/backup-as-code/orgbackup/pkg/lambdalog"
)

// errorKind says why a request did not get a SUCCESS answer. The set is
// closed, so the metric's dimension values stay few whatever the events
// hold: every distinct value is a custom metric CloudWatch bills for.
type errorKind string

// The error kinds of the FailedRequests metric.
const (
	// kindInvalidInput: the event or its properties are wrong (a
	// malformed event, or an error whose InvalidInput method says so).
	kindInvalidInput errorKind = "InvalidInput"
	// kindStackNotAllowed: the StackId is outside the allowed accounts.
	kindStackNotAllowed errorKind = "StackNotAllowed"
	// kindRefusedURL: the ResponseURL is not on an allowed host; the
	// request got no answer at all.
	kindRefusedURL errorKind = "RefusedURL"
	// kindAccessDenied: AWS refused a call for lack of permission.
	kindAccessDenied errorKind = "AccessDenied"
	// kindAWSError: any other failed AWS call, including network errors.
	kindAWSError errorKind = "AWSError"
	// kindTimeout: the work did not finish before the deadline.
	kindTimeout errorKind = "Timeout"
	// kindPanic: the resource function panicked.
	kindPanic errorKind = "Panic"
	// kindOther: any other error of the resource function.
	kindOther errorKind = "Other"
)

// inputError marks an error as invalid input and keeps its text.
type inputError struct{ error }

func (e inputError) Unwrap() error      { return e.error }
func (e inputError) InvalidInput() bool { return true }

// isInvalidInput tells whether err is the request's fault (invalidInput).
func isInvalidInput(err error) bool {
	var ii invalidInput
	return errors.As(err, &ii) && ii.InvalidInput()
}

func classify(out outcome) errorKind {
	err := out.err
	var ae smithy.APIError
	var oe *smithy.OperationError
	switch {
	case out.panic != nil:
		return kindPanic
	case errors.Is(err, errStackNotAllowed):
		return kindStackNotAllowed
	case errors.Is(err, errTimeout):
		return kindTimeout
	case isInvalidInput(err):
		return kindInvalidInput
	case errors.As(err, &ae):
		// AccessDenied (STS, S3), AccessDeniedException (Organizations),
		// AccessDeniedForDependencyException, UnauthorizedOperation (EC2).
		if c := ae.ErrorCode(); strings.HasPrefix(c, "AccessDenied") || c == "UnauthorizedOperation" {
			return kindAccessDenied
		}
		return kindAWSError
	case errors.As(err, &oe):
		return kindAWSError
	}
	return kindOther
}

// requestTypeDimension keeps the dimension to the three request types: the
// value comes from the event, which anyone who can invoke can write.
func requestTypeDimension(t cfn.RequestType) string {
	switch t {
	case cfn.RequestCreate, cfn.RequestUpdate, cfn.RequestDelete:
		return string(t)
	}
	return "Unknown"
}

// metricWriter writes one CloudWatch Embedded Metric Format record per
// request: JSON lines that CloudWatch Logs turns into metrics with no API
// call (CloudWatch User Guide, "Specification: Embedded metric format").
// It writes to its own writer, not through the logger, so that a log level
// can never drop a record; the record's "level" is one Lambda's
// ApplicationLogLevel filter keeps (lambdalog.MetricLevel).
type metricWriter struct {
	mu        sync.Mutex
	w         io.Writer
	namespace string
	function  string
	level     string
	now       func() time.Time
}

// Metric names and dimensions of the records.
const (
	MetricRequests       = "Requests"
	MetricFailedRequests = "FailedRequests"
)

// write records one request: Requests 1, FailedRequests 1 when kind is set
// (a FAILED answer or a refused request), else 0. Dimension sets:
// [FunctionName], which alarms use for every failure of the function
// without listing the combinations; [FunctionName, RequestType]; and, on
// failure, [FunctionName, RequestType, errorKind]. The FunctionName
// dimension keeps two stacks' functions in one account apart.
func (m *metricWriter) write(ev cfn.Event, kind errorKind, awsRequestID string) error {
	dims := [][]string{{"FunctionName"}, {"FunctionName", "RequestType"}}
	failed := 0
	now := m.now() // one instant for both timestamps
	rec := map[string]any{
		"FunctionName": m.function,
		"RequestType":  requestTypeDimension(ev.RequestType),
		"level":        m.level,
		// Extra root members are allowed by the EMF specification ("The
		// root node MAY contain any other members"); Lambda keeps the
		// record's level only with a valid RFC 3339 timestamp (Lambda
		// developer guide, "Log-level filtering").
		lambdalog.TimestampKey: lambdalog.Timestamp(now),
	}
	if kind != "" {
		failed = 1
		dims = append(dims, []string{"FunctionName", "RequestType", "ErrorKind"})
		rec["ErrorKind"] = string(kind)
	}
	rec["_aws"] = map[string]any{
		"Timestamp": now.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  m.namespace,
			"Dimensions": dims,
			"Metrics": []map[string]string{
				{"Name": MetricRequests, "Unit": "Count"},
				{"Name": MetricFailedRequests, "Unit": "Count"},
			},
		}},
	}
	rec[MetricRequests] = 1
	rec[MetricFailedRequests] = failed
	// Properties, not dimensions: they match the record to the request's
	// log lines without creating a metric per request.
	for k, v := range map[string]string{
		"requestId": ev.RequestID, "stackId": ev.StackID, "logicalResourceId": ev.LogicalResourceID, "awsRequestId": awsRequestID,
	} {
		if v != "" {
			rec[k] = v
		}
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err = m.w.Write(append(line, '\n'))
	return err
}
