package orgpolicy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewPlan(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	base := actualPolicy{
		ID: "p-bk000001", Name: "daily", Description: "d", Type: "BACKUP_POLICY", Content: `{"plans":{}}`,
		Targets: []string{"ou-a1b2-prod0001", "r-a1b2"},
		Tags:    map[string]string{OwnerStackTag: "s", OwnerLogicalIDTag: "l", "team": "a"},
	}
	desired := func(mod func(*desiredPolicy)) desiredPolicy {
		d := desiredPolicy{
			Name: "daily", Description: "d", Type: "BACKUP_POLICY", Content: `{"plans":{}}`,
			Targets: []string{"ou-a1b2-prod0001", "r-a1b2"},
			Tags:    map[string]string{OwnerStackTag: "s", OwnerLogicalIDTag: "l", "team": "a"},
		}
		if mod != nil {
			mod(&d)
		}
		return d
	}
	tests := []struct {
		name string
		d    desiredPolicy
		want policyPlan
	}{
		{name: "in sync", d: desired(nil), want: policyPlan{}},
		{name: "content", d: desired(func(d *desiredPolicy) { d.Content = `{"plans":{"p":{}}}` }), want: policyPlan{Content: str(`{"plans":{"p":{}}}`)}},
		{name: "name and description", d: desired(func(d *desiredPolicy) { d.Name, d.Description = "n2", "" }), want: policyPlan{Name: str("n2"), Description: str("")}},
		{
			name: "targets",
			d:    desired(func(d *desiredPolicy) { d.Targets = []string{"111111111111", "ou-a1b2-prod0001", "ou-a1b2-zzzzzzzz"} }),
			want: policyPlan{Attach: []string{"111111111111", "ou-a1b2-zzzzzzzz"}, Detach: []string{"r-a1b2"}},
		},
		{
			name: "tags: set changed and new, remove gone, restore lost ownership",
			d: desired(func(d *desiredPolicy) {
				d.Tags = map[string]string{OwnerStackTag: "s", OwnerLogicalIDTag: "l2", "env": "prod"}
			}),
			want: policyPlan{SetTags: map[string]string{OwnerLogicalIDTag: "l2", "env": "prod"}, RemoveTags: []string{"team"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := newPlan(tt.d, base)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.empty() != (tt.name == "in sync") {
				t.Errorf("Empty() = %v", got.empty())
			}
		})
	}
}
