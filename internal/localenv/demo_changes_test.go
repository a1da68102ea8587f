package localenv

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
)

// TestPolicyChanges: what an Update changed is read from two states of the
// organization, a line per aspect, the document compared as JSON.
func TestPolicyChanges(t *testing.T) {
	t.Parallel()
	name := func(id string) string { return map[string]string{"ou-1": "Prod", "ou-2": "Dev"}[id] }
	base := awsemu.PolicyState{ID: "p-1", Name: "n", Description: "d", Content: `{"a":{"b":"1","c":["x"]}}`,
		Targets: []string{"ou-1"}, Tags: map[string]string{"owner": "me", "env": "prod"}}
	with := func(f func(*awsemu.PolicyState)) awsemu.PolicyState {
		p := base
		p.Tags = map[string]string{"owner": "me", "env": "prod"}
		f(&p)
		return p
	}
	for _, tc := range []struct {
		name          string
		before, after []awsemu.PolicyState
		want          []string
	}{
		{"unchanged", []awsemu.PolicyState{base}, []awsemu.PolicyState{base},
			[]string{"content: unchanged", "targets: unchanged (1)", "tags: unchanged (2)"}},
		{"layout and key order only", []awsemu.PolicyState{base}, []awsemu.PolicyState{with(func(p *awsemu.PolicyState) {
			p.Content = "{\n  \"a\": {\"c\": [\"x\"], \"b\": \"1\"}\n}"
		})}, []string{"content: the same document, laid out differently", "targets: unchanged (1)", "tags: unchanged (2)"}},
		{"everything", []awsemu.PolicyState{base}, []awsemu.PolicyState{with(func(p *awsemu.PolicyState) {
			p.Name, p.Description = "n2", "d2"
			p.Content = `{"a":{"b":"2","d":{"e":"3"}}}`
			p.Targets = []string{"ou-2", "ou-3"}
			p.Tags = map[string]string{"owner": "you", "cost": "cc"}
		})}, []string{
			`name: "n" -> "n2"`,
			`description: "d" -> "d2"`,
			"content: 3 values changed\n" +
				"    a.b: \"1\" -> \"2\"\n" +
				"    a.d.e added (\"3\")\n" +
				"    a.c removed (was [\"x\"])",
			"targets attached: ou-2 Dev, ou-3; detached: ou-1 Prod",
			"tags added: cost=cc; removed: env=prod; changed: owner: me -> you",
		}},
		{"created", nil, []awsemu.PolicyState{base}, []string{"policy p-1: created"}},
		{"deleted", []awsemu.PolicyState{base}, nil, []string{"policy p-1: deleted"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, policyChanges(tc.before, tc.after, "p-1", name)); diff != "" {
				t.Errorf("policyChanges (-want +got):\n%s", diff)
			}
		})
	}
}

// TestContentChanges: a rewrite of the whole document lists a few paths
// and counts the rest; a document that is not JSON is said to be changed.
func TestContentChanges(t *testing.T) {
	t.Parallel()
	var before, after strings.Builder
	before.WriteString("{")
	after.WriteString("{")
	for i := range 10 {
		if i > 0 {
			before.WriteString(",")
			after.WriteString(",")
		}
		before.WriteString(`"k` + string(rune('0'+i)) + `":"old"`)
		after.WriteString(`"k` + string(rune('0'+i)) + `":"new"`)
	}
	before.WriteString("}")
	after.WriteString("}")
	got := contentChanges(before.String(), after.String())
	if !strings.HasPrefix(got, "content: 10 values changed\n    k0: \"old\" -> \"new\"\n") || !strings.HasSuffix(got, "\n    and 4 more") {
		t.Errorf("contentChanges of a rewrite = %q", got)
	}
	if got, want := contentChanges("{", "{}"), "content: changed (1 -> 2 characters; not JSON, so no paths)"; got != want {
		t.Errorf("contentChanges of a broken document = %q; want %q", got, want)
	}
}
