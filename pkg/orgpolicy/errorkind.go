package orgpolicy

import "github.com/backup-as-code/orgbackup/pkg/customresource"

// Is makes property errors count as InvalidInput in the manager's
// FailedRequests metric: the template is wrong, not the function.
func (e *PropertyError) Is(target error) bool { return target == customresource.ErrInvalidInput }

// contentError is a policy document that cannot be sent as it is (not
// JSON, not the policy type's syntax, too large): the template's fault too.
type contentError struct{ error }

func (e contentError) Unwrap() error        { return e.error }
func (e contentError) Is(target error) bool { return target == customresource.ErrInvalidInput }
