package orgpolicy

import "github.com/backup-as-code/orgbackup/pkg/customresource"

// Is makes property errors count as InvalidInput in the manager's
// FailedRequests metric: the template is wrong, not the function.
func (e *PropertyError) Is(target error) bool { return target == customresource.ErrInvalidInput }
