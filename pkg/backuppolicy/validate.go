package backuppolicy

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Severity says whether an Issue stops a policy from being sent.
type Severity int

// Severities. The zero value is an error, so an Issue without one is never
// mistaken for advice.
const (
	// SeverityError: Organizations or AWS Backup refuses the policy, or the
	// plans it produces fail.
	SeverityError Severity = iota
	// SeverityWarning: allowed, but probably not what was meant, or not
	// checkable offline (a Region newer than this package's table).
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Issue is one problem in a policy document.
type Issue struct {
	// Path is where in the policy, e.g. plans.Daily.rules.Nightly.lifecycle.
	Path string
	// Pos is where in the text; zero for values the renderer made.
	Pos Position
	// Rule names the check that found the problem, a stable kebab-case
	// identifier (e.g. "unknown-key") that tools can filter on.
	Rule     string
	Severity Severity
	Message  string
}

func (i Issue) String() string {
	s := i.Message
	if i.Path != "" {
		s = i.Path + ": " + s
	}
	if i.Pos.Line > 0 {
		s += " (" + i.Pos.String() + ")"
	}
	return s
}

// ValidationError lists every problem found in a document, in text order.
type ValidationError struct {
	Issues []Issue
}

func (e *ValidationError) Error() string {
	if len(e.Issues) == 1 {
		return e.Issues[0].String()
	}
	parts := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		parts[i] = is.String()
	}
	return fmt.Sprintf("%d problems: %s", len(e.Issues), strings.Join(parts, "; "))
}

// spec describes what may appear at one level of a backup policy
// (Organizations User Guide, "Backup policy syntax").
type spec struct {
	// keys are the fixed keys of a container.
	keys map[string]*spec
	// entry, when set, makes this a map of user-named entries (plans,
	// rules, selections...) each described by entry.
	entry *spec
	// leaf values are set with value operators; multi leaves hold lists
	// and also accept @@append and @@remove.
	leaf, multi bool
}

func container(keys map[string]*spec) *spec { return &spec{keys: keys} }
func named(entry *spec) *spec               { return &spec{entry: entry} }

var (
	single = &spec{leaf: true}
	list   = &spec{leaf: true, multi: true}
)

var policySpec = func() *spec {
	lifecycle := container(map[string]*spec{
		"move_to_cold_storage_after_days":           single,
		"delete_after_days":                         single,
		"opt_in_to_archive_for_supported_resources": single,
	})
	tagPair := container(map[string]*spec{"tag_key": single, "tag_value": single})
	condition := named(container(map[string]*spec{"condition_key": single, "condition_value": single}))
	conditions := container(map[string]*spec{
		"string_equals": condition, "string_not_equals": condition,
		"string_like": condition, "string_not_like": condition,
	})
	rule := container(map[string]*spec{
		"schedule_expression":                          single,
		"target_backup_vault_name":                     single,
		"target_logically_air_gapped_backup_vault_arn": single,
		"start_backup_window_minutes":                  single,
		"complete_backup_window_minutes":               single,
		"enable_continuous_backup":                     single,
		"lifecycle":                                    lifecycle,
		"copy_actions": named(container(map[string]*spec{
			"target_backup_vault_arn": single,
			"lifecycle":               lifecycle,
		})),
		"recovery_point_tags": named(tagPair),
		"index_actions":       container(map[string]*spec{"resource_types": list}),
		"scan_actions": container(map[string]*spec{
			"GUARDDUTY": container(map[string]*spec{"scan_mode": single, "scanner_role_arn": single}),
		}),
	})
	plan := container(map[string]*spec{
		"rules":   named(rule),
		"regions": list,
		"selections": container(map[string]*spec{
			"tags": named(container(map[string]*spec{
				"iam_role_arn": single, "tag_key": single, "tag_value": list, "conditions": conditions,
			})),
			"resources": named(container(map[string]*spec{
				"iam_role_arn": single, "resource_types": list, "not_resource_types": list, "conditions": conditions,
			})),
		}),
		"advanced_backup_settings": container(map[string]*spec{
			"ec2": container(map[string]*spec{"windows_vss": single}),
			"s3":  container(map[string]*spec{"backup_acls": single, "backup_object_tags": single}),
		}),
		"backup_plan_tags": named(tagPair),
		"scan_settings": container(map[string]*spec{
			"GUARDDUTY": container(map[string]*spec{"resource_types": list, "scanner_role_arn": single}),
		}),
	})
	return container(map[string]*spec{"plans": named(plan)})
}()

// notInOrgPolicies are keys of AWS Backup plans that organization backup
// policies do not document; a user copying a plan is told so.
var notInOrgPolicies = map[string]string{
	"schedule_expression_timezone": "schedule_expression_timezone is an AWS Backup plan setting that organization backup policies do not support; write the cron expression in UTC",
	"to_delete_after_days":         "to_delete_after_days is a typo in older AWS examples; the key is delete_after_days",
}

// maxIssues bounds the report; past it the user has enough to fix first.
const maxIssues = 25

type validator struct {
	issues []Issue
}

func (v *validator) add(path string, pos Position, format string, args ...any) {
	v.issues = append(v.issues, Issue{Path: path, Pos: pos, Rule: "syntax", Message: fmt.Sprintf(format, args...)})
}

// Validate checks a backup policy document against the Organizations backup
// policy syntax and returns a *ValidationError listing its errors, or nil.
// Warnings do not fail validation; Check returns them too.
func Validate(root *Node) error {
	var errs []Issue
	for _, is := range Check(root) {
		if is.Severity == SeverityError {
			errs = append(errs, is)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	if len(errs) > maxIssues {
		errs = append(errs[:maxIssues], Issue{Rule: "too-many-issues", Message: "further problems not listed"})
	}
	return &ValidationError{Issues: errs}
}

// Check checks a backup policy document against the Organizations backup
// policy syntax: the keys allowed at each level, value and child control
// operators, and that each copy action's key is its target vault ARN. It
// returns every error and warning, each with its path and position, in
// text order.
func Check(root *Node) []Issue {
	v := &validator{}
	if root.Kind != Object {
		v.add("", root.Pos, "a backup policy must be a JSON object with a top-level \"plans\" key, not a %s", root.Kind)
	} else {
		if root.Get("plans") == nil {
			v.add("", root.Pos, "a backup policy needs the top-level key \"plans\"")
		}
		v.walk(root, policySpec, "")
	}
	slices.SortStableFunc(v.issues, func(a, b Issue) int { return a.Pos.Offset - b.Pos.Offset })
	return v.issues
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (v *validator) walk(n *Node, s *spec, path string) {
	if n.Kind != Object && s.leaf {
		v.add(path, n.Pos, "set values through an operator: {\"%s\": %s}", OpAssign, n.Minify())
		return
	}
	if n.Kind != Object {
		v.add(path, n.Pos, "must be an object, not a %s", n.Kind)
		return
	}
	if s.leaf {
		v.leaf(n, s, path)
		return
	}
	for _, m := range n.Members {
		child := join(path, m.Key)
		switch {
		case m.Key == OpChildAllow:
			v.childControl(m.Value, child)
		case m.Key == OpAssign || m.Key == OpAppend || m.Key == OpRemove:
			v.add(path, m.KeyPos, "%s cannot set a whole section; set the keys inside it", m.Key)
		case strings.HasPrefix(m.Key, "@@"):
			v.add(path, m.KeyPos, "unknown operator %q; allowed: %s, %s, %s, %s", m.Key, OpAssign, OpAppend, OpRemove, OpChildAllow)
		case s.entry != nil:
			if strings.TrimSpace(m.Key) == "" {
				v.add(path, m.KeyPos, "names must not be empty")
				continue
			}
			v.walk(m.Value, s.entry, child)
		default:
			sub := s.keys[m.Key]
			if sub == nil {
				if hint, ok := notInOrgPolicies[m.Key]; ok {
					v.add(path, m.KeyPos, "%s", hint)
				} else {
					v.add(path, m.KeyPos, "unknown key %q; allowed: %s", m.Key, strings.Join(slices.Sorted(maps.Keys(s.keys)), ", "))
				}
				continue
			}
			v.walk(m.Value, sub, child)
		}
	}
	if copies := n.Get("copy_actions"); copies != nil && copies.Kind == Object && s.keys["copy_actions"] != nil {
		v.copyActionKeys(copies, join(path, "copy_actions"))
	}
}

// leaf checks a value set through operators: {"@@assign": value}.
func (v *validator) leaf(n *Node, s *spec, path string) {
	ops := 0
	for _, m := range n.Members {
		switch m.Key {
		case OpChildAllow:
			v.childControl(m.Value, join(path, m.Key))
		case OpAssign, OpAppend, OpRemove:
			ops++
			if ops > 1 {
				v.add(path, m.KeyPos, "use one value operator per key, not several")
			}
			if !s.multi && m.Key != OpAssign {
				v.add(path, m.KeyPos, "%s applies only to lists; use %s here", m.Key, OpAssign)
				continue
			}
			v.leafValue(m.Value, s.multi, join(path, m.Key))
		default:
			v.add(path, m.KeyPos, "unexpected key %q; set a value with {\"%s\": …}", m.Key, OpAssign)
		}
	}
}

func (v *validator) leafValue(n *Node, multi bool, path string) {
	if multi {
		if n.Kind != Array {
			v.add(path, n.Pos, "must be a list of strings, not a %s", n.Kind)
			return
		}
		for _, e := range n.Elems {
			if e.Kind != String {
				v.add(path, e.Pos, "list elements must be strings, not a %s", e.Kind)
			}
		}
		return
	}
	switch n.Kind {
	case String, Number, Bool:
	default:
		v.add(path, n.Pos, "must be a string, number or boolean, not a %s", n.Kind)
	}
}

var childOperators = []string{"@@all", "@@none", OpAssign, OpAppend, OpRemove}

func (v *validator) childControl(n *Node, path string) {
	if n.Kind != Array || len(n.Elems) == 0 {
		v.add(path, n.Pos, "must be a non-empty list of %s", strings.Join(childOperators, ", "))
		return
	}
	for _, e := range n.Elems {
		if e.Kind != String || !slices.Contains(childOperators, e.Text) {
			v.add(path, e.Pos, "%s is not one of %s", e.Minify(), strings.Join(childOperators, ", "))
			continue
		}
		if (e.Text == "@@all" || e.Text == "@@none") && len(n.Elems) > 1 {
			v.add(path, e.Pos, "%s must be the only element", e.Text)
		}
	}
}

// copyActionKeys enforces the rule that "the key name must be the Amazon
// Resource Name (ARN) of the backup vault" of each copy action. Its
// target_backup_vault_arn is optional: when it is absent AWS uses the key,
// lower-cased, as the ARN, which lets a child policy change only the
// lifecycle of a copy action it inherits (Organizations User Guide, "Backup
// policy syntax and examples", copy_actions). So the key must equal the ARN
// only when the ARN is given.
func (v *validator) copyActionKeys(copies *Node, path string) {
	for _, m := range copies.Members {
		if strings.HasPrefix(m.Key, "@@") || m.Value.Kind != Object {
			continue
		}
		target := m.Value.Get("target_backup_vault_arn")
		if target == nil {
			if !strings.HasPrefix(strings.ToLower(m.Key), "arn:") {
				v.add(join(path, m.Key), m.KeyPos, "without target_backup_vault_arn the key is used as the vault's ARN, so it must be one (arn:…:backup:…:backup-vault:…)")
			}
			continue
		}
		arn := target.Get(OpAssign)
		if arn == nil || arn.Kind != String {
			continue
		}
		if arn.Text != m.Key {
			v.add(join(path, m.Key), m.KeyPos, "the copy action's key must equal its target_backup_vault_arn %q", arn.Text)
		}
	}
}
