package orgpolicy

// InvalidInput makes property errors count as InvalidInput in the manager's
// FailedRequests metric (the handler looks for this method with errors.As):
// the template is wrong, not the function.
func (e *PropertyError) InvalidInput() bool { return true }

// contentError is a policy document that cannot be sent as it is (not
// JSON, not the policy type's syntax, too large): the template's fault too.
type contentError struct{ error }

func (e contentError) Unwrap() error      { return e.error }
func (e contentError) InvalidInput() bool { return true }
