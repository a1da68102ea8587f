package orgpolicy_test

import (
	"errors"
	"testing"

	"github.com/backup-as-code/orgbackup/pkg/customresource"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
)

// Bad properties are counted as InvalidInput, not as a fault of the function.
func TestPropertyErrorIsInvalidInput(t *testing.T) {
	t.Parallel()
	_, err := orgpolicy.DecodeProperties(map[string]any{"PolicyName": ""}, orgpolicy.Defaults{})
	var pe *orgpolicy.PropertyError
	if !errors.As(err, &pe) || !errors.Is(err, customresource.ErrInvalidInput) {
		t.Errorf("DecodeProperties error %v: want a PropertyError matching ErrInvalidInput", err)
	}
}
