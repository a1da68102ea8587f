package cfntemplate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Statement is one statement of a policy document in a resource's
// properties, as written, with where it is.
type Statement struct {
	// Resource is the logical ID, Type its resource type.
	Resource, Type string
	// Property is the property path of the document, e.g.
	// "Policies[0].PolicyDocument" or "AccessPolicy".
	Property string
	Body     map[string]any
}

// PolicyStatements returns every statement of every policy document in
// the template's resources (identity, trust, key, vault, bucket and
// delegation policies alike: any mapping with a Statement), taking both
// branches of every Fn::If.
func (t *Template) PolicyStatements() []Statement {
	var out []Statement
	for _, r := range t.Resources() {
		for _, k := range slices.Sorted(maps.Keys(r.Properties)) {
			out = append(out, statementsIn(r, k, r.Properties[k])...)
		}
	}
	return out
}

func statementsIn(r Resource, path string, v any) []Statement {
	var out []Statement
	switch x := v.(type) {
	case map[string]any:
		if list, ok := x["Statement"]; ok {
			for _, st := range branches(list) {
				if m, ok := st.(map[string]any); ok {
					out = append(out, Statement{Resource: r.LogicalID, Type: r.Type, Property: path, Body: m})
				}
			}
			return out
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			out = append(out, statementsIn(r, path+"."+k, x[k])...)
		}
	case []any:
		for i, e := range x {
			out = append(out, statementsIn(r, fmt.Sprintf("%s[%d]", path, i), e)...)
		}
	}
	return out
}

// WildcardResource is a policy statement with Resource "*", and the
// comments written on it: above it, and on or above any of its lines.
type WildcardResource struct {
	Resource, Type string
	Line           int
	Sid            string
	Comments       []string
}

// WildcardResources returns the statements of the template's resources
// whose Resource is "*" or lists it, with their comments, for the check
// that each says why: comments are in the YAML only, not in Doc.
func (t *Template) WildcardResources() []WildcardResource {
	if t.root == nil {
		return nil
	}
	resources := MappingValue(t.root, "Resources")
	if resources == nil {
		return nil
	}
	var out []WildcardResource
	for i := 0; i+1 < len(resources.Content); i += 2 {
		id, body := resources.Content[i].Value, resources.Content[i+1]
		typ := ""
		if n := MappingValue(body, "Type"); n != nil {
			typ = n.Value
		}
		walkStatements(body, func(st *yaml.Node) {
			res := MappingValue(st, "Resource")
			if res == nil || !isOrLists(res, "*") {
				return
			}
			w := WildcardResource{Resource: id, Type: typ, Line: st.Line}
			if sid := MappingValue(st, "Sid"); sid != nil {
				w.Sid = sid.Value
			}
			w.Comments = comments(st)
			out = append(out, w)
		})
	}
	return out
}

// walkStatements calls f for each mapping under n that has an Effect key.
func walkStatements(n *yaml.Node, f func(*yaml.Node)) {
	if n.Kind == yaml.MappingNode && MappingValue(n, "Effect") != nil {
		f(n)
		return
	}
	for _, c := range n.Content {
		walkStatements(c, f)
	}
}

// MappingValue returns the value of key in a YAML mapping, or nil.
func MappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func isOrLists(n *yaml.Node, s string) bool {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value == s
	case yaml.SequenceNode:
		return slices.ContainsFunc(n.Content, func(c *yaml.Node) bool { return c.Kind == yaml.ScalarNode && c.Value == s })
	}
	return false
}

// comments returns the head and line comments of n and of every node
// inside it (foot comments belong to what follows, not to n).
func comments(n *yaml.Node) []string {
	var out []string
	for _, c := range []string{n.HeadComment, n.LineComment} {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	for _, c := range n.Content {
		out = append(out, comments(c)...)
	}
	return out
}

// GrantsIn returns the IAM actions a function's (or role's) inline
// policies allow in deployment d: Fn::If resolved for d's parameters,
// not both branches as Grants takes them.
func (t *Template) GrantsIn(logicalID string, d Deployment) ([]string, error) {
	documents, err := t.PolicyDocuments(logicalID)
	if err != nil {
		return nil, err
	}
	actions := map[string]bool{}
	for _, doc := range documents {
		v, err := t.Evaluate(doc, d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", logicalID, err)
		}
		m, _ := v.(map[string]any)
		list, _ := m["Statement"].([]any)
		for _, st := range list {
			s, _ := st.(map[string]any)
			if s["Effect"] != "Allow" {
				continue
			}
			if s["NotAction"] != nil {
				return nil, fmt.Errorf("%s: NotAction cannot be checked", logicalID)
			}
			for _, a := range stringList(s["Action"]) {
				actions[a] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(actions)), nil
}
