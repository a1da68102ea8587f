package awsclient

import (
	"errors"

	backuptypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// NotFoundError is a resource that does not exist. Err is the AWS error
// that said so, kept for the reader (as terraform-provider-aws's
// retry.NotFoundError keeps LastError); nil when the absence showed in an
// answer instead (a filter or a listing that did not return it).
type NotFoundError struct {
	// Resource names what was looked for: "restored instance i-…".
	Resource string
	// Detail, when set, follows "does not exist": what else the absence
	// may mean ("or is terminated").
	Detail string
	Err    error
}

func (e *NotFoundError) Error() string {
	msg := e.Resource + " does not exist"
	if e.Detail != "" {
		msg += " " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + Short(e.Err).Error()
	}
	return msg
}

func (e *NotFoundError) Unwrap() error { return e.Err }

// IsNotFound reports whether err says a resource does not exist: a
// NotFoundError, or the typed not-found exception of a service the
// functions call. Organizations answers PolicyNotFoundException for a
// policy, and TargetNotFoundException for a target, and for the tag
// operations on a missing policy (Organizations API reference,
// TagResource, ListTagsForResource); AWS Backup answers
// ResourceNotFoundException (AWS Backup API reference, ListTags).
func IsNotFound(err error) bool {
	var nf *NotFoundError
	var pnf *orgtypes.PolicyNotFoundException
	var tnf *orgtypes.TargetNotFoundException
	var rnf *backuptypes.ResourceNotFoundException
	return errors.As(err, &nf) || errors.As(err, &pnf) || errors.As(err, &tnf) || errors.As(err, &rnf)
}
