package orgpolicy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDriftOf(t *testing.T) {
	t.Parallel()
	owner := policyOwner{StackID: "arn:aws:cloudformation:us-east-1:111111111111:stack/s/1", LogicalID: "Daily"}
	tags := func(extra ...string) map[string]string {
		m := owner.tags()
		m["project"] = "backup"
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	declared := desiredPolicy{
		Name: "daily", Description: "Daily backups", Type: "BACKUP_POLICY",
		Content: `{"plans":{"daily":{"regions":{"@@assign":["us-east-1"]}}}}`,
		Targets: []string{"ou-a1b2-prod0001", "ou-a1b2-test0001"}, Tags: tags(),
	}
	inSync := actualPolicy{
		ID: "p-abcd1234", Name: declared.Name, Description: declared.Description, Type: declared.Type,
		Content: declared.Content, Targets: []string{"ou-a1b2-test0001", "ou-a1b2-prod0001"}, Tags: tags(),
	}
	with := func(change func(*actualPolicy)) *actualPolicy {
		a := inSync
		a.Targets = append([]string(nil), inSync.Targets...)
		a.Tags = tags()
		change(&a)
		return &a
	}
	tests := []struct {
		name   string
		actual *actualPolicy
		want   ResourceDrift
	}{
		{"in sync, targets in another order", with(func(*actualPolicy) {}),
			ResourceDrift{LogicalID: "Daily", PolicyID: "p-abcd1234", Kinds: []DriftKind{DriftInSync}}},
		{"deleted out of band", nil, ResourceDrift{LogicalID: "Daily", Kinds: []DriftKind{DriftMissing}}},
		{"a target detached and another attached", with(func(a *actualPolicy) { a.Targets = []string{"ou-a1b2-prod0001", "111111111111"} }),
			ResourceDrift{LogicalID: "Daily", PolicyID: "p-abcd1234", Kinds: []DriftKind{DriftTargets},
				AttachedOutOfBand: []string{"111111111111"}, DetachedOutOfBand: []string{"ou-a1b2-test0001"}}},
		{"a tag changed and one added", with(func(a *actualPolicy) { a.Tags["project"] = "other"; a.Tags["owner"] = "console" }),
			ResourceDrift{LogicalID: "Daily", PolicyID: "p-abcd1234", Kinds: []DriftKind{DriftTags},
				TagsChanged: map[string]string{"project": "backup"}, TagsAdded: []string{"owner"}}},
		{"renamed", with(func(a *actualPolicy) { a.Name = "daily-edited" }),
			ResourceDrift{LogicalID: "Daily", PolicyID: "p-abcd1234", Kinds: []DriftKind{DriftContent}, NameChange: &[2]string{"daily-edited", "daily"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := declared
			d.Targets = []string{"ou-a1b2-prod0001", "ou-a1b2-test0001"}
			if diff := cmp.Diff(tt.want, driftOf("Daily", d, tt.actual)); diff != "" {
				t.Errorf("driftOf (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDriftOfContent: a document edited in the console shows as a unified
// diff of the pretty-printed documents, from the organization's to the
// template's.
func TestDriftOfContent(t *testing.T) {
	t.Parallel()
	d := desiredPolicy{Name: "daily", Content: `{"plans":{"daily":{"regions":{"@@assign":["us-east-1","eu-west-1"]}}}}`}
	a := actualPolicy{ID: "p-abcd1234", Name: "daily", Content: `{"plans":{"daily":{"regions":{"@@assign":["us-east-1"]}}}}`}
	got := driftOf("Daily", d, &a)
	if diff := cmp.Diff([]DriftKind{DriftContent}, got.Kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	want := `--- organization
+++ template
@@ -3,7 +3,8 @@
     "daily": {
       "regions": {
         "@@assign": [
-          "us-east-1"
+          "us-east-1",
+          "eu-west-1"
         ]
       }
     }
`
	if diff := cmp.Diff(want, got.ContentDiff); diff != "" {
		t.Errorf("content diff (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(got.ContentDiff, "--- organization\n+++ template\n") {
		t.Errorf("diff header: %q", got.ContentDiff)
	}
}
