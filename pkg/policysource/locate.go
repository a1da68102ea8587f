package policysource

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/backup-as-code/orgbackup/internal/cfntemplate"
	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
)

// locator maps positions in a rendered document back into the template
// that wrote it. An inline YAML map is rendered to JSON with sorted keys
// and Variables replaced, so positions are found by walking both trees
// key by key; a JSON string keeps its text, so its lines count from the
// string's first line.
type locator struct {
	// content is the YAML value of the document (the mapping inside
	// Fn::ToJsonString for AWS::Organizations::Policy).
	content *yaml.Node
	// key is the PolicyContent (or Content) key, where problems without a
	// better position are reported.
	key *yaml.Node
	// regions is the PolicyRegions key: values it sets have no position
	// in the content.
	regions *yaml.Node
	vars    []backuppolicy.Variable
	// source lines of the template, for the indentation of block scalars.
	source []string
	root   *backuppolicy.Node
}

func newTemplateLocator(tpl *cfntemplate.Template, source []string, r cfntemplate.Resource, p orgpolicy.Properties) *locator {
	name := "PolicyContent"
	if r.Type == TypeOrganizationsPolicy {
		name = "Content"
	}
	key, content := tpl.Node("Resources", r.LogicalID, "Properties", name)
	if content != nil && content.Kind == yaml.MappingNode && len(content.Content) == 2 && content.Content[0].Value == "Fn::ToJsonString" {
		content = content.Content[1]
	}
	regions, _ := tpl.Node("Resources", r.LogicalID, "Properties", "PolicyRegions")
	return &locator{content: content, key: key, regions: regions, vars: p.Variables, source: source}
}

// step is one move down a document: an object key or a list index.
type step struct {
	key   string
	index int
	isKey bool // the position is the key's, not its value's
}

func (l *locator) fallback() (int, int) {
	if l.key == nil {
		return 0, 0
	}
	return l.key.Line, l.key.Column
}

func (l *locator) locate(pos backuppolicy.Position, path string) (int, int) {
	if l.content == nil {
		return l.fallback()
	}
	if l.content.Kind == yaml.ScalarNode {
		return l.inString(pos)
	}
	if l.root == nil || (pos.Line == 0 && path == "") {
		return l.fallback()
	}
	steps, made := l.stepsTo(pos, path)
	if made && l.regions != nil && strings.Contains(path, "regions") {
		return l.regions.Line, l.regions.Column
	}
	n := l.content
	var keyNode *yaml.Node
	for i, s := range steps {
		next, k := l.child(n, s)
		if next == nil {
			break
		}
		n, keyNode = next, k
		if i == len(steps)-1 && s.isKey && k != nil {
			return k.Line, k.Column
		}
	}
	if n == l.content {
		return l.fallback()
	}
	if keyNode != nil && n.Kind != yaml.ScalarNode {
		return keyNode.Line, keyNode.Column
	}
	return n.Line, n.Column
}

// child returns the YAML value (and key) a step leads to from n, matching
// keys after Variables are replaced.
func (l *locator) child(n *yaml.Node, s step) (value, key *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if backuppolicy.Substitute(n.Content[i].Value, l.vars) == s.key {
				return n.Content[i+1], n.Content[i]
			}
		}
	case yaml.SequenceNode:
		if s.key == "" && s.index < len(n.Content) {
			return n.Content[s.index], nil
		}
	}
	return nil, nil
}

// stepsTo finds the rendered node at pos (or, for a value the renderer
// made, the deepest node on path) and the steps from the root to it.
// made reports a position-less value.
func (l *locator) stepsTo(pos backuppolicy.Position, path string) (steps []step, made bool) {
	var found []step
	var byPath []step
	var walk func(n *backuppolicy.Node, prefix []step, p string) bool
	walk = func(n *backuppolicy.Node, prefix []step, p string) bool {
		if pos.Line > 0 && n.Pos.Offset == pos.Offset && n.Pos.Line == pos.Line {
			found = prefix
			return true
		}
		if (p == path || strings.HasPrefix(path, p+".")) && len(prefix) >= len(byPath) {
			byPath = prefix
		}
		for _, m := range n.Members {
			s := append(append([]step(nil), prefix...), step{key: m.Key})
			if pos.Line > 0 && m.KeyPos.Offset == pos.Offset && m.KeyPos.Line == pos.Line {
				s[len(s)-1].isKey = true
				found = s
				return true
			}
			cp := m.Key
			if p != "" {
				cp = p + "." + m.Key
			}
			if walk(m.Value, s, cp) {
				return true
			}
		}
		for i, e := range n.Elems {
			s := append(append([]step(nil), prefix...), step{index: i})
			if walk(e, s, p) {
				return true
			}
		}
		return false
	}
	walk(l.root, nil, "")
	if found != nil {
		return found, false
	}
	return byPath, true
}

// inString maps a position in a JSON string's text: a literal block
// scalar (|) starts on the line after its key, indented; a one-line
// scalar is on its key's line.
func (l *locator) inString(pos backuppolicy.Position) (int, int) {
	n := l.content
	if pos.Line == 0 {
		return l.fallback()
	}
	if n.Style&(yaml.LiteralStyle) != 0 {
		// The block's indentation is its first line's.
		indent := 0
		if first := n.Line; first < len(l.source) {
			src := l.source[first]
			indent = len(src) - len(strings.TrimLeft(src, " "))
		}
		return n.Line + pos.Line, indent + pos.Column
	}
	if pos.Line == 1 {
		quote := 0
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			quote = 1
		}
		return n.Line, n.Column + quote + pos.Column - 1
	}
	return n.Line, n.Column
}
