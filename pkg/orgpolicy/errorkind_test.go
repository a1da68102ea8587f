package orgpolicy_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
)

// invalidInput is the method customresource's handler counts an error as
// InvalidInput by (errors.As).
type invalidInput interface{ InvalidInput() bool }

func isInvalidInput(err error) bool {
	var ii invalidInput
	return errors.As(err, &ii) && ii.InvalidInput()
}

// Bad properties are counted as InvalidInput, not as a fault of the function.
func TestPropertyErrorIsInvalidInput(t *testing.T) {
	t.Parallel()
	_, err := orgpolicy.DecodeProperties(map[string]any{"PolicyName": ""}, orgpolicy.Defaults{})
	var pe *orgpolicy.PropertyError
	if !errors.As(err, &pe) || !isInvalidInput(err) {
		t.Errorf("DecodeProperties error %v: want a PropertyError that is InvalidInput", err)
	}
}

// A policy document that cannot be sent is the template's fault as well,
// whatever is wrong with it; the request fails before any AWS call.
func TestContentErrorIsInvalidInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for name, content := range map[string]string{
		"not JSON":       `{"plans":`,
		"unknown key":    `{"plans":{"daily":{"rulez":{}}}}`,
		"too large":      `{"plans":{"p":{"regions":{"@@assign":["` + strings.Repeat("x", 10001) + `"]}}}}`,
		"not an object ": `["plans"]`,
	} {
		// Without PolicyRegions, which would replace the oversize regions.
		ev := e.event(request{typ: cfn.RequestCreate, props: props(t, map[string]any{"PolicyContent": content, "PolicyRegions": nil})})
		_, _, err := e.resource.Handle(context.Background(), ev)
		if !isInvalidInput(err) {
			t.Errorf("%s: error %v does not count as InvalidInput", name, err)
		}
	}
	if n := len(e.emu.Calls()); n != 0 {
		t.Errorf("%d AWS calls for invalid documents, want none", n)
	}
}
