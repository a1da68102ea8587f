package backuppolicy

import (
	"fmt"
	"slices"
	"strings"
)

// Attached is one policy attached to a node of the organization.
type Attached struct {
	// Name is the file or policy name, for messages.
	Name string
	Doc  *Node
}

// Level is one node of the path from the root to an account (the root, an
// OU, the account), with its policies in attachment order.
type Level struct {
	// Target is "r-…", "ou-…" or an account ID, for messages.
	Target   string
	Policies []Attached
}

// Ignored is an operator of a policy that had no effect, as AWS ignores it:
// a parent did not allow it, or an earlier policy of the same node already
// assigned the value.
type Ignored struct {
	Target, Policy, Path string
	Pos                  Position
	Operator, Reason     string
}

// EffectiveResult is the effective policy of the last level.
type EffectiveResult struct {
	// Policy is the operator-free document, as DescribeEffectivePolicy
	// shows it; always an object.
	Policy  *Node
	Ignored []Ignored
}

// operator sets for child control, as a bit mask.
type opSet uint8

const (
	allowAssign opSet = 1 << iota
	allowAppend
	allowRemove
	allowAll = allowAssign | allowAppend | allowRemove
)

func (s opSet) has(op string) bool {
	switch op {
	case OpAssign:
		return s&allowAssign != 0
	case OpAppend:
		return s&allowAppend != 0
	case OpRemove:
		return s&allowRemove != 0
	}
	return false
}

func (s opSet) String() string {
	if s == 0 {
		return "@@none"
	}
	var out []string
	for _, op := range []string{OpAssign, OpAppend, OpRemove} {
		if s.has(op) {
			out = append(out, op)
		}
	}
	return strings.Join(out, ", ")
}

// parseOpSet reads @@operators_allowed_for_child_policies; the validator
// reports malformed lists, here anything unknown allows nothing more.
func parseOpSet(n *Node) opSet {
	var s opSet
	for _, e := range n.Elems {
		switch e.Text {
		case "@@all":
			s |= allowAll
		case OpAssign:
			s |= allowAssign
		case OpAppend:
			s |= allowAppend
		case OpRemove:
			s |= allowRemove
		}
	}
	return s
}

// element is one key of the effective document being built.
type element struct {
	key string // the first spelling seen
	// children of a section, by lower-cased key, in the order added.
	children map[string]*element
	order    []string
	// value of a leaf; nil for a section.
	value *Node
	// allow is what descendants of the levels already merged may do here
	// and below: the intersection of every restriction placed on it.
	allow opSet
}

func newElement(key string) *element {
	return &element{key: key, children: map[string]*element{}, allow: allowAll}
}

func (e *element) child(key string) *element { return e.children[strings.ToLower(key)] }

func (e *element) add(key string) *element {
	c := newElement(key)
	e.children[strings.ToLower(key)] = c
	e.order = append(e.order, strings.ToLower(key))
	return c
}

// Effective computes the effective policy of the last of levels (the root
// first, then each OU on the path, then the account) for a management
// policy type: BACKUP_POLICY, TAG_POLICY or AISERVICES_OPT_OUT_POLICY.
//
// It follows the Organizations User Guide, "Inheritance for management
// policies" and "Policy operators":
//   - @@assign sets a value, replacing an inherited one (a whole list);
//     @@append adds list values after the inherited ones (once each);
//     @@remove removes list values. AI services opt-out policies allow only
//     @@assign.
//   - @@operators_allowed_for_child_policies on an element restricts what
//     policies of lower levels may do to it and below it. Restrictions of
//     several levels, and of several policies of one node, intersect; an
//     operator a child is not allowed is ignored, as AWS ignores it, and
//     listed in Ignored. A key a child adds that no parent has is not
//     bound by the restrictions above it, but adding it needs @@assign or
//     @@append allowed where it is added (the backup syntax page's
//     examples 3 and 4: ["@@append"] on plans lets children add plans, not
//     change the parent's).
//   - Policies attached to the same node apply in attachment order; where
//     two assign the same value, the first attached wins.
//   - Keys match without regard to case (the tag policy syntax: the policy
//     key "is not case sensitive"); the first spelling is kept, except that
//     backup plan, rule and selection names are lower-cased, as
//     describe-effective-policy shows them ("Viewing effective backup
//     policies", its CLI sample: pii_backup_plan, hourly, datatype). The
//     syntax page's hand-written effective policies lower-case rule and
//     selection names but keep the plans' ("PII_Backup_Plan"); this
//     follows the real output.
//   - Lists emptied by @@remove and sections left empty are dropped; the
//     output has no operators. Values keep the JSON type they were written
//     with.
func Effective(policyType string, levels []Level) (EffectiveResult, error) {
	switch policyType {
	case "BACKUP_POLICY", "TAG_POLICY", "AISERVICES_OPT_OUT_POLICY":
	default:
		return EffectiveResult{}, fmt.Errorf("effective policy: policy type %q; allowed: BACKUP_POLICY, TAG_POLICY, AISERVICES_OPT_OUT_POLICY", policyType)
	}
	m := &merger{policyType: policyType, root: newElement("")}
	for _, lvl := range levels {
		m.level = lvl.Target
		m.assigned = map[string]string{}
		m.restrict = map[*element]opSet{}
		for _, p := range lvl.Policies {
			m.policy = p.Name
			if p.Doc == nil || p.Doc.Kind != Object {
				return EffectiveResult{}, fmt.Errorf("effective policy: %s attached to %s: a policy must be a JSON object", p.Name, lvl.Target)
			}
			if err := m.section(p.Doc, m.root, "", allowAll); err != nil {
				return EffectiveResult{}, fmt.Errorf("effective policy: %s attached to %s: %w", p.Name, lvl.Target, err)
			}
		}
		// A node's restrictions bind the levels below it, not its own
		// other policies.
		for e, s := range m.restrict {
			e.allow &= s
		}
	}
	out := m.output(m.root)
	if out == nil {
		out = &Node{Kind: Object}
	}
	return EffectiveResult{Policy: out, Ignored: m.ignored}, nil
}

type merger struct {
	policyType    string
	root          *element
	level, policy string
	assigned      map[string]string // lower-cased path → policy of this level that assigned it
	restrict      map[*element]opSet
	ignored       []Ignored
}

func (m *merger) ignore(path string, pos Position, op, reason string) {
	m.ignored = append(m.ignored, Ignored{Target: m.level, Policy: m.policy, Path: path, Pos: pos, Operator: op, Reason: reason})
}

func (m *merger) addRestriction(e *element, n *Node) {
	s := parseOpSet(n)
	if prev, ok := m.restrict[e]; ok {
		s &= prev
	}
	m.restrict[e] = s
}

func isLeaf(n *Node) bool {
	return n.Kind == Object && (n.Get(OpAssign) != nil || n.Get(OpAppend) != nil || n.Get(OpRemove) != nil)
}

// section merges the members of src into dst; allowed is what the levels
// above allow at dst.
func (m *merger) section(src *Node, dst *element, path string, allowed opSet) error {
	for _, mem := range src.Members {
		if mem.Key == OpChildAllow {
			m.addRestriction(dst, mem.Value)
			continue
		}
		if strings.HasPrefix(mem.Key, "@@") {
			return fmt.Errorf("%s: operator %s cannot set a whole section", join(path, mem.Key), mem.Key)
		}
		child := join(path, mem.Key)
		if mem.Value.Kind != Object {
			return fmt.Errorf("%s: set values through an operator: {\"%s\": …}", child, OpAssign)
		}
		c := dst.child(mem.Key)
		childAllowed := allowed
		if c == nil {
			if !allowed.has(OpAssign) && !allowed.has(OpAppend) {
				m.ignore(child, mem.KeyPos, "", "adds a key where the parent policies allow only "+allowed.String())
				continue
			}
			c = dst.add(m.displayKey(path, mem.Key))
			// A key no parent has is not bound by their restrictions.
			childAllowed = allowAll
		} else {
			childAllowed &= c.allow
		}
		if isLeaf(mem.Value) {
			if c.value == nil && len(c.order) > 0 {
				m.ignore(child, mem.KeyPos, "", "is a section in the parent policies, not a value")
				continue
			}
			if err := m.leaf(mem.Value, c, child, childAllowed); err != nil {
				return err
			}
			continue
		}
		if c.value != nil {
			if ctl := mem.Value.Get(OpChildAllow); ctl != nil && len(mem.Value.Members) == 1 {
				m.addRestriction(c, ctl) // restricts an inherited value
				continue
			}
			m.ignore(child, mem.KeyPos, "", "is a value in the parent policies, not a section")
			continue
		}
		if err := m.section(mem.Value, c, child, childAllowed); err != nil {
			return err
		}
	}
	return nil
}

// leaf applies the value operators of src to the value e.
func (m *merger) leaf(src *Node, e *element, path string, allowed opSet) error {
	for _, mem := range src.Members {
		op := mem.Key
		if op == OpChildAllow {
			m.addRestriction(e, mem.Value)
			continue
		}
		if m.policyType == "AISERVICES_OPT_OUT_POLICY" && op != OpAssign {
			return fmt.Errorf("%s: %s: AI services opt-out policies allow only %s", path, op, OpAssign)
		}
		if op != OpAssign && op != OpAppend && op != OpRemove {
			return fmt.Errorf("%s: unexpected key %q beside a value operator", path, op)
		}
		if !allowed.has(op) {
			m.ignore(path, mem.KeyPos, op, "the parent policies allow only "+allowed.String())
			continue
		}
		v := mem.Value
		switch op {
		case OpAssign:
			lp := strings.ToLower(path)
			if first, ok := m.assigned[lp]; ok && first != m.policy {
				m.ignore(path, mem.KeyPos, op, "an earlier policy attached to the same node ("+first+") already assigned it")
				continue
			}
			m.assigned[lp] = m.policy
			e.value = clone(v)
		case OpAppend, OpRemove:
			if v.Kind != Array {
				return fmt.Errorf("%s: %s takes a list, not a %s", path, op, v.Kind)
			}
			cur := &Node{Kind: Array}
			if e.value != nil && e.value.Kind == Array {
				cur = e.value
			} else if e.value != nil {
				cur = &Node{Kind: Array, Elems: []*Node{e.value}}
			}
			if op == OpAppend {
				for _, x := range v.Elems {
					if !containsValue(cur.Elems, x) {
						cur.Elems = append(cur.Elems, clone(x))
					}
				}
			} else {
				cur.Elems = slices.DeleteFunc(slices.Clone(cur.Elems), func(x *Node) bool { return containsValue(v.Elems, x) })
			}
			e.value = cur
		}
	}
	// An element left without a value stays: it may carry a restriction
	// for the levels below (a parent that locks a key it does not set).
	// output drops it.
	return nil
}

func containsValue(list []*Node, x *Node) bool {
	return slices.ContainsFunc(list, func(y *Node) bool { return string(y.Minify()) == string(x.Minify()) })
}

func clone(n *Node) *Node {
	c := *n
	c.Members = nil
	c.Elems = nil
	for _, m := range n.Members {
		c.Members = append(c.Members, Member{Key: m.Key, KeyPos: m.KeyPos, Value: clone(m.Value)})
	}
	for _, e := range n.Elems {
		c.Elems = append(c.Elems, clone(e))
	}
	return &c
}

// displayKey lower-cases the names of backup plans, rules and selections,
// as the effective policy AWS shows does.
func (m *merger) displayKey(parent, key string) string {
	if m.policyType != "BACKUP_POLICY" {
		return key
	}
	segs := strings.Split(strings.ToLower(parent), ".")
	switch {
	case parent == "plans",
		len(segs) == 3 && segs[0] == "plans" && segs[2] == "rules",
		len(segs) == 4 && segs[0] == "plans" && segs[2] == "selections":
		return strings.ToLower(key)
	}
	return key
}

// output renders e without operators, dropping empty lists and sections.
func (m *merger) output(e *element) *Node {
	if e.value != nil {
		if e.value.Kind == Array && len(e.value.Elems) == 0 {
			return nil
		}
		return clone(e.value)
	}
	n := &Node{Kind: Object}
	for _, k := range e.order {
		c := e.children[k]
		if v := m.output(c); v != nil {
			n.Members = append(n.Members, Member{Key: c.key, Value: v})
		}
	}
	if len(n.Members) == 0 {
		return nil
	}
	return n
}

// CheckEffective reports what makes an effective backup policy unusable,
// which AWS reports per account as an invalid effective policy: each plan
// needs rules, regions and a selection; each rule a schedule and a target
// vault; a tags selection an IAM role, tag_key and tag_value; a resources
// selection an IAM role and resource_types (Organizations User Guide,
// "Backup policy syntax and examples", the Required column of each
// element's table); selections of one kind; and the lifecycle rules
// (cold-storage-retention, continuous-backup) that Check only warns about
// on a single document. Every issue is an error.
func CheckEffective(effective *Node) []Issue {
	var out []Issue
	missing := func(path, what string) {
		out = append(out, Issue{Path: path, Rule: "effective-incomplete", Message: "the effective policy has no " + what + "; AWS reports the plan as invalid in every account that inherits it"})
	}
	invalid := func(path, rule, msg string) {
		out = append(out, Issue{Path: path, Rule: rule, Message: "the effective policy: " + msg})
	}
	plans := effective.Get("plans")
	if plans == nil {
		return nil // no backup policy applies: nothing is invalid
	}
	for _, p := range plans.Members {
		path := "plans." + p.Key
		rules := p.Value.Get("rules")
		if rules == nil || len(rules.Members) == 0 {
			missing(path, "rules")
		}
		if r := p.Value.Get("regions"); r == nil || len(r.Elems) == 0 {
			missing(path, "regions")
		}
		if rules != nil {
			for _, r := range rules.Members {
				for _, k := range []string{"schedule_expression", "target_backup_vault_name"} {
					if r.Value.Get(k) == nil {
						missing(path+".rules."+r.Key, k)
					}
				}
			}
		}
		sel := p.Value.Get("selections")
		tags, res := sel.Get("tags"), sel.Get("resources")
		if (tags == nil || len(tags.Members) == 0) && (res == nil || len(res.Members) == 0) {
			missing(path, "selections (tags or resources)")
		}
		check := func(kind *Node, name string, keys ...string) {
			if kind == nil {
				return
			}
			for _, s := range kind.Members {
				for _, k := range keys {
					if s.Value.Get(k) == nil {
						missing(path+".selections."+name+"."+s.Key, k)
					}
				}
			}
		}
		check(tags, "tags", "iam_role_arn", "tag_key", "tag_value")
		check(res, "resources", "iam_role_arn", "resource_types")
		if tags != nil && res != nil {
			invalid(path+".selections", "selection-kind", selectionKindMessage)
		}
		if rules != nil {
			for _, r := range rules.Members {
				checkEffectiveRule(r.Value, path+".rules."+r.Key, invalid)
			}
		}
	}
	return out
}

// checkEffectiveRule reports the lifecycle rules that single documents
// only warn about, since a child policy may still change them: on the
// effective policy nothing changes any more.
func checkEffectiveRule(r *Node, path string, invalid func(path, rule, msg string)) {
	lifecycle := func(lc *Node, path string) {
		cold, hasCold := integer(lc.Get("move_to_cold_storage_after_days"))
		del, hasDel := integer(lc.Get("delete_after_days"))
		if hasCold && hasDel && del < cold+90 {
			invalid(path+".delete_after_days", "cold-storage-retention", coldStorageMessage(del, cold))
		}
	}
	lifecycle(r.Get("lifecycle"), path+".lifecycle")
	for _, c := range entries(r.Get("copy_actions")) {
		lifecycle(c.Value.Get("lifecycle"), path+".copy_actions."+c.Key+".lifecycle")
	}
	if on, ok := boolean(r.Get("enable_continuous_backup")); ok && on {
		lc := r.Get("lifecycle")
		if d, ok := integer(lc.Get("delete_after_days")); ok && d > maxContinuousDays {
			invalid(path+".lifecycle.delete_after_days", "continuous-backup", continuousRetentionMessage(d))
		}
		if lc.Get("move_to_cold_storage_after_days") != nil {
			invalid(path+".lifecycle.move_to_cold_storage_after_days", "continuous-backup", continuousColdMessage)
		}
	}
}
