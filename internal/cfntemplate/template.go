// Package cfntemplate reads the project's CloudFormation and SAM templates
// for the checks only this project can make: IAM grants against the AWS
// actions the code calls, and what a deployment of a template resolves to.
// Property schemas, references and conditions are cfn-lint's and sam
// validate's (make check-templates).
package cfntemplate

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Template is a parsed template: plain values (map[string]any, []any,
// string, json.Number, bool, nil) with short-form intrinsic functions in
// their long form.
type Template struct {
	Name string
	Doc  map[string]any
	// root is the YAML document, comments and all (see WildcardResources).
	root *yaml.Node
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

// shortTags maps the YAML short forms to the long forms.
var shortTags = map[string]string{
	"!Ref": "Ref", "!Condition": "Condition", "!Base64": "Fn::Base64", "!Cidr": "Fn::Cidr",
	"!FindInMap": "Fn::FindInMap", "!GetAtt": "Fn::GetAtt", "!GetAZs": "Fn::GetAZs",
	"!ImportValue": "Fn::ImportValue", "!Join": "Fn::Join", "!Select": "Fn::Select",
	"!Split": "Fn::Split", "!Sub": "Fn::Sub", "!Transform": "Fn::Transform", "!If": "Fn::If",
	"!Equals": "Fn::Equals", "!And": "Fn::And", "!Or": "Fn::Or", "!Not": "Fn::Not",
	// The rule functions of a Rules section (CloudFormation User Guide,
	// "Rules"): Fn::Contains and the other assertion functions.
	"!Contains": "Fn::Contains", "!EachMemberEquals": "Fn::EachMemberEquals", "!EachMemberIn": "Fn::EachMemberIn",
	"!RefAll": "Fn::RefAll", "!ValueOf": "Fn::ValueOf", "!ValueOfAll": "Fn::ValueOfAll",
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
	v, err := convert(root.Content[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: a template must be a mapping", name)
	}
	return &Template{Name: name, Doc: doc, root: root.Content[0]}, nil
}

func convert(n *yaml.Node) (any, error) {
	if n.Kind == yaml.AliasNode {
		return convert(n.Alias)
	}
	if long, ok := shortTags[n.Tag]; ok {
		return shortForm(n, long)
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
			v, err := convert(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := convert(c)
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
func shortForm(n *yaml.Node, long string) (any, error) {
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
	v, err := convert(&inner)
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
