package backuppolicy

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
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
			"ec2": container(map[string]*spec{"windows_vss": single, "WindowsVSS": single}),
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

// archivedKeys are spellings of earlier revisions of the syntax page that
// published examples still use, with the current key. They are accepted
// with a warning: policies written from those examples are deployed.
var archivedKeys = map[string]string{
	// awsdocs/aws-organizations-docs, orgs_manage_policies_backup_syntax.md
	// (archived), Example 1: "ec2": {"WindowsVSS": …}; AWS Backup's own
	// BackupOptions key is WindowsVSS too (API AdvancedBackupSetting).
	"WindowsVSS": "windows_vss",
}

// maxIssues bounds the report; past it the user has enough to fix first.
const maxIssues = 25

type validator struct {
	issues []Issue
}

func (v *validator) add(rule, path string, pos Position, format string, args ...any) {
	v.issues = append(v.issues, Issue{Path: path, Pos: pos, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) warn(rule, path string, pos Position, format string, args ...any) {
	v.issues = append(v.issues, Issue{Path: path, Pos: pos, Rule: rule, Severity: SeverityWarning, Message: fmt.Sprintf(format, args...)})
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
		v.add("type", "", root.Pos, "a backup policy must be a JSON object with a top-level \"plans\" key, not a %s", root.Kind)
	} else {
		if root.Get("plans") == nil {
			v.add("unknown-key", "", root.Pos, "a backup policy needs the top-level key \"plans\"")
		}
		v.walk(root, policySpec, "")
		v.semantics(root)
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
		v.add("operator", path, n.Pos, "set values through an operator: {\"%s\": %s}", OpAssign, n.Minify())
		return
	}
	if n.Kind != Object {
		v.add("type", path, n.Pos, "must be an object, not a %s", n.Kind)
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
			v.add("operator", path, m.KeyPos, "%s cannot set a whole section; set the keys inside it", m.Key)
		case strings.HasPrefix(m.Key, "@@"):
			v.add("operator", path, m.KeyPos, "unknown operator %q; allowed: %s, %s, %s, %s", m.Key, OpAssign, OpAppend, OpRemove, OpChildAllow)
		case s.entry != nil:
			if strings.TrimSpace(m.Key) == "" {
				v.add("unknown-key", path, m.KeyPos, "names must not be empty")
				continue
			}
			v.walk(m.Value, s.entry, child)
		default:
			sub := s.keys[m.Key]
			if sub == nil {
				if hint, ok := notInOrgPolicies[m.Key]; ok {
					rule := "unknown-key"
					if m.Key == "schedule_expression_timezone" {
						rule = "schedule-timezone"
					}
					v.add(rule, path, m.KeyPos, "%s", hint)
				} else {
					v.add("unknown-key", path, m.KeyPos, "unknown key %q; allowed: %s", m.Key, strings.Join(slices.Sorted(maps.Keys(s.keys)), ", "))
				}
				continue
			}
			if current, ok := archivedKeys[m.Key]; ok {
				v.warn("archived-key", path, m.KeyPos, "%s is the spelling of an earlier revision of the backup policy syntax; the current key is %s", m.Key, current)
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
	if len(n.Members) == 0 {
		// An element with neither a value operator nor a child control
		// sets nothing ("Backup policy syntax": values are set with
		// @@assign, @@append or @@remove).
		v.add("empty-leaf", path, n.Pos, "empty object sets nothing; set a value with {\"%s\": …} or remove the key", OpAssign)
		return
	}
	ops := 0
	for _, m := range n.Members {
		switch m.Key {
		case OpChildAllow:
			v.childControl(m.Value, join(path, m.Key))
		case OpAssign, OpAppend, OpRemove:
			ops++
			if ops > 1 {
				// No AWS page defines in which order several value
				// operators of one key apply.
				v.warn("operator", path, m.KeyPos, "several value operators on one key: AWS does not document the order they apply in; use one")
			}
			if !s.multi && m.Key != OpAssign {
				v.add("operator", path, m.KeyPos, "%s applies only to lists; use %s here", m.Key, OpAssign)
				continue
			}
			v.leafValue(m.Value, s.multi, join(path, m.Key))
		default:
			v.add("operator", path, m.KeyPos, "unexpected key %q; set a value with {\"%s\": …}", m.Key, OpAssign)
		}
	}
}

func (v *validator) leafValue(n *Node, multi bool, path string) {
	if multi {
		if n.Kind != Array {
			v.add("type", path, n.Pos, "must be a list of strings, not a %s", n.Kind)
			return
		}
		for _, e := range n.Elems {
			if e.Kind != String {
				v.add("type", path, e.Pos, "list elements must be strings, not a %s", e.Kind)
			}
		}
		return
	}
	switch n.Kind {
	case String, Number, Bool:
	default:
		v.add("type", path, n.Pos, "must be a string, number or boolean, not a %s", n.Kind)
	}
}

var childOperators = []string{"@@all", "@@none", OpAssign, OpAppend, OpRemove}

func (v *validator) childControl(n *Node, path string) {
	if n.Kind != Array || len(n.Elems) == 0 {
		v.add("child-control", path, n.Pos, "must be a non-empty list of %s", strings.Join(childOperators, ", "))
		return
	}
	for _, e := range n.Elems {
		if e.Kind != String || !slices.Contains(childOperators, e.Text) {
			v.add("child-control", path, e.Pos, "%s is not one of %s", e.Minify(), strings.Join(childOperators, ", "))
			continue
		}
		if (e.Text == "@@all" || e.Text == "@@none") && len(n.Elems) > 1 {
			v.add("child-control", path, e.Pos, "%s must be the only element", e.Text)
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
				v.add("copy-action-key", join(path, m.Key), m.KeyPos, "without target_backup_vault_arn the key is used as the vault's ARN, so it must be one (arn:…:backup:…:backup-vault:…)")
			}
			continue
		}
		arn := target.Get(OpAssign)
		if arn == nil || arn.Kind != String {
			continue
		}
		// "target_backup_vault_arn: Vault where AWS Backup stores an
		// additional copy" (copy_actions): a backup vault's ARN,
		// arn:PARTITION:backup:REGION:ACCOUNT:backup-vault:NAME (Service
		// Authorization Reference, AWS Backup resource types).
		if !vaultARN.MatchString(arn.Text) {
			v.add("copy-vault-arn", join(join(path, m.Key), "target_backup_vault_arn"), arn.Pos, "must be a backup vault ARN, arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME ($account and $region allowed), not %q", arn.Text)
			continue
		}
		switch {
		case strings.EqualFold(arn.Text, m.Key):
			// A difference in case only: without target_backup_vault_arn
			// AWS uses the key lower-cased as the ARN (copy_actions), so
			// the key's case carries no meaning (inferred: no page says
			// how AWS compares the two).
		case strings.HasPrefix(strings.ToLower(m.Key), "arn:"):
			// An ARN key naming another vault, e.g. the archived
			// example's "$account" key over a literal account's ARN.
			// Published examples do it, so it warns rather than fails
			// (that AWS then copies to target_backup_vault_arn is
			// inferred); a child policy changing this copy action must
			// repeat the same key.
			v.warn("copy-action-key", join(path, m.Key), m.KeyPos, "the copy action's key should be its target_backup_vault_arn %q: a child policy matches copy actions by key", arn.Text)
		default:
			v.add("copy-action-key", join(path, m.Key), m.KeyPos, "the copy action's key must be the ARN of its vault, %q", arn.Text)
		}
	}
}

// Rule-level checks of values set with @@assign (and @@append for lists).
// Absent keys are never required: child policies set only what they change.

var (
	// IAM role ARN in any partition, account literal or $account
	// (Organizations User Guide, "Backup policy syntax": iam_role_arn).
	iamRoleARN = regexp.MustCompile(`^arn:aws(-cn|-us-gov|-eusc|-iso[a-z-]*)?:iam::([0-9]{12}|\$account):role/[\w+=,.@/-]+$`)
	// Backup vault ARN of the logically air-gapped vault; AWS requires
	// the $region and $account placeholders there (same page,
	// target_logically_air_gapped_backup_vault_arn).
	vaultARN = regexp.MustCompile(`^arn:aws(-cn|-us-gov|-eusc|-iso[a-z-]*)?:backup:[^:]+:[^:]+:backup-vault:[A-Za-z0-9_.$-]+$`)
	variable = regexp.MustCompile(`\$[A-Za-z_][A-Za-z0-9_]*`)
)

// maxWindowMinutes is 100 years, the largest start or completion window
// (AWS Backup API Reference, BackupRuleInput.StartWindowMinutes).
const maxWindowMinutes = 52_560_000

// assigned returns the @@assign value of key in n, or nil.
func assigned(n *Node, key string) *Node { return n.Get(key).Get(OpAssign) }

// listValues returns the elements set with @@assign or @@append.
func listValues(n *Node) []*Node {
	var out []*Node
	for _, op := range []string{OpAssign, OpAppend} {
		if l := n.Get(op); l != nil && l.Kind == Array {
			out = append(out, l.Elems...)
		}
	}
	return out
}

// entries are the user-named members of a map, without operators.
func entries(n *Node) []Member {
	if n == nil || n.Kind != Object {
		return nil
	}
	var out []Member
	for _, m := range n.Members {
		if !strings.HasPrefix(m.Key, "@@") {
			out = append(out, m)
		}
	}
	return out
}

// integer reads a number written raw or as a string ("60" and 60: every
// AWS example writes strings).
func integer(n *Node) (int64, bool) {
	if n == nil || (n.Kind != Number && n.Kind != String) {
		return 0, false
	}
	i, err := strconv.ParseInt(strings.TrimSpace(n.Text), 10, 64)
	return i, err == nil
}

func boolean(n *Node) (value, ok bool) {
	switch {
	case n == nil:
		return false, false
	case n.Kind == Bool:
		return n.Bool, true
	case n.Kind == String && (strings.EqualFold(n.Text, "true") || strings.EqualFold(n.Text, "false")):
		// The syntax page itself writes "True" and "False"
		// (enable_continuous_backup), its examples "true"/"false".
		return strings.EqualFold(n.Text, "true"), true
	}
	return false, false
}

// number checks an integer value and returns it; ok is false when absent
// or invalid (already reported).
func (v *validator) number(rule string, n *Node, key, path string, lo, hi int64) (int64, bool) {
	val := assigned(n, key)
	if val == nil {
		return 0, false
	}
	p := join(path, key)
	i, ok := integer(val)
	if !ok {
		v.add(rule, p, val.Pos, "%s must be a whole number, not %s", key, val.Minify())
		return 0, false
	}
	if i < lo || i > hi {
		v.add(rule, p, val.Pos, "%s must be between %d and %d, not %d", key, lo, hi, i)
		return 0, false
	}
	return i, true
}

func (v *validator) semantics(root *Node) {
	// Organizations User Guide, "Quotas for AWS Organizations": backup
	// policies at most 10,000 characters.
	if err := CheckSize(root.Minify(), "BACKUP_POLICY"); err != nil {
		v.add("size", "", root.Pos, "%s", err.Error())
	}
	v.variables(root, "", "")
	for _, p := range entries(root.Get("plans")) {
		v.plan(p.Value, join("plans", p.Key))
	}
}

// selectionKindMessage: "There are two mutually exclusive elements: tags
// and resources" (Organizations User Guide, "Backup policy syntax and
// examples", Backup syntax: selections). A child policy cannot delete a
// section, so a document with both makes every effective plan invalid.
const selectionKindMessage = "a plan's selections use either tags or resources, not both (they are mutually exclusive); for tag conditions and resource types together, use resources with conditions"

// Quotas from the AWS Backup Developer Guide, "AWS Backup quotas", table
// "Policy quotas" (none adjustable): resource assignments per backup plan
// 100; tags in a resource selection 30; resource selections that use tags
// in a plan 10; backup plan rules in a plan 10; tags added to a recovery
// point 10; copy actions per backup rule 5; conditions in a resource
// assignment in a backup plan 30 (also "Limited to 30 conditions for each
// selection" on the Organizations syntax page).
const (
	maxSelections        = 100
	maxRules             = 10
	maxTagSelections     = 10
	maxTagsPerSelection  = 30
	maxConditions        = 30
	maxRecoveryPointTags = 10
	maxCopyActions       = 5
)

func (v *validator) plan(p *Node, path string) {
	if p.Kind != Object {
		return
	}
	if rules := p.Get("rules"); len(entries(rules)) > maxRules {
		v.add("quota-rules", join(path, "rules"), rules.Pos, "%d rules; AWS Backup allows at most %d rules in a backup plan", len(entries(rules)), maxRules)
	}
	for _, r := range entries(p.Get("rules")) {
		v.rule(r.Value, join(join(path, "rules"), r.Key))
	}
	for _, e := range listValues(p.Get("regions")) {
		v.region(e, join(path, "regions"))
	}
	sel := p.Get("selections")
	// Selections, not keys: a parent may lock the other kind with only a
	// child control operator, so that no child adds it.
	if len(entries(sel.Get("tags"))) > 0 && len(entries(sel.Get("resources"))) > 0 {
		v.add("selection-kind", join(path, "selections"), sel.Pos, "%s", selectionKindMessage)
	}
	if n := len(entries(sel.Get("tags"))) + len(entries(sel.Get("resources"))); n > maxSelections {
		v.add("quota-selections", join(path, "selections"), sel.Pos, "%d selections; AWS Backup allows at most %d resource assignments per backup plan", n, maxSelections)
	}
	if tags := sel.Get("tags"); len(entries(tags)) > maxTagSelections {
		v.add("quota-tag-selections", join(path, "selections.tags"), tags.Pos, "%d tag selections; AWS Backup allows at most %d selections that use tags in a backup plan", len(entries(tags)), maxTagSelections)
	}
	for _, kind := range []string{"tags", "resources"} {
		for _, s := range entries(sel.Get(kind)) {
			sp := join(path, "selections."+kind+"."+s.Key)
			v.roleARN(s.Value, "iam_role_arn", sp)
			if kind == "tags" {
				if vals := listValues(s.Value.Get("tag_value")); len(vals) > maxTagsPerSelection {
					v.add("quota-tags-per-selection", join(sp, "tag_value"), s.Value.Get("tag_value").Pos, "%d tag values; AWS Backup allows at most %d tags in a resource selection", len(vals), maxTagsPerSelection)
				}
			}
			conds := s.Value.Get("conditions")
			count := 0
			for _, op := range entries(conds) {
				count += len(entries(op.Value))
			}
			if count > maxConditions {
				v.add("conditions-count", join(sp, "conditions"), conds.Pos, "%d conditions; AWS Backup allows at most %d conditions in a resource assignment", count, maxConditions)
			}
		}
	}
	adv := p.Get("advanced_backup_settings")
	for _, key := range []string{"windows_vss", "WindowsVSS"} {
		v.enum(adv.Get("ec2"), key, join(path, "advanced_backup_settings.ec2"), "enabled", "disabled")
	}
	v.enum(adv.Get("s3"), "backup_acls", join(path, "advanced_backup_settings.s3"), "enabled", "disabled")
	v.enum(adv.Get("s3"), "backup_object_tags", join(path, "advanced_backup_settings.s3"), "enabled", "disabled")
	gd := p.Get("scan_settings").Get("GUARDDUTY")
	v.enumList(gd, "resource_types", join(path, "scan_settings.GUARDDUTY"), "EBS", "EC2", "S3", "ALL")
	v.roleARN(gd, "scanner_role_arn", join(path, "scan_settings.GUARDDUTY"))
}

func (v *validator) rule(r *Node, path string) {
	if r.Kind != Object {
		return
	}
	if val := assigned(r, "schedule_expression"); val != nil {
		if val.Kind != String {
			v.add("schedule-expression", join(path, "schedule_expression"), val.Pos, "must be a cron(...) string")
		} else if s, msg := checkSchedule(val.Text); msg != "" {
			v.add("schedule-expression", join(path, "schedule_expression"), val.Pos, "%s", msg)
		} else {
			p := join(path, "schedule_expression")
			if g := s.ShortestGap(); g > 0 && g < time.Hour {
				// AWS Backup's CreateBackupPlan answers "The interval
				// between backup jobs shouldn't be less than 60 minutes"
				// (reported by users; no documentation page states it).
				v.warn("schedule-expression", p, val.Pos, "runs every %d minutes; AWS Backup answers that backup jobs must not be less than 60 minutes apart", int(g.Minutes()))
			}
			for _, u := range s.Undocumented() {
				v.warn("schedule-expression", p, val.Pos, "%s: AWS Backup may refuse it", u)
			}
		}
	}
	// "If this value is included, it must be at least 60 minutes to avoid
	// errors" (AWS Backup API Reference, BackupRuleInput.StartWindowMinutes).
	start, hasStart := v.number("start-window", r, "start_backup_window_minutes", path, 60, maxWindowMinutes)
	done, hasDone := v.number("completion-window", r, "complete_backup_window_minutes", path, 1, maxWindowMinutes)
	// The completion window counts from the scheduled time and "does not
	// add additional time for StartWindowMinutes" (AWS Backup API
	// Reference, StartBackupJob CompleteWindowMinutes), so one that ends
	// within an hour of the start window leaves a late-starting job almost
	// no time. No AWS page says such a rule is refused, so this warns: the
	// policy manager must not refuse what AWS accepts.
	if hasStart && hasDone && done < start+60 {
		val := assigned(r, "complete_backup_window_minutes")
		v.warn("completion-window", join(path, "complete_backup_window_minutes"), val.Pos, "complete_backup_window_minutes (%d) must be at least 60 more than start_backup_window_minutes (%d)", done, start)
	}
	v.lifecycle(r.Get("lifecycle"), join(path, "lifecycle"))
	if on, ok := boolean(assigned(r, "enable_continuous_backup")); ok && on {
		// Like cold-storage-retention, a warning on one document (a child
		// policy may change the lifecycle) and an error in CheckEffective.
		lc := r.Get("lifecycle")
		if d, ok := integer(assigned(lc, "delete_after_days")); ok && d > maxContinuousDays {
			val := assigned(lc, "delete_after_days")
			v.warn("continuous-backup", join(path, "lifecycle.delete_after_days"), val.Pos, "%s; a child policy may still change it", continuousRetentionMessage(d))
		}
		if val := assigned(lc, "move_to_cold_storage_after_days"); val != nil {
			v.warn("continuous-backup", join(path, "lifecycle.move_to_cold_storage_after_days"), val.Pos, "%s; a child policy may still change it", continuousColdMessage)
		}
	} else if !ok {
		if val := assigned(r, "enable_continuous_backup"); val != nil {
			v.add("type", join(path, "enable_continuous_backup"), val.Pos, "must be true or false, not %s", val.Minify())
		}
	}
	if val := assigned(r, "target_logically_air_gapped_backup_vault_arn"); val != nil {
		p := join(path, "target_logically_air_gapped_backup_vault_arn")
		switch {
		case val.Kind != String || !vaultARN.MatchString(val.Text):
			v.add("air-gapped-vault-arn", p, val.Pos, "must be a backup vault ARN, arn:aws:backup:$region:$account:backup-vault:NAME")
		case !strings.Contains(val.Text, "$region") || !strings.Contains(val.Text, "$account"):
			v.add("air-gapped-vault-arn", p, val.Pos, "must use the $region and $account placeholders: arn:aws:backup:$region:$account:backup-vault:NAME")
		}
	}
	copies := r.Get("copy_actions")
	if n := len(entries(copies)); n > maxCopyActions {
		v.add("copy-actions-count", join(path, "copy_actions"), copies.Pos, "%d copy actions; AWS Backup allows at most %d per backup rule", n, maxCopyActions)
	}
	for _, c := range entries(copies) {
		v.lifecycle(c.Value.Get("lifecycle"), join(path, "copy_actions."+c.Key+".lifecycle"))
	}
	if tags := r.Get("recovery_point_tags"); len(entries(tags)) > maxRecoveryPointTags {
		v.add("quota-recovery-point-tags", join(path, "recovery_point_tags"), tags.Pos, "%d tags; AWS Backup allows at most %d tags added to a recovery point", len(entries(tags)), maxRecoveryPointTags)
	}
	v.enumList(r.Get("index_actions"), "resource_types", join(path, "index_actions"), "EBS", "S3")
	v.enum(r.Get("scan_actions").Get("GUARDDUTY"), "scan_mode", join(path, "scan_actions.GUARDDUTY"), "INCREMENTAL_SCAN", "FULL_SCAN")
}

// Continuous backups (point-in-time restore) keep at most 35 days
// (Organizations User Guide, "Backup policy syntax and examples",
// enable_continuous_backup: "PITR-enabled backups have 35-day maximum
// retention") and cannot move to cold storage (the archived revision of
// that page, awsdocs/aws-organizations-docs@8df18e7: continuous backup must
// be off when delete_after_days is over 35 or a cold storage move is set).
const maxContinuousDays = 35

const continuousColdMessage = "continuous backups cannot move to cold storage: the backup policy syntax requires enable_continuous_backup off with move_to_cold_storage_after_days"

func continuousRetentionMessage(days int64) string {
	return fmt.Sprintf("continuous backups are kept at most %d days (the backup policy syntax's maximum); delete_after_days is %d", maxContinuousDays, days)
}

// lifecycle: backups in cold storage stay at least 90 days, so deletion
// must come 90 days after the move (Organizations User Guide, "Backup
// policy syntax": lifecycle).
func (v *validator) lifecycle(lc *Node, path string) {
	if lc == nil || lc.Kind != Object {
		return
	}
	cold, hasCold := v.number("cold-storage-retention", lc, "move_to_cold_storage_after_days", path, 0, 1<<40)
	del, hasDel := v.number("cold-storage-retention", lc, "delete_after_days", path, 1, 1<<40)
	// Organizations accepts such a policy and a child policy may fix it
	// (the syntax page's Example 5 parent moves at 180 days and deletes at
	// 2, and its child corrects both), so on one document this warns;
	// CheckEffective reports it as an error on the effective policy.
	if hasCold && hasDel && del < cold+90 {
		val := assigned(lc, "delete_after_days")
		v.warn("cold-storage-retention", join(path, "delete_after_days"), val.Pos, "%s; a child policy may still change it", coldStorageMessage(del, cold))
	}
}

func coldStorageMessage(del, cold int64) string {
	return fmt.Sprintf("delete_after_days (%d) must be at least 90 more than move_to_cold_storage_after_days (%d): the backup policy syntax requires backups to stay in cold storage at least 90 days", del, cold)
}

func (v *validator) roleARN(n *Node, key, path string) {
	val := assigned(n, key)
	if val == nil {
		return
	}
	if val.Kind != String || !iamRoleARN.MatchString(val.Text) {
		v.add("iam-role-arn", join(path, key), val.Pos, "%s must be an IAM role ARN, arn:aws:iam::$account:role/NAME (or a 12-digit account), not %s", key, val.Minify())
	}
}

// enum checks single values; the allowed values are from the
// Organizations User Guide, "Backup policy syntax" (advanced_backup_settings,
// scan_actions). The s3 settings are those of the AWS Backup API
// (AdvancedBackupSetting BackupOptions: BackupACLs and BackupObjectTags,
// "enabled" or "disabled"), under the policy's snake_case names.
func (v *validator) enum(n *Node, key, path string, allowed ...string) {
	val := assigned(n, key)
	if val == nil {
		return
	}
	if val.Kind != String || !slices.Contains(allowed, val.Text) {
		v.add("enum", join(path, key), val.Pos, "%s must be one of %s, not %s", key, strings.Join(allowed, ", "), val.Minify())
	}
}

// enumList checks list values (index_actions and scan_settings
// resource_types, same page).
func (v *validator) enumList(n *Node, key, path string, allowed ...string) {
	for _, e := range listValues(n.Get(key)) {
		if e.Kind == String && !slices.Contains(allowed, e.Text) {
			v.add("enum", join(path, key), e.Pos, "%s values must be among %s, not %q", key, strings.Join(allowed, ", "), e.Text)
		}
	}
}

func (v *validator) region(e *Node, path string) {
	if e.Kind != String {
		return
	}
	switch {
	case !regionCode.MatchString(e.Text):
		v.add("region", path, e.Pos, "%q is not a Region code (like us-east-1)", e.Text)
	case !knownRegions[e.Text]:
		v.warn("region", path, e.Pos, "%q is not a Region this package knows; newer than this table?", e.Text)
	}
}

// arnKeys may hold $account: elements that can contain an ARN
// (Organizations User Guide, "Backup policy syntax": "You can use the
// $account variable only in elements that can contain an ARN"). $region
// is documented only for the air-gapped vault ARN.
var arnKeys = map[string]bool{
	"iam_role_arn": true, "scanner_role_arn": true, "target_backup_vault_arn": true,
	"target_logically_air_gapped_backup_vault_arn": true,
	"resource_types": true, "not_resource_types": true,
}

// variables walks every string; key is the nearest policy key above it
// (operators skipped), parent the one above that.
func (v *validator) variables(n *Node, key, path string) {
	switch n.Kind {
	case String:
		v.variablesIn(n.Text, n.Pos, key, path)
	case Array:
		for _, e := range n.Elems {
			v.variables(e, key, path)
		}
	case Object:
		for _, m := range n.Members {
			if strings.HasPrefix(m.Key, "@@") {
				v.variables(m.Value, key, path)
				continue
			}
			child := join(path, m.Key)
			if key == "copy_actions" {
				// The copy action's key is its vault ARN.
				v.variablesIn(m.Key, m.KeyPos, "target_backup_vault_arn", child)
			}
			v.variables(m.Value, m.Key, child)
		}
	}
}

func (v *validator) variablesIn(s string, pos Position, key, path string) {
	for _, name := range variable.FindAllString(s, -1) {
		switch {
		case name == "$account" && arnKeys[key]:
		case name == "$region" && key == "target_logically_air_gapped_backup_vault_arn":
		case name == "$account":
			v.add("variable-placement", path, pos, "$account is allowed only in elements that hold an ARN; AWS Backup does not substitute it here")
		case name == "$region":
			// Documented only for the air-gapped vault ARN; not documented
			// as refused elsewhere (this repo's own copy-action examples use
			// it), so only a warning.
			v.warn("variable-placement", path, pos, "$region is documented only in target_logically_air_gapped_backup_vault_arn; check AWS Backup substitutes it here")
		default:
			v.warn("unresolved-variable", path, pos, "%s is left in the policy: a Variable not substituted?", name)
		}
	}
}
