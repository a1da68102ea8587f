package localenv

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
)

// maxContentPaths bounds the document paths a change summary lists; a
// rewrite of the whole document would otherwise fill the screen.
const maxContentPaths = 6

// policyChanges says, a line per aspect, how policy id differs between
// two states of the organization: name, description, content (the
// document's values that changed, by path), targets attached and
// detached, tags added, removed and changed. targetName names a target
// for the reader.
func policyChanges(before, after []awsemu.PolicyState, id string, targetName func(string) string) []string {
	find := func(ps []awsemu.PolicyState) (awsemu.PolicyState, bool) {
		i := slices.IndexFunc(ps, func(p awsemu.PolicyState) bool { return p.ID == id })
		if i < 0 {
			return awsemu.PolicyState{}, false
		}
		return ps[i], true
	}
	b, hadBefore := find(before)
	a, hasAfter := find(after)
	switch {
	case !hadBefore && !hasAfter:
		return []string{fmt.Sprintf("policy %s: in neither state", id)}
	case !hadBefore:
		return []string{fmt.Sprintf("policy %s: created", id)}
	case !hasAfter:
		return []string{fmt.Sprintf("policy %s: deleted", id)}
	}
	var lines []string
	if b.Name != a.Name {
		lines = append(lines, fmt.Sprintf("name: %q -> %q", b.Name, a.Name))
	}
	if b.Description != a.Description {
		lines = append(lines, fmt.Sprintf("description: %q -> %q", b.Description, a.Description))
	}
	lines = append(lines, contentChanges(b.Content, a.Content))

	named := func(ids []string) string {
		if len(ids) == 0 {
			return "none"
		}
		parts := make([]string, len(ids))
		for i, t := range ids {
			parts[i] = strings.TrimSpace(t + " " + targetName(t))
		}
		return strings.Join(parts, ", ")
	}
	attached := setMinus(a.Targets, b.Targets)
	detached := setMinus(b.Targets, a.Targets)
	if len(attached)+len(detached) == 0 {
		lines = append(lines, fmt.Sprintf("targets: unchanged (%d)", len(a.Targets)))
	} else {
		lines = append(lines, fmt.Sprintf("targets attached: %s; detached: %s", named(attached), named(detached)))
	}

	var added, removed, changed []string
	for _, k := range slices.Sorted(maps.Keys(a.Tags)) {
		old, ok := b.Tags[k]
		switch {
		case !ok:
			added = append(added, k+"="+a.Tags[k])
		case old != a.Tags[k]:
			changed = append(changed, k+": "+old+" -> "+a.Tags[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(b.Tags)) {
		if _, ok := a.Tags[k]; !ok {
			removed = append(removed, k+"="+b.Tags[k])
		}
	}
	orNone := func(s []string) string {
		if len(s) == 0 {
			return "none"
		}
		return strings.Join(s, ", ")
	}
	if len(added)+len(removed)+len(changed) == 0 {
		lines = append(lines, fmt.Sprintf("tags: unchanged (%d)", len(a.Tags)))
	} else {
		lines = append(lines, fmt.Sprintf("tags added: %s; removed: %s; changed: %s", orNone(added), orNone(removed), orNone(changed)))
	}
	return lines
}

// setMinus returns the elements of a not in b, sorted.
func setMinus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// contentChanges summarizes how a policy document changed: the paths of
// the values that changed, were added or removed, each with its values.
// Documents are compared as JSON, so layout and key order do not count.
func contentChanges(before, after string) string {
	if before == after {
		return "content: unchanged"
	}
	var b, a any
	if json.Unmarshal([]byte(before), &b) != nil || json.Unmarshal([]byte(after), &a) != nil {
		return fmt.Sprintf("content: changed (%d -> %d characters; not JSON, so no paths)", len(before), len(after))
	}
	bv, av := map[string]string{}, map[string]string{}
	flatten("", b, bv)
	flatten("", a, av)
	var diffs []string
	for _, p := range slices.Sorted(maps.Keys(av)) {
		old, ok := bv[p]
		switch {
		case !ok:
			diffs = append(diffs, p+" added ("+av[p]+")")
		case old != av[p]:
			diffs = append(diffs, p+": "+old+" -> "+av[p])
		}
	}
	for _, p := range slices.Sorted(maps.Keys(bv)) {
		if _, ok := av[p]; !ok {
			diffs = append(diffs, p+" removed (was "+bv[p]+")")
		}
	}
	if len(diffs) == 0 {
		return "content: the same document, laid out differently"
	}
	n := len(diffs)
	more := ""
	if n > maxContentPaths {
		diffs, more = diffs[:maxContentPaths], fmt.Sprintf("\n    and %d more", n-maxContentPaths)
	}
	return fmt.Sprintf("content: %d %s changed\n    %s%s", n, plural(n, "value", "values"), strings.Join(diffs, "\n    "), more)
}

// flatten records each leaf of a JSON value by its dotted path; a list is
// one leaf (in a backup policy it is an @@assign's value, read whole).
func flatten(path string, v any, out map[string]string) {
	if m, ok := v.(map[string]any); ok && len(m) > 0 {
		for k, c := range m {
			flatten(strings.TrimPrefix(path+"."+k, "."), c, out)
		}
		return
	}
	j, _ := json.Marshal(v)
	out[path] = string(j)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
