package policysource

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/backup-as-code/orgbackup/internal/cfntemplate"
	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
)

// Resource types that define Organizations policies.
const (
	TypeBackupOrgPolicy = "Custom::BackupOrgPolicy"
	// TypeOrgPolicy is the earlier Python solution's resource
	// (aws-samples/backup-recovery-with-aws-backup,
	// BackupOrgPolicyManager.py): the same property names, which this
	// project's policy manager reads (its migration replaces the type only).
	TypeOrgPolicy           = "Custom::OrgPolicy"
	TypeOrganizationsPolicy = "AWS::Organizations::Policy"
)

// notForRendering are the properties CloudFormation reads itself: the
// document does not depend on them, so an imported ServiceToken need not
// be given.
var notForRendering = []string{"ServiceToken", "ServiceTimeout"}

// organizationsProperties maps AWS::Organizations::Policy properties
// (CloudFormation Template Reference, AWS::Organizations::Policy) to the
// policy manager's, whose decoder then checks them alike.
var organizationsProperties = map[string]string{
	"Name": "PolicyName", "Description": "PolicyDescription", "Type": "PolicyType",
	"Content": "PolicyContent", "TargetIds": "PolicyTargets", "Tags": "Tags",
}

func (o Options) deployment() cfntemplate.Deployment {
	region := cmp.Or(o.Region, DefaultRegion)
	partition := cmp.Or(o.Partition, DefaultPartition)
	account := cmp.Or(o.Account, DefaultAccount)
	stack := cmp.Or(o.StackName, DefaultStackName)
	suffix := "amazonaws.com"
	if partition == "aws-cn" {
		suffix = "amazonaws.com.cn"
	}
	return cfntemplate.Deployment{
		Parameters: o.Parameters,
		Pseudo: map[string]string{
			"AWS::Region": region, "AWS::Partition": partition, "AWS::AccountId": account,
			"AWS::StackName": stack, "AWS::URLSuffix": suffix,
			"AWS::StackId": cmp.Or(o.StackID, fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/00000000-0000-0000-0000-000000000000", partition, region, account, stack)),
		},
	}
}

func readTemplate(path string, data []byte, opts Options) (*File, error) {
	tpl, err := cfntemplate.Parse(path, data)
	if err != nil {
		return nil, &InputError{File: path, Err: errors.New(strings.TrimPrefix(err.Error(), path+": "))}
	}
	d := opts.deployment()
	source := strings.Split(string(data), "\n")
	f := &File{Path: path, NoEcho: noEcho(tpl)}
	switch tr := tpl.Doc["Transform"].(type) {
	case string:
		f.Transforms = []string{tr}
	case []any:
		for _, t := range tr {
			f.Transforms = append(f.Transforms, fmt.Sprint(t))
		}
	}
	var unknown []*InputError
	for _, r := range tpl.Resources() {
		if r.Type != TypeBackupOrgPolicy && r.Type != TypeOrgPolicy && r.Type != TypeOrganizationsPolicy {
			continue
		}
		rkey, _ := tpl.Node("Resources", r.LogicalID)
		if r.Condition != "" {
			v, err := tpl.Evaluate(map[string]any{"Condition": r.Condition}, d)
			if err != nil {
				ie := inputError(path, r.LogicalID, "Condition", nodeAt(tpl, r.LogicalID, "Condition"), err)
				if isUnknown(err) {
					unknown = append(unknown, ie)
					continue
				}
				return nil, ie
			}
			if v != true {
				f.Skipped = append(f.Skipped, Skipped{File: path, Resource: r.LogicalID, ResourceType: r.Type, Line: line(rkey), Reason: "condition " + r.Condition + " is false"})
				continue
			}
		}
		props, missing, err := resourceProperties(tpl, r, d, opts)
		if err != nil {
			return nil, err
		}
		if len(missing) > 0 {
			unknown = append(unknown, missing...)
			continue
		}
		p := renderResource(tpl, source, r, props, &unknown)
		if r.Type != TypeOrganizationsPolicy {
			p.Properties = props
		}
		p.DeletionPolicy, p.UpdateReplacePolicy = r.DeletionPolicy, r.UpdateReplacePolicy
		f.Policies = append(f.Policies, p)
	}
	if len(unknown) > 0 {
		slices.SortStableFunc(unknown, func(a, b *InputError) int { return cmp.Compare(a.Line, b.Line) })
		return nil, &UnknownValuesError{Values: unknown}
	}
	return f, nil
}

// noEcho lists a template's NoEcho parameters, sorted.
func noEcho(tpl *cfntemplate.Template) []string {
	var out []string
	params := tpl.Section("Parameters")
	for _, name := range slices.Sorted(maps.Keys(params)) {
		if p, _ := params[name].(map[string]any); p["NoEcho"] == true || strings.EqualFold(fmt.Sprint(p["NoEcho"]), "true") {
			out = append(out, name)
		}
	}
	return out
}

// NoEchoParameters lists the NoEcho parameters of a template held in
// memory (name stands for the file in errors), sorted.
func NoEchoParameters(name string, body []byte) ([]string, error) {
	tpl, err := cfntemplate.Parse(name, body)
	if err != nil {
		return nil, &InputError{File: name, Err: errors.New(strings.TrimPrefix(err.Error(), name+": "))}
	}
	return noEcho(tpl), nil
}

func isUnknown(err error) bool {
	var u *cfntemplate.UnknownError
	return errors.As(err, &u)
}

func line(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// nodeAt returns the key node of a resource's entry (Properties.X when
// names has two elements, a resource attribute such as Condition with one).
func nodeAt(tpl *cfntemplate.Template, id string, names ...string) *yaml.Node {
	path := append([]string{"Resources", id}, names...)
	for len(path) > 2 {
		if k, _ := tpl.Node(path...); k != nil {
			return k
		}
		path = path[:len(path)-1]
	}
	k, _ := tpl.Node(path...)
	return k
}

func inputError(file, resource, property string, at *yaml.Node, err error) *InputError {
	ie := &InputError{File: file, Resource: resource, Property: property, Err: err}
	var u *cfntemplate.UnknownError
	if errors.As(err, &u) {
		ie.Err = fmt.Errorf("%w; %s", u, Hint(u))
	}
	if at != nil {
		ie.Line, ie.Column = at.Line, at.Column
	}
	return ie
}

// resourceProperties evaluates a resource's properties as CloudFormation
// sends them to the policy manager (custom resources: scalars as strings)
// or to Organizations. Values only a deployment knows are returned in
// missing, each naming where it is needed.
func resourceProperties(tpl *cfntemplate.Template, r cfntemplate.Resource, d cfntemplate.Deployment, opts Options) (map[string]any, []*InputError, error) {
	var props map[string]any
	deferred := map[string]error{}
	if r.Type == TypeOrganizationsPolicy {
		// Organizations receives the content with its JSON types.
		props = map[string]any{}
		for _, name := range slices.Sorted(maps.Keys(r.Properties)) {
			to, ok := organizationsProperties[name]
			if !ok {
				continue
			}
			v, err := tpl.Evaluate(r.Properties[name], d)
			if err != nil {
				deferred[name] = err
				continue
			}
			if v != nil {
				props[to] = v
			}
		}
	} else {
		props, deferred = tpl.RequestProperties(r, d)
	}
	var missing []*InputError
	for _, name := range slices.Sorted(maps.Keys(deferred)) {
		if slices.Contains(notForRendering, name) {
			continue
		}
		ie := inputError(tpl.Name, r.LogicalID, name, nodeAt(tpl, r.LogicalID, "Properties", name), deferred[name])
		if !isUnknown(deferred[name]) {
			return nil, nil, ie
		}
		missing = append(missing, ie)
	}
	if c, ok := props["PolicyContent"].(map[string]any); ok && len(c) == 1 && c["S3"] != nil && !opts.ReadS3Later {
		s3, _ := c["S3"].(map[string]any)
		bucket, _ := s3["PolicyBucket"].(string)
		key, _ := s3["PolicyKey"].(string)
		if bucket != "" && key != "" {
			loc := "s3://" + bucket + "/" + key
			file, ok := opts.Content[loc]
			if !ok {
				missing = append(missing, inputError(tpl.Name, r.LogicalID, "PolicyContent", nodeAt(tpl, r.LogicalID, "Properties", "PolicyContent"),
					&cfntemplate.UnknownError{Kind: "S3 object", Name: loc, Why: "the policy manager reads the document from S3 at deploy time"}))
			} else {
				data, err := os.ReadFile(file)
				if err != nil {
					return nil, nil, inputError(tpl.Name, r.LogicalID, "PolicyContent", nodeAt(tpl, r.LogicalID, "Properties", "PolicyContent"), fmt.Errorf("--content-file %s: %w", loc, err))
				}
				// The object's text, as the policy manager reads it.
				props["PolicyContent"] = string(data)
			}
		}
	}
	return props, missing, nil
}

var (
	problemProperty = regexp.MustCompile(`^(\w+)`)
	propertyName    = regexp.MustCompile(`\b\w+\b`)
)

// renderResource decodes and renders one resource as the policy manager
// does.
func renderResource(tpl *cfntemplate.Template, source []string, r cfntemplate.Resource, props map[string]any, unknown *[]*InputError) *Policy {
	p := &Policy{File: tpl.Name, Resource: r.LogicalID, ResourceType: r.Type}
	rename := func(s string) string { return s }
	renameAll := rename
	if r.Type == TypeOrganizationsPolicy {
		back := map[string]string{}
		for from, to := range organizationsProperties {
			back[to] = from
		}
		rename = func(s string) string {
			if m := problemProperty.FindString(s); back[m] != "" {
				return back[m] + s[len(m):]
			}
			return s
		}
		renameAll = func(s string) string {
			return propertyName.ReplaceAllStringFunc(s, func(w string) string { return cmp.Or(back[w], w) })
		}
	}
	decoded, err := orgpolicy.DecodeProperties(props, orgpolicy.Defaults{})
	if err != nil {
		var pe *orgpolicy.PropertyError
		if !errors.As(err, &pe) {
			*unknown = append(*unknown, inputError(tpl.Name, r.LogicalID, "", nodeAt(tpl, r.LogicalID), err))
			return p
		}
		for _, msg := range pe.Problems {
			msg = rename(msg)
			name := problemProperty.FindString(msg)
			at := nodeAt(tpl, r.LogicalID, "Properties", name)
			p.Problems = append(p.Problems, Problem{File: tpl.Name, Line: line(at), Column: column(at), Resource: r.LogicalID, Path: name, Rule: "property", Message: strings.TrimPrefix(strings.TrimPrefix(msg, name), ": ")})
		}
		// The document is checked as well, as the policy manager does, so
		// that one run shows every problem; but a policy whose
		// properties are wrong is not one to send or to merge (Root and
		// Document stay empty).
		switch doc := pe.Document; {
		case pe.Unchecked != "":
			msg := renameAll(pe.Unchecked)
			name := problemProperty.FindString(msg)
			at := nodeAt(tpl, r.LogicalID, "Properties", name)
			p.Problems = append(p.Problems, Problem{File: tpl.Name, Line: line(at), Column: column(at), Resource: r.LogicalID, Path: name, Rule: "document", Severity: backuppolicy.SeverityWarning, Message: strings.TrimPrefix(strings.TrimPrefix(msg, name), ": ")})
		case doc != nil && doc.Content.S3 == nil:
			render(p, doc.Content.Inline, *doc, newTemplateLocator(tpl, source, r, *doc))
			p.Root, p.Document = nil, ""
		}
		return p
	}
	p.Name, p.PolicyType, p.Targets = decoded.PolicyName, decoded.PolicyType, decoded.Targets
	text := decoded.Content.Inline
	if decoded.Content.S3 != nil {
		// resourceProperties replaced a resolvable S3 location by the
		// local copy's text unless ReadS3Later; one without bucket or
		// key fails decoding.
		return p
	}
	render(p, text, decoded, newTemplateLocator(tpl, source, r, decoded))
	return p
}

func column(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Column
}
