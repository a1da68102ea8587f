package awsemu

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// orgService is AWS Organizations across every emulated organization. An
// account belongs to one organization at a time (Organizations API
// reference, AlreadyInOrganizationException: "An account can belong to only
// one organization at a time"), and a policy is a resource of its
// organization (its ARN is arn:aws:organizations::<management account>:
// policy/o-<organization ID>/<type>/p-<ID>, Service Authorization Reference,
// AWS Organizations resource types). So each caller is served from the
// organization of its account, and another organization's policy IDs are
// unknown to it: PolicyNotFoundException.
type orgService struct {
	orgs []*organizations
	// allowed tells whether the caller's IAM permissions allow an action.
	allowed func(caller Principal, action string) bool
	// nextID numbers policies across organizations: policy IDs are unique.
	nextID int
}

func newOrgService(fixtures []OrgFixture, pageSize int) (*orgService, error) {
	s := &orgService{allowed: func(Principal, string) bool { return true }}
	for _, f := range fixtures {
		o, err := newOrganizations(f, pageSize)
		if err != nil {
			return nil, err
		}
		o.service = s
		for _, other := range s.orgs {
			for id := range o.parents {
				if _, dup := other.parents[id]; dup {
					return nil, fmt.Errorf("awsemu: organization fixtures %s and %s both hold %s; an account belongs to one organization", other.fixture.ID, f.ID, id)
				}
			}
		}
		s.orgs = append(s.orgs, o)
	}
	return s, nil
}

// index is the organization an account (or any target ID) belongs to; the
// first one for an account of none, which answers
// AWSOrganizationsNotInUseException.
func (s *orgService) index(id string) int {
	for i, o := range s.orgs {
		if _, member := o.parents[id]; member {
			return i
		}
	}
	return 0
}

func (s *orgService) of(id string) *organizations { return s.orgs[s.index(id)] }

func (s *orgService) operations() map[string]jsonOp {
	perOrg := make([]map[string]jsonOp, len(s.orgs))
	for i, o := range s.orgs {
		perOrg[i] = o.operations()
	}
	ops := map[string]jsonOp{}
	for name := range perOrg[0] {
		ops[name] = func(c *call, body []byte) (any, *APIError) {
			i := s.index(c.caller.Account)
			s.orgs[i].progress()
			return perOrg[i][name](c, body)
		}
	}
	return ops
}

// organizations holds one organization's policies, attachments and tags and
// applies the AWS Organizations rules to them, answering with the real error
// codes and reasons (aws-sdk-go-v2 service/organizations types/errors.go).
type organizations struct {
	fixture  OrgFixture
	pageSize int
	service  *orgService

	parents  map[string]string // target ID -> parent ID ("" for the root)
	names    map[string]string // target ID -> name
	enabled  map[string]bool   // policy types enabled in the root
	pending  map[string]int    // policy type -> requests until ENABLED
	policies map[string]*orgPolicy
	order    []string            // policy IDs in creation order
	attached map[string][]string // target ID -> policy IDs, in attachment order
	tags     map[string]map[string]string
}

type orgPolicy struct {
	id, arn, name, description, typ, content string
	targets                                  []string // in attachment order
}

// Organizations limits (Organizations User Guide, orgs_reference_limits):
// the maximum policy document size and the number of policies of a type
// attached directly to one root, OU or account.
var (
	maxContentChars = map[string]int{
		"SERVICE_CONTROL_POLICY":    5120,
		"RESOURCE_CONTROL_POLICY":   5120,
		"AISERVICES_OPT_OUT_POLICY": 2500,
		"BACKUP_POLICY":             10000,
		"TAG_POLICY":                10000,
		"CHATBOT_POLICY":            10000,
		"DECLARATIVE_POLICY_EC2":    10000,
	}
	maxAttachedPerTarget = map[string]int{
		"SERVICE_CONTROL_POLICY":    5,
		"RESOURCE_CONTROL_POLICY":   5,
		"AISERVICES_OPT_OUT_POLICY": 5,
		"BACKUP_POLICY":             10,
		"TAG_POLICY":                10,
	}
	policyTypes = []string{
		"SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY", "TAG_POLICY", "BACKUP_POLICY",
		"AISERVICES_OPT_OUT_POLICY", "CHATBOT_POLICY", "DECLARATIVE_POLICY_EC2", "SECURITYHUB_POLICY",
		"INSPECTOR_POLICY", "UPGRADE_ROLLOUT_POLICY", "BEDROCK_POLICY", "S3_POLICY",
		"NETWORK_SECURITY_DIRECTOR_POLICY", "GUARDDUTY_POLICY",
	}
	policyIDPattern = regexp.MustCompile(`^p-[0-9a-zA-Z_]{8,128}$`)
	targetIDPattern = regexp.MustCompile(`^(r-[0-9a-z]{4,32}|\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)
)

const (
	maxPoliciesPerType = 1000
	maxTagsPerResource = 50
)

func newOrganizations(f OrgFixture, pageSize int) (*organizations, error) {
	o := &organizations{
		fixture:  f,
		pageSize: pageSize,
		parents:  map[string]string{f.RootID: ""},
		names:    map[string]string{f.RootID: "Root"},
		enabled:  map[string]bool{},
		pending:  map[string]int{},
		policies: map[string]*orgPolicy{},
		attached: map[string][]string{},
		tags:     map[string]map[string]string{},
	}
	for _, ou := range f.OUs {
		o.parents[ou.ID], o.names[ou.ID] = ou.Parent, ou.Name
	}
	for _, a := range f.Accounts {
		o.parents[a.ID], o.names[a.ID] = a.Parent, a.Name
	}
	for id, parent := range o.parents {
		if id != f.RootID {
			if _, ok := o.parents[parent]; !ok {
				return nil, fmt.Errorf("awsemu: organization fixture: %s has unknown parent %q", id, parent)
			}
		}
	}
	for _, t := range f.EnabledPolicyTypes {
		o.enabled[t] = true
	}
	return o, nil
}

func (o *organizations) operations() map[string]jsonOp {
	return map[string]jsonOp{
		"CreatePolicy":          o.createPolicy,
		"UpdatePolicy":          o.updatePolicy,
		"DescribePolicy":        o.describePolicy,
		"DeletePolicy":          o.deletePolicy,
		"ListPolicies":          o.listPolicies,
		"AttachPolicy":          o.attachPolicy,
		"DetachPolicy":          o.detachPolicy,
		"ListTargetsForPolicy":  o.listTargetsForPolicy,
		"ListPoliciesForTarget": o.listPoliciesForTarget,
		"TagResource":           o.tagResource,
		"UntagResource":         o.untagResource,
		"ListTagsForResource":   o.listTagsForResource,
		"DescribeOrganization":  o.describeOrganization,
		"ListRoots":             o.listRoots,
		"EnablePolicyType":      o.enablePolicyType,
	}
}

// Wire shapes (member names as in the Organizations API).

type orgTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type policySummary struct {
	ID          string `json:"Id"`
	Arn         string `json:"Arn"`
	Name        string `json:"Name"`
	Description string `json:"Description"`
	Type        string `json:"Type"`
	AwsManaged  bool   `json:"AwsManaged"`
}

type policyOutput struct {
	Policy struct {
		PolicySummary policySummary `json:"PolicySummary"`
		Content       string        `json:"Content"`
	} `json:"Policy"`
}

type policyTargetSummary struct {
	TargetID string `json:"TargetId"`
	Arn      string `json:"Arn"`
	Name     string `json:"Name"`
	Type     string `json:"Type"`
}

// Errors with the services' messages.

func policyNotFound() *APIError {
	return clientError("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
}

func targetNotFound() *APIError {
	return clientError("TargetNotFoundException", "We can't find a root, OU, account, or policy with the TargetId that you specified.")
}

func invalidInput(reason, format string, args ...any) *APIError {
	return withReason(clientError("InvalidInputException", format, args...), reason)
}

func constraintViolation(reason, format string, args ...any) *APIError {
	return withReason(clientError("ConstraintViolationException", format, args...), reason)
}

// authorize checks the caller's IAM permissions for every action the call
// needs, then lets the management account and delegated administrators
// manage policies, as Organizations does.
func (o *organizations) authorize(c *call) *APIError {
	if err := o.permitted(c); err != nil {
		return err
	}
	acct := c.caller.Account
	if acct == o.fixture.ManagementAccount || slices.Contains(o.fixture.DelegatedAdministrators, acct) {
		return nil
	}
	if _, member := o.parents[acct]; member {
		return withStatus(clientError("AccessDeniedException", "You don't have permissions to access this resource."), http.StatusBadRequest)
	}
	return clientError("AWSOrganizationsNotInUseException", "Your account isn't a member of an organization. To make this request, you must use the credentials of an account that belongs to an organization.")
}

func (o *organizations) permitted(c *call) *APIError {
	for _, action := range c.actions {
		if !o.service.allowed(c.caller, action) {
			return o.accessDenied(c, action)
		}
	}
	return nil
}

// accessDenied is IAM's implicit deny as Organizations returns it:
// AccessDeniedException, HTTP 400 (Organizations API Reference, the Errors
// section of every action: "HTTP Status Code: 400"), with IAM's message "User: <principal> is
// not authorized to perform: <action> on resource: <resource> because no
// identity-based policy allows the <action> action" (IAM User Guide,
// "Troubleshooting access denied error messages"); the resource part is
// left out when the call names no existing resource.
func (o *organizations) accessDenied(c *call, action string) *APIError {
	on := ""
	id, _, _ := strings.Cut(c.target, " ")
	if p := o.policies[id]; p != nil {
		on = " on resource: " + p.arn
	}
	return withStatus(clientError("AccessDeniedException", "User: %s is not authorized to perform: %s%s because no identity-based policy allows the %s action", c.caller.ARN, action, on, action), http.StatusBadRequest)
}

func (o *organizations) policyARN(p *orgPolicy) string {
	return fmt.Sprintf("arn:aws:organizations::%s:policy/%s/%s/%s", o.fixture.ManagementAccount, o.fixture.ID, strings.ToLower(p.typ), p.id)
}

func (o *organizations) summary(p *orgPolicy) policySummary {
	return policySummary{ID: p.id, Arn: p.arn, Name: p.name, Description: p.description, Type: p.typ}
}

func (o *organizations) output(p *orgPolicy) policyOutput {
	var out policyOutput
	out.Policy.PolicySummary = o.summary(p)
	out.Policy.Content = p.content
	return out
}

func (o *organizations) findPolicy(id string) (*orgPolicy, *APIError) {
	if !policyIDPattern.MatchString(id) {
		return nil, invalidInput("INVALID_SYNTAX_POLICY_ID", "You specified an invalid policy ID: %q.", id)
	}
	p := o.policies[id]
	if p == nil {
		return nil, policyNotFound()
	}
	return p, nil
}

func (o *organizations) checkTarget(id string) *APIError {
	if !targetIDPattern.MatchString(id) {
		return invalidInput("INVALID_PATTERN_TARGET_ID", "You specified a target ID that doesn't match the pattern: %q.", id)
	}
	if _, ok := o.parents[id]; !ok {
		return targetNotFound()
	}
	return nil
}

func (o *organizations) checkName(name string) *APIError {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return invalidInput("INPUT_REQUIRED", "You must specify a value for Name.")
	case n > 128:
		return invalidInput("MAX_LENGTH_EXCEEDED", "Name must be at most 128 characters.")
	}
	return nil
}

func (o *organizations) checkDescription(d string) *APIError {
	if utf8.RuneCountInString(d) > 512 {
		return invalidInput("MAX_LENGTH_EXCEEDED", "Description must be at most 512 characters.")
	}
	return nil
}

// checkContent applies the document rules: valid JSON, the type's size
// limit (whitespace counts: the API stores content as sent), and for backup
// policies a top level holding only "plans".
func (o *organizations) checkContent(typ, content string) *APIError {
	if content == "" {
		return invalidInput("INPUT_REQUIRED", "You must specify a value for Content.")
	}
	if limit, ok := maxContentChars[typ]; ok && utf8.RuneCountInString(content) > limit {
		return constraintViolation("POLICY_CONTENT_LIMIT_EXCEEDED", "You have exceeded the maximum size of a policy document (%d characters for %s).", limit, typ)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(content), &doc); err != nil {
		return clientError("MalformedPolicyDocumentException", "The provided policy document doesn't meet the requirements of the specified policy type: %v", err)
	}
	if typ == "BACKUP_POLICY" {
		for k := range doc {
			if k != "plans" {
				return clientError("MalformedPolicyDocumentException", "The provided policy document doesn't meet the requirements of the specified policy type: unknown top-level key %q.", k)
			}
		}
	}
	return nil
}

func (o *organizations) checkTags(tags []orgTag, existing map[string]string) *APIError {
	seen := map[string]bool{}
	merged := maps.Clone(existing)
	if merged == nil {
		merged = map[string]string{}
	}
	for _, t := range tags {
		switch {
		case t.Key == "" || utf8.RuneCountInString(t.Key) > 128:
			return invalidInput("INVALID_LIST_MEMBER", "Tag keys must be 1 to 128 characters.")
		case utf8.RuneCountInString(t.Value) > 256:
			return invalidInput("INVALID_LIST_MEMBER", "Tag values must be at most 256 characters.")
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return invalidInput("INVALID_SYSTEM_TAGS_PARAMETER", "Tag keys can't start with aws:.")
		case seen[t.Key]:
			return invalidInput("DUPLICATE_TAG_KEY", "Duplicate tag key %q.", t.Key)
		}
		seen[t.Key] = true
		merged[t.Key] = t.Value
	}
	if len(merged) > maxTagsPerResource {
		return constraintViolation("MAX_TAG_LIMIT_EXCEEDED", "You have exceeded the number of tags allowed on this resource (%d).", maxTagsPerResource)
	}
	return nil
}

func (o *organizations) createPolicy(c *call, body []byte) (any, *APIError) {
	var in struct {
		Content, Description, Name, Type string
		Tags                             []orgTag
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	c.target = in.Name
	if len(in.Tags) > 0 {
		// "To add tags to a resource when you create it, you need ...
		// organizations:TagResource" (Organizations User Guide, "Adding,
		// updating, and removing tags", Minimum permissions).
		c.actions = append(c.actions, iamAction("organizations", "TagResource"))
	}
	if err := o.authorize(c); err != nil {
		return nil, err
	}
	if !slices.Contains(policyTypes, in.Type) {
		return nil, invalidInput("INVALID_ENUM_POLICY_TYPE", "You specified an invalid policy type %q.", in.Type)
	}
	if err := o.checkName(in.Name); err != nil {
		return nil, err
	}
	if err := o.checkDescription(in.Description); err != nil {
		return nil, err
	}
	if err := o.checkContent(in.Type, in.Content); err != nil {
		return nil, err
	}
	if err := o.checkTags(in.Tags, nil); err != nil {
		return nil, err
	}
	count := 0
	for _, p := range o.policies {
		if p.typ != in.Type {
			continue
		}
		count++
		// Names are unique within a policy type.
		if p.name == in.Name {
			return nil, clientError("DuplicatePolicyException", "A policy with the same name already exists.")
		}
	}
	if count >= maxPoliciesPerType {
		return nil, constraintViolation("POLICY_NUMBER_LIMIT_EXCEEDED", "You have reached the maximum number of policies of type %s.", in.Type)
	}
	o.service.nextID++
	p := &orgPolicy{
		id:          fmt.Sprintf("p-%s%06d", policyIDInfix(in.Type), o.service.nextID),
		name:        in.Name,
		description: in.Description,
		typ:         in.Type,
		content:     in.Content,
	}
	p.arn = o.policyARN(p)
	o.policies[p.id] = p
	o.order = append(o.order, p.id)
	if len(in.Tags) > 0 {
		o.tags[p.id] = map[string]string{}
		for _, t := range in.Tags {
			o.tags[p.id][t.Key] = t.Value
		}
	}
	c.target = p.id
	return o.output(p), nil
}

// policyIDInfix makes IDs of different types look different, as real ones
// do not but readers of test output like.
func policyIDInfix(typ string) string {
	switch typ {
	case "BACKUP_POLICY":
		return "bk"
	case "TAG_POLICY":
		return "tg"
	case "SERVICE_CONTROL_POLICY":
		return "sc"
	}
	return "xx"
}

func (o *organizations) updatePolicy(c *call, body []byte) (any, *APIError) {
	var in struct {
		PolicyID                   string `json:"PolicyId"`
		Name, Description, Content *string
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	c.target = in.PolicyID
	if err := o.authorize(c); err != nil {
		return nil, err
	}
	p, err := o.findPolicy(in.PolicyID)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := o.checkName(*in.Name); err != nil {
			return nil, err
		}
		for _, q := range o.policies {
			if q != p && q.typ == p.typ && q.name == *in.Name {
				return nil, clientError("DuplicatePolicyException", "A policy with the same name already exists.")
			}
		}
	}
	if in.Description != nil {
		if err := o.checkDescription(*in.Description); err != nil {
			return nil, err
		}
	}
	if in.Content != nil {
		if err := o.checkContent(p.typ, *in.Content); err != nil {
			return nil, err
		}
	}
	if in.Name != nil {
		p.name = *in.Name
	}
	if in.Description != nil {
		p.description = *in.Description
	}
	if in.Content != nil {
		p.content = *in.Content
	}
	return o.output(p), nil
}

func (o *organizations) describePolicy(c *call, body []byte) (any, *APIError) {
	var in struct {
		PolicyID string `json:"PolicyId"`
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	c.target = in.PolicyID
	if err := o.authorize(c); err != nil {
		return nil, err
	}
	p, err := o.findPolicy(in.PolicyID)
	if err != nil {
		return nil, err
	}
	return o.output(p), nil
}

func (o *organizations) deletePolicy(c *call, body []byte) (any, *APIError) {
	var in struct {
		PolicyID string `json:"PolicyId"`
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	c.target = in.PolicyID
	if err := o.authorize(c); err != nil {
		return nil, err
	}
	p, err := o.findPolicy(in.PolicyID)
	if err != nil {
		return nil, err
	}
	if len(p.targets) > 0 {
		return nil, clientError("PolicyInUseException", "The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.")
	}
	delete(o.policies, p.id)
	delete(o.tags, p.id)
	o.order = slices.DeleteFunc(o.order, func(id string) bool { return id == p.id })
	return struct{}{}, nil
}

func (o *organizations) listPolicies(c *call, body []byte) (any, *APIError) {
	var in struct {
		Filter     string
		NextToken  string
		MaxResults int
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if err := o.authorize(c); err != nil {
		return nil, err
	}
	if !slices.Contains(policyTypes, in.Filter) {
		return nil, invalidInput("INVALID_ENUM_POLICY_TYPE", "You specified an invalid policy type %q.", in.Filter)
	}
	if err := checkMaxResults(in.MaxResults); err != nil {
		return nil, err
	}
	var all []policySummary
	for _, id := range o.order {
		if p := o.policies[id]; p.typ == in.Filter {
			all = append(all, o.summary(p))
		}
	}
	page, next, ok := paginate("ListPolicies", all, in.NextToken, in.MaxResults, o.pageSize)
	if !ok {
		return nil, invalidNextToken()
	}
	return struct {
		Policies  []policySummary `json:"Policies"`
		NextToken string          `json:"NextToken,omitempty"`
	}{nonNil(page), next}, nil
}

func checkMaxResults(n int) *APIError {
	if n < 0 || n > 20 {
		return invalidInput("MAX_VALUE_EXCEEDED", "MaxResults must be between 1 and 20.")
	}
	return nil
}

func invalidNextToken() *APIError {
	return invalidInput("INVALID_NEXT_TOKEN", "The provided NextToken value is not valid.")
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (o *organizations) attachPolicy(c *call, body []byte) (any, *APIError) {
	var in struct {
		PolicyID string `json:"PolicyId"`
		TargetID string `json:"TargetId"`
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	c.target = in.PolicyID + " -> " + in.TargetID
	if err := o.authorize(c); err != nil {
		return nil, err
	}
	p, err := o.findPolicy(in.PolicyID)
	if err != nil {
		return nil, err
	}
	if err := o.checkTarget(in.TargetID); err != nil {
		return nil, err
	}
	if !o.enabled[p.typ] {
		return nil, clientError("PolicyTypeNotEnabledException", "The specified policy type isn't currently enabled in this root. You can't attach policies of the specified type to entities in a root until you enable that type in the root.")
	}
	if slices.Contains(p.targets, in.TargetID) {
		return nil, clientError("DuplicatePolicyAttachmentException", "The selected policy is already attached to the specified target.")
	}
	if limit, ok := maxAttachedPerTarget[p.typ]; ok {
		n := 0
		for _, id := range o.attached[in.TargetID] {
			if o.policies[id].typ == p.typ {
				n++
			}
		}
		if n >= limit {
			return nil, constraintViolation("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED", "You attempted to exceed the number of policies of type %s (%d) that can be attached to target %s.", p.typ, limit, in.TargetID)
		}
	}
	p.targets = append(p.targets, in.TargetID)
	o.attached[in.TargetID] = append(o.attached[in.TargetID], p.id)
	return struct{}{}, nil
}

func (o *organizations) detachPolicy(c *call, body []byte) (any, *APIError) {
	var in struct {
		PolicyID string `json:"PolicyId"`
		TargetID string `json:"TargetId"`
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	c.target = in.PolicyID + " -x " + in.TargetID
	if err := o.authorize(c); err != nil {
		return nil, err
	}
	p, err := o.findPolicy(in.PolicyID)
	if err != nil {
		return nil, err
	}
	if err := o.checkTarget(in.TargetID); err != nil {
		return nil, err
	}
	if !slices.Contains(p.targets, in.TargetID) {
		return nil, clientError("PolicyNotAttachedException", "The policy isn't attached to the specified target in the specified root.")
	}
	p.targets = slices.DeleteFunc(p.targets, func(t string) bool { return t == in.TargetID })
	o.attached[in.TargetID] = slices.DeleteFunc(o.attached[in.TargetID], func(id string) bool { return id == p.id })
	return struct{}{}, nil
}

func (o *organizations) targetSummary(id string) policyTargetSummary {
	s := policyTargetSummary{TargetID: id, Name: o.names[id]}
	switch {
	case strings.HasPrefix(id, "r-"):
		s.Type = "ROOT"
		s.Arn = fmt.Sprintf("arn:aws:organizations::%s:root/%s/%s", o.fixture.ManagementAccount, o.fixture.ID, id)
	case strings.HasPrefix(id, "ou-"):
		s.Type = "ORGANIZATIONAL_UNIT"
		s.Arn = fmt.Sprintf("arn:aws:organizations::%s:ou/%s/%s", o.fixture.ManagementAccount, o.fixture.ID, id)
	default:
		s.Type = "ACCOUNT"
		s.Arn = fmt.Sprintf("arn:aws:organizations::%s:account/%s/%s", o.fixture.ManagementAccount, o.fixture.ID, id)
	}
	return s
}

func (o *organizations) listTargetsForPolicy(c *call, body []byte) (any, *APIError) {
	var in struct {
		PolicyID   string `json:"PolicyId"`
		NextToken  string
		MaxResults int
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	c.target = in.PolicyID
	if err := o.authorize(c); err != nil {
		return nil, err
	}
	p, err := o.findPolicy(in.PolicyID)
	if err != nil {
		return nil, err
	}
	if err := checkMaxResults(in.MaxResults); err != nil {
		return nil, err
	}
	all := make([]policyTargetSummary, 0, len(p.targets))
	for _, t := range p.targets {
		all = append(all, o.targetSummary(t))
	}
	page, next, ok := paginate("ListTargetsForPolicy:"+p.id, all, in.NextToken, in.MaxResults, o.pageSize)
	if !ok {
		return nil, invalidNextToken()
	}
	return struct {
		Targets   []policyTargetSummary `json:"Targets"`
		NextToken string                `json:"NextToken,omitempty"`
	}{nonNil(page), next}, nil
}

func (o *organizations) listPoliciesForTarget(c *call, body []byte) (any, *APIError) {
	var in struct {
		TargetID   string `json:"TargetId"`
		Filter     string
		NextToken  string
		MaxResults int
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	c.target = in.TargetID
	if err := o.authorize(c); err != nil {
		return nil, err
	}
	if err := o.checkTarget(in.TargetID); err != nil {
		return nil, err
	}
	if !slices.Contains(policyTypes, in.Filter) {
		return nil, invalidInput("INVALID_ENUM_POLICY_TYPE", "You specified an invalid policy type %q.", in.Filter)
	}
	if err := checkMaxResults(in.MaxResults); err != nil {
		return nil, err
	}
	var all []policySummary
	for _, id := range o.attached[in.TargetID] {
		if p := o.policies[id]; p.typ == in.Filter {
			all = append(all, o.summary(p))
		}
	}
	page, next, ok := paginate("ListPoliciesForTarget:"+in.TargetID, all, in.NextToken, in.MaxResults, o.pageSize)
	if !ok {
		return nil, invalidNextToken()
	}
	return struct {
		Policies  []policySummary `json:"Policies"`
		NextToken string          `json:"NextToken,omitempty"`
	}{nonNil(page), next}, nil
}

// taggable reports whether id names a resource Organizations can tag: a
// policy, the root, an OU or an account.
func (o *organizations) taggable(id string) *APIError {
	if strings.HasPrefix(id, "p-") {
		_, err := o.findPolicy(id)
		if err != nil && err.Code == "PolicyNotFoundException" {
			return targetNotFound()
		}
		return err
	}
	return o.checkTarget(id)
}

func (o *organizations) tagResource(c *call, body []byte) (any, *APIError) {
	var in struct {
		ResourceID string `json:"ResourceId"`
		Tags       []orgTag
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	c.target = in.ResourceID
	if err := o.authorize(c); err != nil {
		return nil, err
	}
	if err := o.taggable(in.ResourceID); err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, invalidInput("INPUT_REQUIRED", "You must specify a value for Tags.")
	}
	if err := o.checkTags(in.Tags, o.tags[in.ResourceID]); err != nil {
		return nil, err
	}
	if o.tags[in.ResourceID] == nil {
		o.tags[in.ResourceID] = map[string]string{}
	}
	for _, t := range in.Tags {
		o.tags[in.ResourceID][t.Key] = t.Value
	}
	return struct{}{}, nil
}

func (o *organizations) untagResource(c *call, body []byte) (any, *APIError) {
	var in struct {
		ResourceID string `json:"ResourceId"`
		TagKeys    []string
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	c.target = in.ResourceID
	if err := o.authorize(c); err != nil {
		return nil, err
	}
	if err := o.taggable(in.ResourceID); err != nil {
		return nil, err
	}
	if len(in.TagKeys) == 0 {
		return nil, invalidInput("INPUT_REQUIRED", "You must specify a value for TagKeys.")
	}
	for _, k := range in.TagKeys {
		delete(o.tags[in.ResourceID], k)
	}
	return struct{}{}, nil
}

func (o *organizations) listTagsForResource(c *call, body []byte) (any, *APIError) {
	var in struct {
		ResourceID string `json:"ResourceId"`
		NextToken  string
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	c.target = in.ResourceID
	if err := o.authorize(c); err != nil {
		return nil, err
	}
	if err := o.taggable(in.ResourceID); err != nil {
		return nil, err
	}
	keys := slices.Sorted(maps.Keys(o.tags[in.ResourceID]))
	all := make([]orgTag, 0, len(keys))
	for _, k := range keys {
		all = append(all, orgTag{Key: k, Value: o.tags[in.ResourceID][k]})
	}
	page, next, ok := paginate("ListTagsForResource:"+in.ResourceID, all, in.NextToken, 0, o.pageSize)
	if !ok {
		return nil, invalidNextToken()
	}
	return struct {
		Tags      []orgTag `json:"Tags"`
		NextToken string   `json:"NextToken,omitempty"`
	}{nonNil(page), next}, nil
}

func (o *organizations) describeOrganization(c *call, _ []byte) (any, *APIError) {
	if err := o.permitted(c); err != nil {
		return nil, err
	}
	if _, member := o.parents[c.caller.Account]; !member {
		return nil, clientError("AWSOrganizationsNotInUseException", "Your account isn't a member of an organization.")
	}
	type org struct {
		ID                 string `json:"Id"`
		Arn                string `json:"Arn"`
		FeatureSet         string `json:"FeatureSet"`
		MasterAccountID    string `json:"MasterAccountId"`
		MasterAccountArn   string `json:"MasterAccountArn"`
		MasterAccountEmail string `json:"MasterAccountEmail"`
	}
	f := o.fixture
	return struct {
		Organization org `json:"Organization"`
	}{org{
		ID:                 f.ID,
		Arn:                fmt.Sprintf("arn:aws:organizations::%s:organization/%s", f.ManagementAccount, f.ID),
		FeatureSet:         "ALL",
		MasterAccountID:    f.ManagementAccount,
		MasterAccountArn:   fmt.Sprintf("arn:aws:organizations::%s:account/%s/%s", f.ManagementAccount, f.ID, f.ManagementAccount),
		MasterAccountEmail: "management@example.com",
	}}, nil
}

// PolicyState is a snapshot of one policy, for assertions and demo output.
type PolicyState struct {
	ID, ARN, Name, Description, Type, Content string
	// Targets are in attachment order.
	Targets []string
	Tags    map[string]string
}

// Policies returns every policy of every organization, the first
// organization's first, each in creation order.
func (e *Emulator) Policies() []PolicyState {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []PolicyState
	for _, o := range e.orgs.orgs {
		for _, id := range o.order {
			out = append(out, o.state(o.policies[id]))
		}
	}
	return out
}

// Policy returns one policy's state, from whichever organization holds it.
func (e *Emulator) Policy(id string) (PolicyState, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, o := range e.orgs.orgs {
		if p := o.policies[id]; p != nil {
			return o.state(p), true
		}
	}
	return PolicyState{}, false
}

func (o *organizations) state(p *orgPolicy) PolicyState {
	tags := maps.Clone(o.tags[p.id])
	if tags == nil {
		tags = map[string]string{}
	}
	return PolicyState{
		ID: p.id, ARN: p.arn, Name: p.name, Description: p.description, Type: p.typ, Content: p.content,
		Targets: slices.Clone(p.targets), Tags: tags,
	}
}

// TargetName returns the display name of a root, OU or account.
func (e *Emulator) TargetName(id string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.orgs.of(id).names[id]
}

// progress advances the background work of EnablePolicyType by one
// request: a PENDING_ENABLE type whose delay is over becomes ENABLED.
func (o *organizations) progress() {
	for typ, n := range o.pending {
		if n <= 1 {
			delete(o.pending, typ)
			o.enabled[typ] = true
			continue
		}
		o.pending[typ] = n - 1
	}
}

type policyTypeSummary struct {
	Type   string `json:"Type"`
	Status string `json:"Status"`
}

type rootOutput struct {
	ID          string              `json:"Id"`
	Arn         string              `json:"Arn"`
	Name        string              `json:"Name"`
	PolicyTypes []policyTypeSummary `json:"PolicyTypes"`
}

// root is the root as ListRoots and EnablePolicyType describe it: its
// PolicyTypes are the types enabled (ENABLED) or being enabled
// (PENDING_ENABLE) in it (Organizations API Reference, Root and
// PolicyTypeSummary data types).
func (o *organizations) root() rootOutput {
	r := rootOutput{ID: o.fixture.RootID, Arn: o.targetSummary(o.fixture.RootID).Arn, Name: "Root", PolicyTypes: []policyTypeSummary{}}
	for _, typ := range policyTypes {
		switch {
		case o.enabled[typ]:
			r.PolicyTypes = append(r.PolicyTypes, policyTypeSummary{typ, "ENABLED"})
		case o.isPending(typ):
			r.PolicyTypes = append(r.PolicyTypes, policyTypeSummary{typ, "PENDING_ENABLE"})
		}
	}
	return r
}

func (o *organizations) isPending(typ string) bool {
	_, ok := o.pending[typ]
	return ok
}

// listRoots lists the organization's roots (Organizations API Reference,
// ListRoots; callable by the management account and delegated
// administrators), paginated like every List operation.
func (o *organizations) listRoots(c *call, body []byte) (any, *APIError) {
	var in struct {
		NextToken  string
		MaxResults int
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if err := o.authorize(c); err != nil {
		return nil, err
	}
	if err := checkMaxResults(in.MaxResults); err != nil {
		return nil, err
	}
	page, next, ok := paginate("ListRoots", []rootOutput{o.root()}, in.NextToken, in.MaxResults, o.pageSize)
	if !ok {
		return nil, invalidNextToken()
	}
	return struct {
		Roots     []rootOutput `json:"Roots"`
		NextToken string       `json:"NextToken,omitempty"`
	}{nonNil(page), next}, nil
}

var rootIDPattern = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)

// enablePolicyType enables a policy type in the root (Organizations API
// Reference, EnablePolicyType). The request is asynchronous: the type is
// PENDING_ENABLE first, and attaching policies of it is refused until it
// is ENABLED (OrgFixture.EnableDelayRequests). Errors, as the reference
// lists them: PolicyTypeAlreadyEnabledException for an enabled type,
// PolicyTypeNotAvailableForOrganizationException for a type the
// organization cannot use, RootNotFoundException for another root ID,
// ConcurrentModificationException while the type is still being enabled.
func (o *organizations) enablePolicyType(c *call, body []byte) (any, *APIError) {
	var in struct {
		RootID     string `json:"RootId"`
		PolicyType string `json:"PolicyType"`
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	c.target = in.RootID + " " + in.PolicyType
	if err := o.authorize(c); err != nil {
		return nil, err
	}
	if !rootIDPattern.MatchString(in.RootID) {
		return nil, invalidInput("INVALID_PATTERN", "You specified an invalid value for RootId: %q.", in.RootID)
	}
	if !slices.Contains(policyTypes, in.PolicyType) {
		return nil, invalidInput("INVALID_ENUM_POLICY_TYPE", "You specified an invalid policy type %q.", in.PolicyType)
	}
	if in.RootID != o.fixture.RootID {
		return nil, clientError("RootNotFoundException", "We can't find a root with the RootId that you specified.")
	}
	if slices.Contains(o.fixture.UnavailablePolicyTypes, in.PolicyType) {
		return nil, clientError("PolicyTypeNotAvailableForOrganizationException", "You can't use the specified policy type with the feature set currently enabled for this organization.")
	}
	switch {
	case o.enabled[in.PolicyType]:
		return nil, clientError("PolicyTypeAlreadyEnabledException", "The specified policy type is already enabled in the specified root.")
	case o.isPending(in.PolicyType):
		return nil, clientError("ConcurrentModificationException", "The target of the operation is currently being modified by a different request. Try again later.")
	}
	if o.fixture.EnableDelayRequests <= 0 {
		o.enabled[in.PolicyType] = true
	} else {
		o.pending[in.PolicyType] = o.fixture.EnableDelayRequests
	}
	return struct {
		Root rootOutput `json:"Root"`
	}{o.root()}, nil
}
