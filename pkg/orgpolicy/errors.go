package orgpolicy

import "errors"

func isA[T error](err error) bool {
	var t T
	return errors.As(err, &t)
}
