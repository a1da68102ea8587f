package awsclient

import (
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"
)

// shortError keeps an SDK error for errors.As while its text is the part a
// reader of a failure (a CloudFormation Reason, a restore job's log record)
// needs: the code, the Organizations reason when there is one, and the
// message, not the request ID and HTTP details.
type shortError struct {
	err error
	msg string
}

func (e *shortError) Error() string { return e.msg }
func (e *shortError) Unwrap() error { return e.err }

// Short returns err with the SDK's text shortened (shortError); other errors
// as they are. Only the SDK's own part of the text is replaced; context that
// callers wrapped around it ("assuming role X: ...") stays. A call whose
// retries the deadline ended is named by its attempts and last AWS error
// (AttemptsError).
func Short(err error) error {
	var msg string
	var ae smithy.APIError
	var attempts *AttemptsError
	switch {
	case errors.As(err, &attempts):
		msg = attempts.Error()
	case errors.As(err, &ae):
		msg = apiText(err, ae)
	default:
		return err
	}
	full := err.Error()
	var op *smithy.OperationError
	if errors.As(err, &op) {
		if i := strings.Index(full, op.Error()); i >= 0 {
			msg = full[:i] + msg + full[i+len(op.Error()):]
		}
	}
	return &shortError{err: err, msg: msg}
}

func apiText(err error, ae smithy.APIError) string {
	msg := ae.ErrorCode()
	var cv *types.ConstraintViolationException
	var ii *types.InvalidInputException
	switch {
	case errors.As(err, &cv) && cv.Reason != "":
		msg += " (" + string(cv.Reason) + ")"
	case errors.As(err, &ii) && ii.Reason != "":
		msg += " (" + string(ii.Reason) + ")"
	}
	if m := ae.ErrorMessage(); m != "" {
		msg += ": " + m
	}
	return msg
}
