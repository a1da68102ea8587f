package compliance

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/backup-as-code/orgbackup/internal/cfntemplate"
	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
)

// Control is one control of a Backup Audit Manager framework.
type Control struct {
	// Name is the ControlName, e.g. BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK.
	Name string
	// Parameters are the ControlInputParameters as written; a parameter
	// left out takes its documented default when evaluated.
	Parameters map[string]string
	Scope      Scope
	// Source is where the control was read, "file:line", with the
	// framework's logical ID for a template.
	Source string
	// Regions are the Regions the framework has this control in, when it
	// differs by Region (a template's conditions on AWS::Region); nil:
	// every Region. A framework is deployed per Region and evaluates that
	// Region's resources, so the cross-Region control checks only these.
	Regions []string
}

// Scope is a control's ControlScope (AWS Backup API Reference,
// "ControlScope"); empty, the control applies to every resource.
type Scope struct {
	// ResourceTypes are ComplianceResourceTypes names such as "EBS" or "RDS".
	ResourceTypes []string
	// Tags is the tag key and value (at most one pair; the value may be
	// empty) of the resources in scope.
	Tags map[string]string
	// ResourceIDs are ComplianceResourceIds.
	ResourceIDs []string
}

// Control names (AWS Backup Developer Guide, "Choosing your controls" and
// "Creating frameworks using the AWS Backup API").
const (
	ProtectedByBackupPlan         = "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN"
	PlanMinFrequencyAndRetention  = "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK"
	RecoveryPointMinimumRetention = "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK"
	ProtectedByCrossRegion        = "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION"
	ProtectedByCrossAccount       = "BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT"
	RecoveryPointEncrypted        = "BACKUP_RECOVERY_POINT_ENCRYPTED"
	RecoveryPointDeletionDisabled = "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED"
	LastRecoveryPointCreated      = "BACKUP_LAST_RECOVERY_POINT_CREATED"
	ProtectedByVaultLock          = "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK"
	RestoreTimeMeetsTarget        = "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET"
)

// Control input parameters and their defaults (see parseParameters).
const (
	requiredFrequencyUnit         = "requiredFrequencyUnit"
	requiredFrequencyValue        = "requiredFrequencyValue"
	requiredRetentionDays         = "requiredRetentionDays"
	crossRegionList               = "crossRegionList"
	crossAccountList              = "crossAccountList"
	defaultRequiredRetentionDays  = 35
	defaultRequiredFrequencyValue = 1
	defaultRequiredFrequencyUnit  = "days"
	maxRequiredFrequencyHours     = 24
	maxRequiredFrequencyDays      = 31
)

const (
	notEvaluableUnknown            = "not a control this tool knows"
	notEvaluableNeedsRecoveryPoint = "it looks at recovery points, which exist only once backups ran"
)

// evaluable lists the parameters of each control a policy decides;
// notEvaluable says why each other known control cannot be checked.
var (
	evaluable = map[string][]string{
		ProtectedByBackupPlan:         nil,
		PlanMinFrequencyAndRetention:  {requiredFrequencyUnit, requiredFrequencyValue, requiredRetentionDays},
		RecoveryPointMinimumRetention: {requiredRetentionDays},
		ProtectedByCrossRegion:        {crossRegionList},
		ProtectedByCrossAccount:       {crossAccountList},
	}
	notEvaluable = map[string]string{
		RecoveryPointEncrypted:        notEvaluableNeedsRecoveryPoint + " (encryption is the vault's)",
		RecoveryPointDeletionDisabled: "it reads the backup vaults' access policies, which a backup policy does not set",
		LastRecoveryPointCreated:      notEvaluableNeedsRecoveryPoint,
		ProtectedByVaultLock:          "AWS Backup Vault Lock is set on the vaults, not in a backup policy",
		RestoreTimeMeetsTarget:        "it measures restore jobs, which exist only in the account",
	}
)

// Evaluable reports whether Evaluate checks the control: whether a backup
// policy alone decides it.
func Evaluable(name string) bool {
	_, ok := evaluable[name]
	return ok
}

// WhyNotEvaluable says why a control cannot be checked from a policy, or
// returns "" for a control Evaluate checks.
func WhyNotEvaluable(name string) string {
	if Evaluable(name) {
		return ""
	}
	if why, ok := notEvaluable[name]; ok {
		return why
	}
	return notEvaluableUnknown
}

// ReadFramework reads the controls of a framework file: a CloudFormation
// template's AWS::Backup::Framework resources (all of them, in logical ID
// order), or a framework file of this package's own format (see the
// package documentation). For a template, params override the template's
// parameter defaults; pseudo parameters are given by name, e.g.
// "AWS::Region". The controls this package evaluates have their parameters
// and scope checked; the others are returned as written.
func ReadFramework(path string, params map[string]string) ([]Control, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading framework: %w", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("reading framework %s: %w", path, err)
	}
	if len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("reading framework %s: want a mapping with controls, or a CloudFormation template with Resources", path)
	}
	doc := root.Content[0]
	var controls []Control
	switch {
	case cfntemplate.MappingValue(doc, "Resources") != nil:
		controls, err = readTemplate(path, data, doc, params)
	case cfntemplate.MappingValue(doc, "controls") != nil:
		controls, err = readControlsFile(path, doc)
	default:
		err = fmt.Errorf("%s: want a top-level controls list, or a CloudFormation template with Resources", path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading framework: %w", err)
	}
	for _, c := range controls {
		if err := checkControl(c); err != nil {
			return nil, fmt.Errorf("reading framework: %s: %s: %w", c.Source, c.Name, err)
		}
	}
	return controls, nil
}

func readTemplate(path string, data []byte, doc *yaml.Node, params map[string]string) ([]Control, error) {
	t, err := cfntemplate.Parse(path, data)
	if err != nil {
		return nil, err
	}
	d := cfntemplate.Deployment{Parameters: map[string]string{}, Pseudo: map[string]string{}}
	for k, v := range params {
		if strings.HasPrefix(k, "AWS::") {
			d.Pseudo[k] = v
		} else {
			d.Parameters[k] = v
		}
	}
	var out []Control
	found := false
	for _, r := range t.Resources() {
		if r.Type != "AWS::Backup::Framework" {
			continue
		}
		found = true
		resNode := cfntemplate.MappingValue(cfntemplate.MappingValue(doc, "Resources"), r.LogicalID)
		where := func(n *yaml.Node) string {
			if n == nil {
				n = resNode
			}
			return fmt.Sprintf("%s:%d (%s)", path, n.Line, r.LogicalID)
		}
		if r.Condition != "" {
			on, err := t.Evaluate(map[string]any{"Condition": r.Condition}, d)
			if err != nil {
				return nil, fmt.Errorf("%s: Condition: %w", where(nil), err)
			}
			if on != true {
				continue
			}
		}
		listNode := cfntemplate.MappingValue(cfntemplate.MappingValue(resNode, "Properties"), "FrameworkControls")
		raw, ok := r.Properties["FrameworkControls"].([]any)
		if !ok {
			// A whole list from one function: evaluate it at once.
			v, err := t.Evaluate(r.Properties["FrameworkControls"], d)
			if err != nil {
				return nil, fmt.Errorf("%s: FrameworkControls: %w", where(listNode), err)
			}
			if raw, ok = v.([]any); !ok {
				return nil, fmt.Errorf("%s: FrameworkControls: want a list, got %T", where(listNode), v)
			}
			listNode = nil
		}
		for i, el := range raw {
			var elNode *yaml.Node
			if listNode != nil && listNode.Kind == yaml.SequenceNode && i < len(listNode.Content) {
				elNode = listNode.Content[i]
			}
			v, err := t.Evaluate(el, d)
			if err != nil {
				return nil, fmt.Errorf("%s: FrameworkControls[%d]: %w", where(elNode), i, err)
			}
			if v == nil {
				continue // AWS::NoValue: the control is left out
			}
			c, err := templateControl(v)
			if err != nil {
				return nil, fmt.Errorf("%s: FrameworkControls[%d]: %w", where(elNode), i, err)
			}
			c.Source = where(elNode)
			out = append(out, c)
		}
	}
	if !found {
		return nil, fmt.Errorf("%s: no AWS::Backup::Framework resource", path)
	}
	return out, nil
}

// templateControl reads one evaluated FrameworkControl (CloudFormation
// Template Reference, "AWS::Backup::Framework FrameworkControl").
func templateControl(v any) (Control, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Control{}, fmt.Errorf("want a mapping with ControlName, got %T", v)
	}
	for k := range m {
		if k != "ControlName" && k != "ControlInputParameters" && k != "ControlScope" {
			return Control{}, fmt.Errorf("unknown key %s (want ControlName, ControlInputParameters, ControlScope)", k)
		}
	}
	name, ok := m["ControlName"].(string)
	if !ok || name == "" {
		return Control{}, fmt.Errorf("ControlName: want a string")
	}
	c := Control{Name: name}
	if raw, ok := m["ControlInputParameters"]; ok {
		list, ok := raw.([]any)
		if !ok {
			return c, fmt.Errorf("ControlInputParameters: want a list of ParameterName, ParameterValue")
		}
		c.Parameters = map[string]string{}
		for i, p := range list {
			pm, _ := p.(map[string]any)
			pn, ok := pm["ParameterName"].(string)
			if !ok || pn == "" {
				return c, fmt.Errorf("ControlInputParameters[%d].ParameterName: want a string", i)
			}
			pv, ok := pm["ParameterValue"]
			if !ok || !scalar(pv) {
				return c, fmt.Errorf("ControlInputParameters[%d] (%s).ParameterValue: want a string", i, pn)
			}
			if _, dup := c.Parameters[pn]; dup {
				return c, fmt.Errorf("ControlInputParameters: %s given twice", pn)
			}
			c.Parameters[pn] = fmt.Sprint(pv)
		}
	}
	if raw, ok := m["ControlScope"]; ok {
		sm, ok := raw.(map[string]any)
		if !ok {
			return c, fmt.Errorf("ControlScope: want a mapping")
		}
		var err error
		for k, v := range sm {
			switch k {
			case "ComplianceResourceTypes":
				c.Scope.ResourceTypes, err = stringList(v)
			case "ComplianceResourceIds":
				c.Scope.ResourceIDs, err = stringList(v)
			case "Tags":
				c.Scope.Tags, err = templateTags(v)
			default:
				err = fmt.Errorf("unknown key (want ComplianceResourceTypes, ComplianceResourceIds, Tags)")
			}
			if err != nil {
				return c, fmt.Errorf("ControlScope.%s: %w", k, err)
			}
		}
	}
	return c, nil
}

func scalar(v any) bool {
	switch v.(type) {
	case string, bool, fmt.Stringer:
		return true
	}
	return false
}

func stringList(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list of strings")
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("want a list of strings, got %v", e)
		}
		out = append(out, s)
	}
	return out, nil
}

// templateTags reads ControlScope Tags: a list of Key/Value in
// CloudFormation, a map in the API.
func templateTags(v any) (map[string]string, error) {
	out := map[string]string{}
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			m, _ := e.(map[string]any)
			k, ok := m["Key"].(string)
			if !ok {
				return nil, fmt.Errorf("[%d].Key: want a string", i)
			}
			val := ""
			if raw, ok := m["Value"]; ok && raw != nil {
				val = fmt.Sprint(raw)
			}
			out[k] = val
		}
	case map[string]any:
		for k, e := range x {
			out[k] = fmt.Sprint(e)
		}
	default:
		return nil, fmt.Errorf("want a list of Key, Value")
	}
	return out, nil
}

// readControlsFile reads this package's own framework format.
func readControlsFile(path string, doc *yaml.Node) ([]Control, error) {
	at := func(n *yaml.Node) string { return fmt.Sprintf("%s:%d", path, n.Line) }
	if err := knownKeys(doc, "controls"); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	list := cfntemplate.MappingValue(doc, "controls")
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: controls: want a list", at(list))
	}
	var out []Control
	for i, item := range list.Content {
		fail := func(n *yaml.Node, format string, args ...any) error {
			return fmt.Errorf("%s: controls[%d]: %s", at(n), i, fmt.Sprintf(format, args...))
		}
		if item.Kind != yaml.MappingNode {
			return nil, fail(item, "want a mapping with name, parameters, scope")
		}
		if err := knownKeys(item, "name", "parameters", "scope"); err != nil {
			return nil, fail(item, "%v", err)
		}
		c := Control{Source: at(item)}
		name := cfntemplate.MappingValue(item, "name")
		if name == nil || name.Kind != yaml.ScalarNode || name.Value == "" {
			return nil, fail(item, "name: want a control name")
		}
		c.Name = name.Value
		if p := cfntemplate.MappingValue(item, "parameters"); p != nil {
			if err := p.Decode(&c.Parameters); err != nil || p.Kind != yaml.MappingNode {
				return nil, fail(p, "parameters: want a mapping of parameter names to values")
			}
		}
		if s := cfntemplate.MappingValue(item, "scope"); s != nil {
			if s.Kind != yaml.MappingNode {
				return nil, fail(s, "scope: want a mapping with resourceTypes, resourceIds, tags")
			}
			if err := knownKeys(s, "resourceTypes", "resourceIds", "tags"); err != nil {
				return nil, fail(s, "scope: %v", err)
			}
			for key, dst := range map[string]*[]string{"resourceTypes": &c.Scope.ResourceTypes, "resourceIds": &c.Scope.ResourceIDs} {
				if n := cfntemplate.MappingValue(s, key); n != nil {
					if err := n.Decode(dst); err != nil || n.Kind != yaml.SequenceNode {
						return nil, fail(n, "scope.%s: want a list of strings", key)
					}
				}
			}
			if n := cfntemplate.MappingValue(s, "tags"); n != nil {
				if err := n.Decode(&c.Scope.Tags); err != nil || n.Kind != yaml.MappingNode {
					return nil, fail(n, "scope.tags: want a mapping of tag key to value")
				}
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func knownKeys(n *yaml.Node, keys ...string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; !slices.Contains(keys, k) {
			return fmt.Errorf("unknown key %q (want %s)", k, strings.Join(keys, ", "))
		}
	}
	return nil
}

// checkControl checks the parameters and scope of a control Evaluate
// checks.
func checkControl(c Control) error {
	allowed, ok := evaluable[c.Name]
	if !ok {
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(c.Parameters)) {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return fmt.Errorf("parameter %s: the control takes no parameters", k)
			}
			return fmt.Errorf("parameter %s: unknown (want %s)", k, strings.Join(allowed, ", "))
		}
	}
	if _, err := parseParameters(c); err != nil {
		return err
	}
	return checkScope(c.Scope)
}

func checkScope(s Scope) error {
	for _, t := range s.ResourceTypes {
		if _, ok := resourceTypeARNs(t); !ok {
			return fmt.Errorf("scope resource type %q: unknown (want one of %s)", t, strings.Join(ResourceTypes(), ", "))
		}
	}
	// "A maximum of one key-value pair can be provided." (AWS Backup API
	// Reference, "ControlScope")
	if len(s.Tags) > 1 {
		return fmt.Errorf("scope tags: %d pairs, at most one is allowed", len(s.Tags))
	}
	return nil
}

// parameters are a control's input parameters with their defaults.
type parameters struct {
	frequencyUnit  string
	frequencyValue int
	retentionDays  int
	regions        []string
	accounts       []string
}

var accountID = regexp.MustCompile(`^\d{12}$`)

const maxCrossAccounts = 5

// parseParameters reads a control's parameters, with the defaults of the
// AWS Config managed rules behind the controls (AWS Config Developer
// Guide, backup-plan-min-frequency-and-min-retention-check:
// requiredFrequencyValue 1, requiredRetentionDays 35, requiredFrequencyUnit
// days, "Maximum of 24 for hours, 31 for days"; backup-recovery-point-
// minimum-retention-check: requiredRetentionDays 35).
func parseParameters(c Control) (parameters, error) {
	p := parameters{
		frequencyUnit:  defaultRequiredFrequencyUnit,
		frequencyValue: defaultRequiredFrequencyValue,
		retentionDays:  defaultRequiredRetentionDays,
	}
	get := func(k string) (string, bool) {
		v, ok := c.Parameters[k]
		return strings.TrimSpace(v), ok
	}
	positive := func(k string, dst *int) error {
		v, ok := get(k)
		if !ok {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("parameter %s: %q is not a whole number of at least 1", k, v)
		}
		*dst = n
		return nil
	}
	if v, ok := get(requiredFrequencyUnit); ok {
		if v != "hours" && v != "days" {
			return p, fmt.Errorf("parameter %s: %q (want hours or days)", requiredFrequencyUnit, v)
		}
		p.frequencyUnit = v
	}
	if err := positive(requiredFrequencyValue, &p.frequencyValue); err != nil {
		return p, err
	}
	if p.frequencyUnit == "hours" && p.frequencyValue > maxRequiredFrequencyHours {
		return p, fmt.Errorf("parameter %s: %d hours (at most %d)", requiredFrequencyValue, p.frequencyValue, maxRequiredFrequencyHours)
	}
	if p.frequencyUnit == "days" && p.frequencyValue > maxRequiredFrequencyDays {
		return p, fmt.Errorf("parameter %s: %d days (at most %d)", requiredFrequencyValue, p.frequencyValue, maxRequiredFrequencyDays)
	}
	if err := positive(requiredRetentionDays, &p.retentionDays); err != nil {
		return p, err
	}
	list := func(k string, valid func(string) bool, what string) ([]string, error) {
		v, ok := get(k)
		if !ok {
			return nil, nil
		}
		var out []string
		for e := range strings.SplitSeq(v, ",") {
			e = strings.TrimSpace(e)
			if !valid(e) {
				return nil, fmt.Errorf("parameter %s: %q is not %s (want a comma-separated list)", k, e, what)
			}
			out = append(out, e)
		}
		return out, nil
	}
	var err error
	if p.regions, err = list(crossRegionList, backuppolicy.IsRegionCode, "a Region code such as us-west-2"); err != nil {
		return p, err
	}
	if p.accounts, err = list(crossAccountList, accountID.MatchString, "a 12-digit account ID"); err != nil {
		return p, err
	}
	// "You can add up to 5 accounts for the control to evaluate." (AWS
	// Backup Developer Guide, "Controls and remediation", cross-account
	// backup copy control)
	if len(p.accounts) > maxCrossAccounts {
		return p, fmt.Errorf("parameter %s: %d accounts (at most %d)", crossAccountList, len(p.accounts), maxCrossAccounts)
	}
	return p, nil
}
