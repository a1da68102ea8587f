package orgpolicy

import (
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
)

// awsError keeps an SDK error for errors.As while its text is the part a
// CloudFormation Reason needs: the code, the Organizations reason when there
// is one, and the message (not the request ID and HTTP details).
type awsError struct {
	err error
	msg string
}

func (e *awsError) Error() string { return e.msg }
func (e *awsError) Unwrap() error { return e.err }

// Only the SDK's own part of the text is replaced; context that callers
// wrapped around it ("assuming role X: ...") stays. A call whose retries
// the deadline ended is named by its attempts and last AWS error.
func short(err error) error {
	var msg string
	var ae smithy.APIError
	var attempts *awsclient.AttemptsError
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
	return &awsError{err: err, msg: msg}
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

// isNotFound reports whether err says the policy does not exist. Tag
// operations on a missing policy answer TargetNotFoundException.
func isNotFound(err error) bool {
	var pnf *types.PolicyNotFoundException
	var tnf *types.TargetNotFoundException
	return errors.As(err, &pnf) || errors.As(err, &tnf)
}

func isA[T error](err error) bool {
	var t T
	return errors.As(err, &t)
}
