package tagreapply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/backup-as-code/orgbackup/pkg/lambdalog"
)

// logger returns the invocation's logger, which names the Lambda request
// (lambdalog.NewContext); r.baseLogger outside Handle.
func (r *Reapplier) logger(ctx context.Context) *slog.Logger {
	if l, ok := lambdalog.FromContext(ctx); ok {
		return l
	}
	return r.baseLogger
}

// Handle is the Lambda handler. For a restore event it returns an error
// only for a transient failure, so that Lambda retries the event and
// finally delivers it to the on-failure destination; permanent failures are
// logged as structured records and counted. For a backfill it returns the
// summary.
func (r *Reapplier) Handle(ctx context.Context, raw json.RawMessage) (*BackfillSummary, error) {
	logger, requestID := r.baseLogger, ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
		logger = logger.With(slog.String("awsRequestId", requestID))
	}
	defer func() {
		if err := r.metrics.flush(r.metricsOut, r.config.MetricsNamespace, r.config.MetricsLevel, requestID, time.Now()); err != nil {
			logger.Error("writing metrics", "error", err.Error())
		}
	}()
	ctx = lambdalog.NewContext(ctx, logger)
	req, err := DecodeRequest(raw)
	if err != nil {
		logger.Error("unrecognized input", "error", err.Error())
		return nil, err
	}
	if req.Backfill != nil {
		s, err := r.Backfill(ctx, *req.Backfill)
		if err != nil {
			return nil, err
		}
		return &s, nil
	}
	return nil, r.handleEvent(ctx, *req.Event)
}

// ErrTransient wraps the error of a job that should be retried.
var ErrTransient = errors.New("transient failure, retry the event")

// handleEvent processes one Restore Job State Change event.
func (r *Reapplier) handleEvent(ctx context.Context, ev Event) error {
	o := r.process(ctx, ev.Job(), true, false)
	r.log(ctx, o)
	r.metrics.record(o)
	if o.Result == resultRetry {
		return fmt.Errorf("%w: restore job %s: %s", ErrTransient, o.RestoreJobID, o.Reason)
	}
	return nil
}
