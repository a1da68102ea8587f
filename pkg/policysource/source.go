package policysource

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/backup-as-code/orgbackup/internal/cfntemplate"
	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
)

// Defaults for the pseudo parameters when Options leaves them empty: the
// values the AWS documentation uses in its examples.
const (
	DefaultRegion    = "us-east-1"
	DefaultAccount   = "123456789012"
	DefaultPartition = "aws"
	DefaultStackName = "backup-policy-check"
)

// Options are what a deployment would supply.
type Options struct {
	// Parameters override template parameter defaults and supply what only
	// a deployment knows, keyed as cfntemplate.UnknownError names it:
	// "Name" (a parameter, also of an SSM type, or a resource's Ref),
	// "Resource.Attribute" (Fn::GetAtt), "ImportValue:ExportName"
	// (Fn::ImportValue), "{{resolve:…}}" (a dynamic reference as written).
	Parameters map[string]string
	// Region, Account and Partition are AWS::Region, AWS::AccountId and
	// AWS::Partition; StackName is AWS::StackName.
	Region, Account, Partition, StackName string
	// StackID is AWS::StackId; empty makes one of the stack name with a
	// zero UUID.
	StackID string
	// ReadS3Later leaves a PolicyContent stored in S3 as CloudFormation
	// sends it (Properties keeps the location; the policy is not
	// rendered) instead of asking for a local copy: for callers that read
	// it from S3 as the policy manager does (drift, plan).
	ReadS3Later bool
	// Content maps the S3 location of a PolicyContent
	// ("s3://bucket/key") to a local file holding that object.
	Content map[string]string
	// JSONPolicyType is the policy type of JSON policy files, which do
	// not say; empty means BACKUP_POLICY.
	JSONPolicyType string
}

// Policy is one policy a file defines, rendered as Organizations receives
// it.
type Policy struct {
	File string
	// Resource is the template's logical ID; empty for a JSON policy file.
	Resource string
	// ResourceType is the template resource type; empty for a JSON file.
	ResourceType string
	// Name is PolicyName (Name of AWS::Organizations::Policy).
	Name       string
	PolicyType string
	Targets    []string
	// Root is the rendered document (Variables and PolicyRegions
	// applied), nil when it does not render or the properties are wrong.
	// Its positions are in the rendered text; Locate maps them into File.
	Root *backuppolicy.Node
	// Document is the minified document the policy manager sends; empty
	// when the policy has an error.
	Document string
	// Problems are the errors and warnings of the properties and the
	// document, each at a position in File. The document is checked even
	// when properties are wrong, as far as those it depends on allow
	// (orgpolicy.PropertyError), so one run shows every problem.
	Problems []Problem
	// Properties are the resource's properties as CloudFormation sends
	// them to the policy manager (a custom resource's scalars as strings);
	// nil for a JSON policy file and AWS::Organizations::Policy.
	Properties map[string]any
	// DeletionPolicy and UpdateReplacePolicy are the resource's
	// attributes as written ("": Delete).
	DeletionPolicy, UpdateReplacePolicy string

	loc *locator
}

// Problem is one error or warning, at a position in File.
type Problem struct {
	File         string
	Line, Column int
	// Resource is the template's logical ID, if any.
	Resource string
	// Path is the JSON path in the policy document, or the property.
	Path     string
	Rule     string
	Severity backuppolicy.Severity
	Message  string
}

// Skipped is a policy resource of a template that this deployment does not
// create (its Condition is false).
type Skipped struct {
	File, Resource, ResourceType string
	Line                         int
	Reason                       string
}

// File is what one file defines.
type File struct {
	Path     string
	Policies []*Policy
	Skipped  []Skipped
	// NoEcho are the template's NoEcho parameters, sorted: DescribeStacks
	// shows their values masked, so a deployed value of one cannot be used.
	NoEcho []string
	// Transforms are the template's Transform section, as written; only
	// SAM's leaves Custom::BackupOrgPolicy resources as written.
	Transforms []string
}

// SAMTransform is the transform of SAM templates, which does not change a
// Custom::BackupOrgPolicy resource.
const SAMTransform = "AWS::Serverless-2016-10-31"

// OtherTransforms are the transforms of f that may change what it declares
// (AWS::LanguageExtensions' Fn::ForEach, AWS::Include, macros), which this
// package does not expand.
func (f *File) OtherTransforms() []string {
	var out []string
	for _, t := range f.Transforms {
		if t != SAMTransform {
			out = append(out, t)
		}
	}
	return out
}

// Policy returns the policy of a resource, or of a JSON file when
// resource is empty and the file defines one policy.
func (f *File) Policy(resource string) (*Policy, error) {
	if resource == "" {
		if len(f.Policies) == 1 {
			return f.Policies[0], nil
		}
		ids := make([]string, len(f.Policies))
		for i, p := range f.Policies {
			ids[i] = p.Resource
		}
		return nil, fmt.Errorf("%s defines %d policies (%s); name one with #LogicalId", f.Path, len(f.Policies), strings.Join(ids, ", "))
	}
	for _, p := range f.Policies {
		if p.Resource == resource {
			return p, nil
		}
	}
	for _, s := range f.Skipped {
		if s.Resource == resource {
			return nil, fmt.Errorf("%s: resource %s is not created in this deployment: %s", f.Path, resource, s.Reason)
		}
	}
	return nil, fmt.Errorf("%s: no policy resource %s (policy resources: %s)", f.Path, resource, strings.Join(f.resourceIDs(), ", "))
}

func (f *File) resourceIDs() []string {
	var ids []string
	for _, p := range f.Policies {
		ids = append(ids, p.Resource)
	}
	for _, s := range f.Skipped {
		ids = append(ids, s.Resource)
	}
	sort.Strings(ids)
	return ids
}

// Locate maps a position in the rendered document (an Issue's, with its
// path) to a line and column of the file.
func (p *Policy) Locate(pos backuppolicy.Position, path string) (line, column int) {
	if p.loc == nil {
		return pos.Line, pos.Column
	}
	return p.loc.locate(pos, path)
}

// InputError is a file that cannot be read as policies: unreadable, not a
// template or policy, or a template that needs values this deployment
// does not give. It is the user's input to fix, not a finding.
type InputError struct {
	File         string
	Line, Column int
	// Resource and Property, when the problem is in one.
	Resource, Property string
	Err                error
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Resource != "" {
		b.WriteString(e.Resource)
		if e.Property != "" {
			b.WriteString("." + e.Property)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *InputError) Unwrap() error { return e.Err }

// UnknownValuesError lists every value a template needs that only a
// deployment knows, each with where it is needed and how to give it.
type UnknownValuesError struct {
	Values []*InputError
}

func (e *UnknownValuesError) Error() string {
	parts := make([]string, len(e.Values))
	for i, v := range e.Values {
		parts[i] = v.Error()
	}
	return strings.Join(parts, "\n")
}

// Hint says how to give an unknown value on the command line.
func Hint(u *cfntemplate.UnknownError) string {
	if u.Kind == "S3 object" {
		return fmt.Sprintf("give a local copy with --content-file %s=PATH", u.Name)
	}
	return fmt.Sprintf("give it with --parameter '%s=VALUE'", u.Name)
}

// Read reads a JSON policy document or a CloudFormation template (YAML or
// JSON).
func Read(path string, opts Options) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &InputError{File: path, Err: errors.Unwrap(err)}
	}
	if isTemplate(path, data) {
		return readTemplate(path, data, opts)
	}
	return readJSONPolicy(path, data, opts.JSONPolicyType), nil
}

// ReadTemplate reads a CloudFormation template (YAML or JSON) held in
// memory, such as a deployed stack's (cloudformation:GetTemplate); name
// stands for the file in positions and errors.
func ReadTemplate(name string, body []byte, opts Options) (*File, error) {
	return readTemplate(name, body, opts)
}

// isTemplate tells a template from a policy document: YAML files are
// templates; a JSON file is one when it has a Resources section.
func isTemplate(path string, data []byte) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".template":
		return true
	}
	root, err := backuppolicy.ParseJSON(data)
	if err != nil {
		// Not JSON: a template in YAML unless it looks like JSON.
		return !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{"))
	}
	return root.Get("Resources") != nil || root.Get("AWSTemplateFormatVersion") != nil
}

// readJSONPolicy renders a policy document file as the policy manager
// renders inline content, as policyType (default BACKUP_POLICY, the only
// type checked in depth).
func readJSONPolicy(path string, data []byte, policyType string) *File {
	if policyType == "" {
		policyType = "BACKUP_POLICY"
	}
	props := orgpolicy.Properties{PolicyType: policyType}
	p := &Policy{File: path, PolicyType: props.PolicyType, Name: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))}
	render(p, string(data), props, nil)
	return &File{Path: path, Policies: []*Policy{p}}
}

// render renders text through the policy manager's code path and records
// its problems. loc maps rendered positions into the file (nil: the file
// is the text).
func render(p *Policy, text string, props orgpolicy.Properties, loc *locator) {
	p.loc = loc
	root, err := orgpolicy.RenderNode(text, props)
	if err != nil {
		p.addRenderError(err)
		return
	}
	p.Root = root
	if loc != nil {
		loc.root = root
	}
	if props.PolicyType == "BACKUP_POLICY" {
		for _, is := range backuppolicy.Check(root) {
			p.addIssue(is)
		}
	}
	doc, err := orgpolicy.RenderDocument(text, props)
	if err != nil {
		if !p.hasErrors() {
			p.addRenderError(err)
		}
		return
	}
	p.Document = doc
}

func (p *Policy) hasErrors() bool {
	for _, pr := range p.Problems {
		if pr.Severity == backuppolicy.SeverityError {
			return true
		}
	}
	return false
}

func (p *Policy) addIssue(is backuppolicy.Issue) {
	line, col := p.Locate(is.Pos, is.Path)
	p.Problems = append(p.Problems, Problem{
		File: p.File, Line: line, Column: col, Resource: p.Resource,
		Path: is.Path, Rule: is.Rule, Severity: is.Severity, Message: is.Message,
	})
}

// addRenderError records why a document does not render: a JSON syntax
// error at its position, the validation's issues, or the size limit.
func (p *Policy) addRenderError(err error) {
	var se *backuppolicy.SyntaxError
	var ve *backuppolicy.ValidationError
	switch {
	case errors.As(err, &se):
		line, col := p.Locate(se.Pos, "")
		p.Problems = append(p.Problems, Problem{File: p.File, Line: line, Column: col, Resource: p.Resource, Rule: "json-syntax", Message: se.Msg})
	case errors.As(err, &ve):
		for _, is := range ve.Issues {
			p.addIssue(is)
		}
	default:
		line, col := p.Locate(backuppolicy.Position{}, "")
		msg := strings.TrimPrefix(err.Error(), "PolicyContent: ")
		rule := "document"
		if strings.Contains(msg, "characters even minified") {
			rule = "size"
		}
		p.Problems = append(p.Problems, Problem{File: p.File, Line: line, Column: col, Resource: p.Resource, Rule: rule, Message: msg})
	}
}
