package cfntemplate

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
)

// Grants returns the IAM actions a function's (or role's) inline policies
// allow, taking both branches of every Fn::If: the union is what some
// deployment of the template grants. Managed policies and SAM policy
// templates cannot be enumerated and are an error, as is NotAction.
func (t *Template) Grants(logicalID string) ([]string, error) {
	r, ok := t.Resource(logicalID)
	if !ok {
		return nil, fmt.Errorf("no resource %s", logicalID)
	}
	var documents []any
	switch r.Type {
	case "AWS::Serverless::Function":
		policies, _ := r.Properties["Policies"].([]any)
		for i, p := range policies {
			m, ok := p.(map[string]any)
			if !ok || m["Statement"] == nil {
				return nil, fmt.Errorf("%s: Policies[%d] is a managed policy or SAM policy template; write statements so the grants can be checked", logicalID, i)
			}
			documents = append(documents, m)
		}
	case "AWS::IAM::Role":
		if arns, ok := r.Properties["ManagedPolicyArns"].([]any); ok && len(arns) > 0 {
			return nil, fmt.Errorf("%s: ManagedPolicyArns cannot be checked; write inline policies", logicalID)
		}
		policies, _ := r.Properties["Policies"].([]any)
		for _, p := range policies {
			m, _ := p.(map[string]any)
			documents = append(documents, m["PolicyDocument"])
		}
	default:
		return nil, fmt.Errorf("%s is a %s, not a function or role", logicalID, r.Type)
	}
	actions := map[string]bool{}
	for _, doc := range documents {
		m, _ := doc.(map[string]any)
		for _, st := range branches(m["Statement"]) {
			s, ok := st.(map[string]any)
			if !ok || s["Effect"] != "Allow" {
				continue
			}
			if s["NotAction"] != nil {
				return nil, fmt.Errorf("%s: NotAction cannot be checked", logicalID)
			}
			for _, a := range branches(s["Action"]) {
				if str, ok := a.(string); ok {
					actions[str] = true
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(actions)), nil
}

// branches flattens lists and both branches of Fn::If, dropping
// AWS::NoValue.
func branches(v any) []any {
	switch x := v.(type) {
	case []any:
		var out []any
		for _, e := range x {
			out = append(out, branches(e)...)
		}
		return out
	case map[string]any:
		if arg, ok := x["Fn::If"].([]any); ok && len(x) == 1 && len(arg) == 3 {
			return append(branches(arg[1]), branches(arg[2])...)
		}
		if x["Ref"] == "AWS::NoValue" && len(x) == 1 {
			return nil
		}
		return []any{x}
	case nil:
		return nil
	}
	return []any{v}
}

// CompareActions compares what a role grants with what its code called.
// IAM action names are case-insensitive and grants may use wildcards
// ("s3:Get*"). missing are called actions no grant allows; unused are
// grants no call needed.
func CompareActions(granted, called []string) (missing, unused []string) {
	matches := func(grant, action string) bool {
		ok, err := path.Match(strings.ToLower(grant), strings.ToLower(action))
		return err == nil && ok
	}
	for _, a := range called {
		if !slices.ContainsFunc(granted, func(g string) bool { return matches(g, a) }) {
			missing = append(missing, a)
		}
	}
	for _, g := range granted {
		if !slices.ContainsFunc(called, func(a string) bool { return matches(g, a) }) {
			unused = append(unused, g)
		}
	}
	slices.Sort(missing)
	slices.Sort(unused)
	return slices.Compact(missing), slices.Compact(unused)
}
