package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// An organization file states which policies attach where, in attachment
// order, which Organizations does not expose (examples/org.yaml):
//
//	root:
//	  id: r-a1b2
//	  policies: [policies/root-daily.json, ../cfn/org-policies.yaml#DailyBackupPolicy]
//	  ous:
//	    - {id: ou-a1b2-prod0001, name: Production, policies: [...], accounts: [...], ous: [...]}
//	  accounts:
//	    - {id: "111111111111", name: prod-web, policies: [...]}
type orgNode struct {
	Kind     string // root, ou, account
	ID, Name string
	Policies []policyRef
	Children []*orgNode
	Parent   *orgNode
}

type policyRef struct {
	Path, LogicalID, Raw string
	Line                 int
}

// ID formats of the Organizations API reference (Root, OrganizationalUnit,
// Account: Id patterns).
var (
	rootID    = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	ouID      = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	accountID = regexp.MustCompile(`^\d{12}$`)
)

// maxOUDepth is the Organizations quota on OU nesting ("Quotas for AWS
// Organizations": an OU tree five levels deep under the root).
const maxOUDepth = 5

type orgReader struct {
	file, dir string
	seen      map[string]int
}

func (r *orgReader) errorf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s:%d:%d: %s", r.file, n.Line, n.Column, fmt.Sprintf(format, args...))
}

func loadOrg(path string) (*orgNode, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading organization file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r := &orgReader{file: path, dir: filepath.Dir(path), seen: map[string]int{}}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: an organization file is a mapping with the key root", path)
	}
	top := doc.Content[0]
	var root *orgNode
	for i := 0; i < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if k.Value != "root" {
			return nil, r.errorf(k, "unknown key %q; allowed: root", k.Value)
		}
		if root, err = r.node(v, "root", nil, 0); err != nil {
			return nil, err
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%s: the key root is missing", path)
	}
	return root, nil
}

func (r *orgReader) node(n *yaml.Node, kind string, parent *orgNode, depth int) (*orgNode, error) {
	if n.Kind != yaml.MappingNode {
		return nil, r.errorf(n, "%s: must be a mapping with id, name, policies", kind)
	}
	o := &orgNode{Kind: kind, Parent: parent}
	allowed := map[string]bool{"id": true, "name": true, "policies": true}
	if kind != "account" {
		allowed["ous"], allowed["accounts"] = true, true
	}
	for i := 0; i < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !allowed[k.Value] {
			keys := "id, name, policies"
			if kind != "account" {
				keys += ", ous, accounts"
			}
			return nil, r.errorf(k, "%s: unknown key %q; allowed: %s", kind, k.Value, keys)
		}
		switch k.Value {
		case "id":
			o.ID = v.Value
		case "name":
			o.Name = v.Value
		case "policies":
			if v.Kind != yaml.SequenceNode {
				return nil, r.errorf(v, "policies: a list of policy files (FILE or TEMPLATE#LogicalId), in attachment order")
			}
			for _, p := range v.Content {
				file, id, _ := strings.Cut(p.Value, "#")
				if p.Kind != yaml.ScalarNode || file == "" {
					return nil, r.errorf(p, "policies: %q is not FILE or TEMPLATE#LogicalId", p.Value)
				}
				o.Policies = append(o.Policies, policyRef{Path: filepath.Join(r.dir, file), LogicalID: id, Raw: p.Value, Line: p.Line})
			}
		case "ous", "accounts":
			if v.Kind != yaml.SequenceNode {
				return nil, r.errorf(v, "%s: must be a list", k.Value)
			}
			childKind := "account"
			if k.Value == "ous" {
				childKind = "ou"
				if depth+1 > maxOUDepth {
					return nil, r.errorf(k, "OUs nest at most %d levels under the root (Organizations quota)", maxOUDepth)
				}
			}
			for _, c := range v.Content {
				child, err := r.node(c, childKind, o, depth+1)
				if err != nil {
					return nil, err
				}
				o.Children = append(o.Children, child)
			}
		}
	}
	pattern, format := map[string]*regexp.Regexp{"root": rootID, "ou": ouID, "account": accountID}[kind], map[string]string{"root": "r- and 4-32 lower-case letters or digits", "ou": "ou-, 4-32 characters, -, 8-32 characters", "account": "12 digits, quoted"}[kind]
	if !pattern.MatchString(o.ID) {
		return nil, r.errorf(n, "%s id %q: must be %s", kind, o.ID, format)
	}
	if line, dup := r.seen[o.ID]; dup {
		return nil, r.errorf(n, "%s is already listed at line %d", o.ID, line)
	}
	r.seen[o.ID] = n.Line
	return o, nil
}

// find returns the path from the root to the node with id.
func (o *orgNode) find(id string) []*orgNode {
	if o.ID == id {
		return []*orgNode{o}
	}
	for _, c := range o.Children {
		if p := c.find(id); p != nil {
			return append([]*orgNode{o}, p...)
		}
	}
	return nil
}

// accounts lists every account in document order.
func (o *orgNode) accounts() []*orgNode {
	var out []*orgNode
	for _, c := range o.Children {
		if c.Kind == "account" {
			out = append(out, c)
		}
	}
	for _, c := range o.Children {
		if c.Kind == "ou" {
			out = append(out, c.accounts()...)
		}
	}
	return out
}
