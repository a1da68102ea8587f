package localenv

import (
	"bytes"
	"testing"
)

// TestComparePlan: a plan the Update followed is said so; any difference,
// in a write or in the order, is shown and is an error, never hidden.
func TestComparePlan(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		planned, made []string
		want          string
		wantErr       bool
	}{
		{"same", []string{"UpdatePolicy p-1", "AttachPolicy p-1 ou-1"}, []string{"UpdatePolicy p-1", "AttachPolicy p-1 ou-1"},
			"The Update made exactly the 2 writes plan listed: UpdatePolicy p-1; AttachPolicy p-1 ou-1.\n", false},
		{"none", nil, nil, "The Update made exactly the 0 writes plan listed: .\n", false},
		{"extra write", []string{"UpdatePolicy p-1"}, []string{"UpdatePolicy p-1", "DetachPolicy p-1 ou-1"},
			"The Update's writes differ from the plan:\n  plan listed: UpdatePolicy p-1\n  the Update made: UpdatePolicy p-1; DetachPolicy p-1 ou-1\n", true},
		{"order", []string{"AttachPolicy p-1 ou-2", "DetachPolicy p-1 ou-1"}, []string{"DetachPolicy p-1 ou-1", "AttachPolicy p-1 ou-2"},
			"The Update's writes differ from the plan:\n  plan listed: AttachPolicy p-1 ou-2; DetachPolicy p-1 ou-1\n  the Update made: DetachPolicy p-1 ou-1; AttachPolicy p-1 ou-2\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			err := comparePlan(&out, tc.planned, tc.made)
			if got := out.String(); got != tc.want {
				t.Errorf("output %q, want %q", got, tc.want)
			}
			if (err != nil) != tc.wantErr {
				t.Errorf("error %v, want one: %v", err, tc.wantErr)
			}
		})
	}
}
