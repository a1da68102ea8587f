package orgpolicy

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/backup-as-code/orgbackup/pkg/awstag"
	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
)

// defaultOrgAdminRoleName is the role assumed in the management account when
// neither the resource nor the function configuration names one.
const defaultOrgAdminRoleName = "BackupOrgPolicyManagerOrgAdmin"

// Defaults are function-level settings that templates need not repeat.
type Defaults struct {
	// OrgManagementAccount is used when the resource has none; empty
	// means the function's own credentials (delegated administrator).
	OrgManagementAccount string
	// OrgAdminRoleName defaults to defaultOrgAdminRoleName.
	OrgAdminRoleName string
	ExternalID       string
}

// Properties are the decoded properties of a Custom::BackupOrgPolicy.
type Properties struct {
	PolicyName        string
	PolicyDescription string
	PolicyType        string
	Content           Content
	Variables         []backuppolicy.Variable
	Regions           []string
	RegionsOperator   string
	// Targets are unique, in the order written.
	Targets              []string
	OrgManagementAccount string
	OrgAdminRoleName     string
	ExternalID           string
	// Tags are the user's tags for the policy.
	Tags map[string]string
	// AdoptExistingPolicy takes over a policy of the same name and type
	// that has no ownership tags (one made by the earlier solution).
	AdoptExistingPolicy bool
	// EnablePolicyType enables the policy type in the organization's root
	// when an attach finds it not enabled, and attaches again.
	EnablePolicyType bool
}

// Content is where the policy document comes from: inline text, or an S3
// object.
type Content struct {
	Inline string
	S3     *S3Location
}

// S3Location names a policy document in S3.
type S3Location struct {
	Bucket, Key, VersionID string
}

func (l S3Location) String() string {
	s := "s3://" + l.Bucket + "/" + l.Key
	if l.VersionID != "" {
		s += " (version " + l.VersionID + ")"
	}
	return s
}

// PropertyError lists every property that is wrong, each with the field and
// what is allowed, and says how far the policy document can be checked
// despite them: a template with a misspelt property and a document typo
// should show both at the first attempt, not one per deployment.
type PropertyError struct {
	Problems []string
	// Document holds the properties the policy document renders with when
	// those it depends on are valid (PolicyContent, PolicyType, Variables;
	// PolicyRegions and its operator are left out when they are invalid,
	// as they only set each plan's regions); nil otherwise. Its Content
	// may be in S3: the function reads it only from valid properties.
	Document *Properties
	// Unchecked says why the document cannot be checked while PolicyContent
	// itself is valid (a wrong PolicyType or Variables); "" otherwise.
	Unchecked string
}

func (e *PropertyError) Error() string {
	s := "invalid properties: " + strings.Join(e.Problems, "; ")
	if e.Unchecked != "" {
		s += "; " + e.Unchecked
	}
	return s
}

var (
	rootPattern       = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	ouPattern         = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	accountPattern    = regexp.MustCompile(`^\d{12}$`)
	regionPattern     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)
	roleNamePattern   = regexp.MustCompile(`^([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)
	externalIDPattern = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	policyIDPattern   = regexp.MustCompile(`^p-[0-9a-zA-Z_]{8,128}$`)
)

// isPolicyID reports whether id has the form of an Organizations policy ID.
func isPolicyID(id string) bool { return policyIDPattern.MatchString(id) }

// knownProperties are the properties the resource reads, plus those
// CloudFormation adds itself (cloudFormationProperties). UpdateToken is read
// only to be ignored: changing it is how a template forces an Update.
var knownProperties = []string{
	"PolicyName", "PolicyDescription", "PolicyType", "PolicyContent", "Variables",
	"PolicyRegions", "PolicyRegionsOperator", "PolicyTargets", "OrgManagementAccount",
	"OrgAdminRoleName", "ExternalId", "Tags", "UpdateToken", "AdoptExistingPolicy", "EnablePolicyType", "ServiceToken", "ServiceTimeout",
}

// cloudFormationProperties belong to CloudFormation, not to the resource;
// they are accepted but not offered in the list of allowed properties.
var cloudFormationProperties = []string{"ServiceToken", "ServiceTimeout"}

// maxUserTags leaves room for the two ownership tags within the 50 tags a
// policy can have.
const maxUserTags = 50 - 2

type decoder struct {
	props    map[string]any
	problems []string
	// meant are the known properties unknown ones were taken for.
	meant []string
}

func (d *decoder) fail(format string, args ...any) {
	d.problems = append(d.problems, fmt.Sprintf(format, args...))
}

// scalar reads a property CloudFormation delivers as a string (numbers and
// booleans arrive as strings; direct invocations may send them raw).
func (d *decoder) scalar(name string) string {
	v, ok := d.props[name]
	if !ok || v == nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case bool, float64, json.Number:
		return fmt.Sprint(x)
	}
	d.fail("%s: must be a string, not %s", name, describeJSON(v))
	return ""
}

// list reads a list property given as a list or a comma-separated string.
func (d *decoder) list(name string) []string {
	v, ok := d.props[name]
	if !ok || v == nil {
		return nil
	}
	var out []string
	switch x := v.(type) {
	case string:
		for _, s := range strings.Split(x, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	case []any:
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				d.fail("%s[%d]: must be a string, not %s", name, i, describeJSON(e))
				continue
			}
			out = append(out, strings.TrimSpace(s))
		}
	default:
		d.fail("%s: must be a list or a comma-separated string, not %s", name, describeJSON(v))
	}
	return out
}

func describeJSON(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// DecodeProperties checks every property and returns them decoded, or a
// PropertyError naming each bad one. It makes no AWS call.
func DecodeProperties(props map[string]any, defaults Defaults) (Properties, error) {
	d := &decoder{props: props}
	var p Properties
	d.unknownProperties()
	d.policy(&p)
	// valid runs read and tells whether it found no problem: that decides
	// how far the document can still be checked when other properties
	// are wrong.
	valid := func(read func()) bool {
		n := len(d.problems)
		read()
		return len(d.problems) == n
	}
	contentOK := valid(func() { p.Content = d.content() })
	// A misspelt Variables or PolicyType leaves the default in its place,
	// which is not what the template means either.
	variablesOK := valid(func() { p.Variables = d.variables() }) && !slices.Contains(d.meant, "Variables")
	regionsOK := valid(func() { d.regions(&p) })
	typeOK := !slices.Contains(d.meant, "PolicyType") &&
		!slices.ContainsFunc(d.problems, func(s string) bool { return strings.HasPrefix(s, "PolicyType:") })
	p.Targets = d.targets()
	d.access(&p, defaults)
	p.Tags = d.tags()
	p.AdoptExistingPolicy = d.flag("AdoptExistingPolicy")
	p.EnablePolicyType = d.flag("EnablePolicyType")
	if len(d.problems) == 0 {
		return p, nil
	}
	pe := &PropertyError{Problems: d.problems}
	switch {
	case !contentOK:
		// The content's own problem is the report.
	case !typeOK:
		pe.Unchecked = "PolicyContent: not checked: its syntax depends on PolicyType, which is invalid"
	case !variablesOK:
		// Without them placeholders stay in the document, and the check
		// would report them instead of what is wrong.
		pe.Unchecked = "PolicyContent: not checked: its placeholders depend on Variables, which are invalid"
	default:
		doc := Properties{PolicyType: p.PolicyType, Content: p.Content, Variables: p.Variables}
		if regionsOK {
			doc.Regions, doc.RegionsOperator = p.Regions, p.RegionsOperator
		}
		pe.Document = &doc
	}
	return Properties{}, pe
}

// policy reads what names the policy: PolicyName, PolicyDescription and
// PolicyType (default BACKUP_POLICY), within the Organizations limits.
func (d *decoder) policy(p *Properties) {
	p.PolicyName = d.scalar("PolicyName")
	switch n := utf8.RuneCountInString(p.PolicyName); {
	case n == 0:
		d.fail("PolicyName: required, 1 to 128 characters")
	case n > 128:
		d.fail("PolicyName: %d characters; at most 128 allowed", n)
	}

	p.PolicyDescription = d.scalar("PolicyDescription")
	if n := utf8.RuneCountInString(p.PolicyDescription); n > 512 {
		d.fail("PolicyDescription: %d characters; at most 512 allowed", n)
	}

	p.PolicyType = d.scalar("PolicyType")
	if p.PolicyType == "" {
		p.PolicyType = string(types.PolicyTypeBackupPolicy)
	}
	if allowed := types.PolicyType("").Values(); !slices.Contains(allowed, types.PolicyType(p.PolicyType)) {
		names := make([]string, len(allowed))
		for i, a := range allowed {
			names[i] = string(a)
		}
		d.fail("PolicyType: %q is not an Organizations policy type; allowed: %s", p.PolicyType, strings.Join(names, ", "))
	}
}

// regions reads PolicyRegions and its operator; only backup policies have
// Regions to set.
func (d *decoder) regions(p *Properties) {
	p.Regions = d.list("PolicyRegions")
	for i, r := range p.Regions {
		if !regionPattern.MatchString(r) {
			d.fail("PolicyRegions[%d]: %q is not a Region code such as us-east-1", i, r)
		}
	}
	p.RegionsOperator = d.scalar("PolicyRegionsOperator")
	if p.RegionsOperator == "" {
		p.RegionsOperator = backuppolicy.OpAppend
	}
	if p.RegionsOperator != backuppolicy.OpAppend && p.RegionsOperator != backuppolicy.OpAssign {
		d.fail("PolicyRegionsOperator: %q; allowed: %s, %s", p.RegionsOperator, backuppolicy.OpAppend, backuppolicy.OpAssign)
	}
	if len(p.Regions) > 0 && p.PolicyType != string(types.PolicyTypeBackupPolicy) {
		d.fail("PolicyRegions: applies only to BACKUP_POLICY policies, not %s", p.PolicyType)
	}
}

// targets reads PolicyTargets: roots, OUs and accounts, each once, in the
// order written.
func (d *decoder) targets() []string {
	var targets []string
	seen := map[string]bool{}
	for i, t := range d.list("PolicyTargets") {
		if !rootPattern.MatchString(t) && !ouPattern.MatchString(t) && !accountPattern.MatchString(t) {
			d.fail("PolicyTargets[%d]: %q is not a root ID (r-…), an OU ID (ou-…-…) or a 12-digit account ID", i, t)
			continue
		}
		if !seen[t] {
			seen[t] = true
			targets = append(targets, t)
		}
	}
	return targets
}

// flag reads a switch property (AdoptExistingPolicy, EnablePolicyType):
// "true" or "false" (default).
func (d *decoder) flag(name string) bool {
	switch v := d.scalar(name); v {
	case "true", "false", "":
		return v == "true"
	default:
		d.fail("%s: %q; allowed: \"true\", \"false\"", name, v)
		return false
	}
}

// unknownProperties rejects every property the resource does not read (a
// misspelt PolicyTarget would otherwise silently attach nothing), naming
// the known property it most likely means.
func (d *decoder) unknownProperties() {
	var allowed []string
	for _, k := range knownProperties {
		if !slices.Contains(cloudFormationProperties, k) {
			allowed = append(allowed, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(d.props)) {
		if slices.Contains(knownProperties, k) {
			continue
		}
		if s := closestProperty(k); s != "" {
			d.meant = append(d.meant, s)
			d.fail("%s: unknown property; did you mean %s? allowed: %s", k, s, strings.Join(allowed, ", "))
		} else {
			d.fail("%s: unknown property; allowed: %s", k, strings.Join(allowed, ", "))
		}
	}
	if _, ok := d.props["UpdateToken"]; ok {
		d.scalar("UpdateToken") // any string; only its type is checked
	}
}

// closestProperty returns the known property name meant by an unknown one,
// or "": the same name in other case first, then the nearest by edit
// distance (ignoring case) within a third of the name's length (at least
// 1, at most 3 edits), then a known name the unknown one ends (Targets
// for PolicyTargets: the earlier solution's names all start with Policy).
func closestProperty(name string) string {
	lower := strings.ToLower(name)
	for _, k := range knownProperties {
		if strings.ToLower(k) == lower {
			return k
		}
	}
	n := utf8.RuneCountInString(name)
	best, bestDist := "", max(1, min(3, n/3))+1
	for _, k := range knownProperties {
		if dist := editDistance(lower, strings.ToLower(k)); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best != "" {
		return best
	}
	if n >= 4 {
		for _, k := range knownProperties {
			if strings.HasSuffix(strings.ToLower(k), lower) {
				return k
			}
		}
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// access reads where the policy lives: the management account, the role
// and the external ID, falling back to the function's defaults.
func (d *decoder) access(p *Properties, defaults Defaults) {
	p.OrgManagementAccount = d.scalar("OrgManagementAccount")
	if p.OrgManagementAccount == "" {
		p.OrgManagementAccount = defaults.OrgManagementAccount
	}
	if p.OrgManagementAccount != "" && !accountPattern.MatchString(p.OrgManagementAccount) {
		d.fail("OrgManagementAccount: %q is not a 12-digit account ID", p.OrgManagementAccount)
	}
	p.OrgAdminRoleName = d.scalar("OrgAdminRoleName")
	if p.OrgAdminRoleName == "" {
		p.OrgAdminRoleName = defaults.OrgAdminRoleName
	}
	if p.OrgAdminRoleName == "" {
		p.OrgAdminRoleName = defaultOrgAdminRoleName
	}
	if !roleNamePattern.MatchString(p.OrgAdminRoleName) {
		d.fail("OrgAdminRoleName: %q is not an IAM role name (letters, digits and +=,.@_- up to 64, optionally after a path)", p.OrgAdminRoleName)
	}
	p.ExternalID = d.scalar("ExternalId")
	if p.ExternalID == "" {
		p.ExternalID = defaults.ExternalID
	}
	if n := len(p.ExternalID); n > 0 && (n < 2 || n > 1224 || !externalIDPattern.MatchString(p.ExternalID)) {
		d.fail("ExternalId: must be 2 to 1224 characters of letters, digits and +=,.@:/_-")
	}
}

// content reads PolicyContent: a JSON string, an inline object, or
// {"S3": {"PolicyBucket", "PolicyKey", "VersionId"}}.
func (d *decoder) content() Content {
	v, ok := d.props["PolicyContent"]
	if !ok || v == nil {
		d.fail("PolicyContent: required: a JSON string, an object, or {\"S3\": {\"PolicyBucket\": …, \"PolicyKey\": …}}")
		return Content{}
	}
	switch x := v.(type) {
	case string:
		if strings.TrimSpace(x) == "" {
			d.fail("PolicyContent: must not be empty")
		}
		return Content{Inline: x}
	case map[string]any:
		if s3, ok := x["S3"]; ok && len(x) == 1 {
			return Content{S3: d.s3Location(s3)}
		}
		// An inline document (a YAML map in the template). CloudFormation
		// hands it over as an object whose key order is lost; the content
		// is written with sorted keys, and without json.Marshal's HTML
		// escaping: Variables are replaced in this text, and a
		// <central_vault_arn> placeholder written as \u003c…\u003e would
		// silently stay in the policy.
		var buf strings.Builder
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(x); err != nil {
			d.fail("PolicyContent: %v", err)
		}
		return Content{Inline: strings.TrimSuffix(buf.String(), "\n")}
	}
	d.fail("PolicyContent: must be a JSON string or an object, not %s", describeJSON(v))
	return Content{}
}

func (d *decoder) s3Location(v any) *S3Location {
	m, ok := v.(map[string]any)
	if !ok {
		d.fail("PolicyContent.S3: must be an object with PolicyBucket and PolicyKey")
		return nil
	}
	str := func(k string) string {
		s, _ := m[k].(string)
		return s
	}
	loc := &S3Location{Bucket: str("PolicyBucket"), Key: str("PolicyKey"), VersionID: str("VersionId")}
	for k := range m {
		if k != "PolicyBucket" && k != "PolicyKey" && k != "VersionId" {
			d.fail("PolicyContent.S3.%s: unknown key; allowed: PolicyBucket, PolicyKey, VersionId", k)
		}
	}
	if loc.Bucket == "" {
		d.fail("PolicyContent.S3.PolicyBucket: required")
	}
	if loc.Key == "" {
		d.fail("PolicyContent.S3.PolicyKey: required")
	}
	return loc
}

// variables reads a list of single-key maps [{"$placeholder": "value"}],
// one map, or either of those as a JSON string.
func (d *decoder) variables() []backuppolicy.Variable {
	v, ok := d.props["Variables"]
	if !ok || v == nil {
		return nil
	}
	if s, ok := v.(string); ok {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			d.fail("Variables: a string must hold JSON: %v", err)
			return nil
		}
	}
	var maps []map[string]any
	switch x := v.(type) {
	case map[string]any:
		maps = append(maps, x)
	case []any:
		for i, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				d.fail("Variables[%d]: must be a map of placeholder to value, not %s", i, describeJSON(e))
				continue
			}
			maps = append(maps, m)
		}
	default:
		d.fail("Variables: must be a list of {\"placeholder\": \"value\"} maps, not %s", describeJSON(v))
		return nil
	}
	var out []backuppolicy.Variable
	seen := map[string]bool{}
	for _, m := range maps {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			val, ok := m[k].(string)
			if !ok {
				d.fail("Variables[%q]: value must be a string, not %s", k, describeJSON(m[k]))
				continue
			}
			switch {
			case k == "":
				d.fail("Variables: placeholders must not be empty")
			case seen[k]:
				d.fail("Variables[%q]: placeholder given twice", k)
			default:
				seen[k] = true
				out = append(out, backuppolicy.Variable{Placeholder: k, Value: val})
			}
		}
	}
	return out
}

// tags reads [{"Key": k, "Value": v}] (or a {"k": "v"} map).
func (d *decoder) tags() map[string]string {
	v, ok := d.props["Tags"]
	if !ok || v == nil {
		return map[string]string{}
	}
	out := map[string]string{}
	add := func(where, k string, val any) {
		s, ok := val.(string)
		switch {
		case !ok:
			d.fail("%s: Value must be a string, not %s", where, describeJSON(val))
		case k == "" || utf8.RuneCountInString(k) > 128:
			d.fail("%s: Key must be 1 to 128 characters", where)
		case utf8.RuneCountInString(s) > 256:
			d.fail("%s: Value must be at most 256 characters", where)
		case awstag.Reserved(k):
			d.fail("%s: Key %q uses the reserved aws: prefix", where, k)
		case k == OwnerStackTag || k == OwnerLogicalIDTag:
			d.fail("%s: Key %q is the ownership tag this resource manages", where, k)
		case func() bool { _, dup := out[k]; return dup }():
			d.fail("%s: Key %q given twice", where, k)
		default:
			out[k] = s
		}
	}
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				d.fail("Tags[%d]: must be {\"Key\": …, \"Value\": …}", i)
				continue
			}
			k, _ := m["Key"].(string)
			add(fmt.Sprintf("Tags[%d]", i), k, m["Value"])
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			add(fmt.Sprintf("Tags[%q]", k), k, x[k])
		}
	default:
		d.fail("Tags: must be a list of {\"Key\": …, \"Value\": …}, not %s", describeJSON(v))
	}
	if len(out) > maxUserTags {
		d.fail("Tags: %d tags; at most %d allowed (a policy holds 50, two are ownership tags)", len(out), maxUserTags)
	}
	return out
}

// decodeAccess reads only where the policy lives, for requests that must
// reach it even when other properties no longer validate (Delete, and the
// old properties of an Update).
func decodeAccess(props map[string]any, defaults Defaults) (Properties, error) {
	d := &decoder{props: props}
	var p Properties
	p.PolicyType = d.scalar("PolicyType")
	if p.PolicyType == "" {
		p.PolicyType = string(types.PolicyTypeBackupPolicy)
	}
	d.access(&p, defaults)
	if len(d.problems) > 0 {
		return Properties{}, &PropertyError{Problems: d.problems}
	}
	return p, nil
}
