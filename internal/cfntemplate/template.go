// Package cfntemplate reads the project's CloudFormation and SAM templates
// and checks them the way a deployment would find them wrong: resource
// properties against the resource schemas, references against what the
// template declares, and IAM grants against the AWS actions the code calls.
// Every template of the project goes through it in tests.
package cfntemplate

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Template is a parsed template: plain values (map[string]any, []any,
// string, json.Number, bool, nil) with short-form intrinsic functions in
// their long form, and the locations of every intrinsic function.
type Template struct {
	Name string
	Doc  map[string]any
	// intrinsics holds the JSON pointers of values written with an
	// intrinsic function: they resolve at deploy time, so schemas do not
	// apply to them.
	intrinsics map[string]bool
}

// Resource is one entry of the Resources section.
type Resource struct {
	LogicalID  string
	Type       string
	Properties map[string]any
	Metadata   map[string]any
	Condition  string
	// DeletionPolicy and UpdateReplacePolicy as written ("" when absent:
	// CloudFormation then deletes the resource).
	DeletionPolicy, UpdateReplacePolicy string
}

// intrinsicNames are CloudFormation's intrinsic functions and condition
// functions, in long form.
var intrinsicNames = []string{
	"Ref", "Condition", "Fn::Base64", "Fn::Cidr", "Fn::FindInMap", "Fn::GetAtt", "Fn::GetAZs",
	"Fn::ImportValue", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::Sub", "Fn::Transform",
	"Fn::If", "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Fn::Length", "Fn::ToJsonString",
}

// shortTags maps the YAML short forms to the long forms.
var shortTags = map[string]string{
	"!Ref": "Ref", "!Condition": "Condition", "!Base64": "Fn::Base64", "!Cidr": "Fn::Cidr",
	"!FindInMap": "Fn::FindInMap", "!GetAtt": "Fn::GetAtt", "!GetAZs": "Fn::GetAZs",
	"!ImportValue": "Fn::ImportValue", "!Join": "Fn::Join", "!Select": "Fn::Select",
	"!Split": "Fn::Split", "!Sub": "Fn::Sub", "!Transform": "Fn::Transform", "!If": "Fn::If",
	"!Equals": "Fn::Equals", "!And": "Fn::And", "!Or": "Fn::Or", "!Not": "Fn::Not",
}

// Load reads and parses a template file.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Parse parses a YAML (or JSON) template.
func Parse(name string, data []byte) (*Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(root.Content) != 1 {
		return nil, fmt.Errorf("%s: empty template", name)
	}
	t := &Template{Name: name, intrinsics: map[string]bool{}}
	v, err := t.convert(root.Content[0], "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: a template must be a mapping", name)
	}
	t.Doc = doc
	return t, nil
}

func pointer(parent, key string) string {
	return parent + "/" + strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
}

func (t *Template) convert(n *yaml.Node, at string) (any, error) {
	if n.Kind == yaml.AliasNode {
		return t.convert(n.Alias, at)
	}
	if long, ok := shortTags[n.Tag]; ok {
		t.intrinsics[at] = true
		return t.shortForm(n, long, at)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", n.Content[i].Line, k)
			}
			v, err := t.convert(n.Content[i+1], pointer(at, k))
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		if len(m) == 1 {
			for k := range m {
				if slices.Contains(intrinsicNames, k) {
					t.intrinsics[at] = true
				}
			}
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			v, err := t.convert(c, pointer(at, strconv.Itoa(i)))
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			return json.Number(n.Value), nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, err
			}
			return b, nil
		case "!!null":
			return nil, nil
		}
		return n.Value, nil
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

// shortForm turns !Tag value into {"Fn::Tag": value}. !GetAtt takes
// "Resource.Attribute" and becomes ["Resource", "Attribute"].
func (t *Template) shortForm(n *yaml.Node, long, at string) (any, error) {
	inner := *n
	inner.Tag = ""
	switch n.Kind {
	case yaml.ScalarNode:
		inner.Tag = "!!str"
	case yaml.SequenceNode:
		inner.Tag = "!!seq"
	case yaml.MappingNode:
		inner.Tag = "!!map"
	}
	v, err := t.convert(&inner, pointer(at, long))
	if err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok && long == "Fn::GetAtt" {
		res, attr, found := strings.Cut(s, ".")
		if !found {
			return nil, fmt.Errorf("line %d: !GetAtt %q is not Resource.Attribute", n.Line, s)
		}
		v = []any{res, attr}
	}
	return map[string]any{long: v}, nil
}

// Section returns a top-level mapping (Parameters, Conditions...), or an
// empty one.
func (t *Template) Section(name string) map[string]any {
	m, _ := t.Doc[name].(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return m
}

// Resources returns the resources sorted by logical ID.
func (t *Template) Resources() []Resource {
	section := t.Section("Resources")
	out := make([]Resource, 0, len(section))
	for _, id := range slices.Sorted(maps.Keys(section)) {
		m, _ := section[id].(map[string]any)
		r := Resource{LogicalID: id}
		r.Type, _ = m["Type"].(string)
		r.Properties, _ = m["Properties"].(map[string]any)
		r.Metadata, _ = m["Metadata"].(map[string]any)
		r.Condition, _ = m["Condition"].(string)
		r.DeletionPolicy, _ = m["DeletionPolicy"].(string)
		r.UpdateReplacePolicy, _ = m["UpdateReplacePolicy"].(string)
		out = append(out, r)
	}
	return out
}

// Resource returns one resource by logical ID.
func (t *Template) Resource(id string) (Resource, bool) {
	for _, r := range t.Resources() {
		if r.LogicalID == id {
			return r, true
		}
	}
	return Resource{}, false
}

// IsSAM reports whether the template uses the AWS::Serverless transform.
func (t *Template) IsSAM() bool {
	switch tr := t.Doc["Transform"].(type) {
	case string:
		return tr == "AWS::Serverless-2016-10-31"
	case []any:
		return slices.Contains(tr, any("AWS::Serverless-2016-10-31"))
	}
	return false
}

// isIntrinsicAt reports whether the value at ptr, or one containing it, was
// written with an intrinsic function.
func (t *Template) isIntrinsicAt(ptr string) bool {
	for p := ptr; ; {
		if t.intrinsics[p] {
			return true
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return false
		}
		p = p[:i]
	}
}

// Problem is one thing wrong with a template.
type Problem struct {
	// Where is a JSON pointer into the template.
	Where   string
	Message string
}

func (p Problem) String() string { return p.Where + ": " + p.Message }
