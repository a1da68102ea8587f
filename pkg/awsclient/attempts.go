package awsclient

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// AttemptsError is the error of a call whose retries its context ended. The
// SDK's retry loop then returns a canceled-request error in place of the
// last AWS error (aws-sdk-go-v2 aws/retry: an interrupted back-off sleep
// becomes aws.RequestCanceledError), so without this record a Reason could
// say only "context deadline exceeded", not what was being waited out.
type AttemptsError struct {
	// Attempts is the number of requests sent.
	Attempts int
	// LastErr is the last error AWS answered, nil if no attempt was
	// answered.
	LastErr error
	// Err is the SDK's own error; it wraps the context's error.
	Err error
}

func (e *AttemptsError) Error() string {
	when := "when the call was canceled"
	if errors.Is(e.Err, context.DeadlineExceeded) {
		when = "at the deadline"
	}
	plural := "s"
	if e.Attempts == 1 {
		plural = ""
	}
	last := "no answer from AWS"
	if e.LastErr != nil {
		last = "last error " + errorCode(e.LastErr)
	}
	return fmt.Sprintf("gave up after %d attempt%s %s; %s", e.Attempts, plural, when, last)
}

// Unwrap is the SDK's error, so errors.Is(err, context.DeadlineExceeded)
// holds; the last AWS error is a field, not in the chain, so that no caller
// mistakes a call cut short for that error.
func (e *AttemptsError) Unwrap() error { return e.Err }

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return err.Error()
}

type attemptLogKey struct{}

type attemptLog struct {
	n    int
	last error
}

// RecordAttempts is an API option (aws.Config.APIOptions) that counts the
// attempts of each call and keeps the last AWS error, and returns an
// AttemptsError when the call's context ends its retries. A stack without
// the SDK's retry middleware is left as it is.
func RecordAttempts(stack *middleware.Stack) error {
	if _, ok := stack.Finalize.Get(retryMiddleware); !ok {
		return nil
	}
	outer := middleware.FinalizeMiddlewareFunc("RecordAttempts", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		log := &attemptLog{}
		out, md, err := next.HandleFinalize(context.WithValue(ctx, attemptLogKey{}, log), in)
		if err != nil && log.n > 0 && canceled(err) {
			err = &AttemptsError{Attempts: log.n, LastErr: log.last, Err: err}
		}
		return out, md, err
	})
	// Inside the retry loop: runs once per attempt sent.
	inner := middleware.FinalizeMiddlewareFunc("RecordAttempt", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleFinalize(ctx, in)
		if log, ok := ctx.Value(attemptLogKey{}).(*attemptLog); ok {
			log.n++
			var ae smithy.APIError
			if errors.As(err, &ae) {
				log.last = err
			}
		}
		return out, md, err
	})
	if err := stack.Finalize.Insert(outer, retryMiddleware, middleware.Before); err != nil {
		return fmt.Errorf("adding the attempt recorder: %w", err)
	}
	if err := stack.Finalize.Insert(inner, retryMiddleware, middleware.After); err != nil {
		return fmt.Errorf("adding the attempt recorder: %w", err)
	}
	return nil
}

// retryMiddleware is the ID of the SDK's retry loop in the Finalize step.
var retryMiddleware = (&retry.Attempt{}).ID()

func canceled(err error) bool {
	var rc *aws.RequestCanceledError
	return errors.As(err, &rc) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}
