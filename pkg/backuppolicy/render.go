package backuppolicy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Operators of the Organizations management policy syntax.
const (
	OpAssign     = "@@assign"
	OpAppend     = "@@append"
	OpRemove     = "@@remove"
	OpChildAllow = "@@operators_allowed_for_child_policies"
)

// Variable is a placeholder in policy text and the text that replaces it.
type Variable struct {
	Placeholder string
	Value       string
}

// Substitute replaces every placeholder in content with its value, as
// literal text. Longer placeholders win where they overlap ("$vault_arn"
// before "$vault"), and the text is scanned once, so a value that contains
// a placeholder is never replaced again.
func Substitute(content string, vars []Variable) string {
	if len(vars) == 0 {
		return content
	}
	sorted := slices.Clone(vars)
	slices.SortStableFunc(sorted, func(a, b Variable) int { return cmp.Compare(len(b.Placeholder), len(a.Placeholder)) })
	pairs := make([]string, 0, 2*len(sorted))
	for _, v := range sorted {
		if v.Placeholder != "" {
			pairs = append(pairs, v.Placeholder, v.Value)
		}
	}
	return strings.NewReplacer(pairs...).Replace(content)
}

// SetRegions makes every plan's regions {op: regions}, keeping any child
// control operator the plan's regions had. op is OpAppend or OpAssign.
func SetRegions(root *Node, regions []string, op string) error {
	if op != OpAppend && op != OpAssign {
		return fmt.Errorf("regions operator %q: must be %s or %s", op, OpAppend, OpAssign)
	}
	plans := root.Get("plans")
	if plans == nil || plans.Kind != Object {
		return &ValidationError{Issues: []Issue{{Path: "plans", Pos: root.Pos, Rule: "syntax", Message: "must be an object of plans to set regions in"}}}
	}
	for _, m := range plans.Members {
		if strings.HasPrefix(m.Key, "@@") {
			continue
		}
		if m.Value.Kind != Object {
			return &ValidationError{Issues: []Issue{{Path: "plans." + m.Key, Pos: m.Value.Pos, Rule: "syntax", Message: "must be an object"}}}
		}
		next := &Node{Kind: Object}
		if old := m.Value.Get("regions"); old != nil && old.Kind == Object {
			for _, om := range old.Members {
				if om.Key != OpAssign && om.Key != OpAppend && om.Key != OpRemove {
					next.Members = append(next.Members, om)
				}
			}
		}
		next.Members = append([]Member{{Key: op, Value: NewStrings(regions)}}, next.Members...)
		m.Value.Set("regions", next)
	}
	return nil
}

// RenderOptions are what the custom resource applies to policy text.
type RenderOptions struct {
	Variables []Variable
	// Regions, when not empty, replace every plan's regions.
	Regions []string
	// RegionsOperator is OpAppend (default) or OpAssign.
	RegionsOperator string
}

// Render substitutes variables into content, parses it and sets regions.
func Render(content string, opts RenderOptions) (*Node, error) {
	root, err := ParseJSON([]byte(Substitute(content, opts.Variables)))
	if err != nil {
		if len(opts.Variables) > 0 {
			return nil, fmt.Errorf("%w (position after variable substitution)", err)
		}
		return nil, err
	}
	if len(opts.Regions) > 0 {
		op := cmp.Or(opts.RegionsOperator, OpAppend)
		if err := SetRegions(root, opts.Regions, op); err != nil {
			return nil, err
		}
	}
	return root, nil
}
