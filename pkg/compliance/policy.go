package compliance

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
)

// The parts of an effective backup policy the controls look at (AWS
// Organizations User Guide, "Backup policy syntax and examples"). An
// effective policy has no operators; numbers may be JSON strings ("35"),
// as describe-effective-policy prints them, or JSON numbers.

type plan struct {
	name     string
	regions  []string
	rules    []rule
	sels     []selection
	planTags map[string]string // backup_plan_tags: tag_key -> tag_value
}

type rule struct {
	plan, name string
	schedule   *backuppolicy.Node
	// retention is delete_after_days; 0 when absent: kept until deleted.
	retention retention
	copies    []copyAction
}

type retention struct {
	days int
	path string
	err  error // not a whole number
}

// forever reports whether the recovery points never expire.
func (r retention) forever() bool { return r.days == 0 && r.err == nil }

type copyAction struct {
	vault     string // target_backup_vault_arn, or the copy action's key
	retention retention
	path      string
}

type selection struct {
	kind, name string // kind "tags" or "resources"
	// tags selections
	tagKey    string
	tagValues []string
	// resources selections
	resourceTypes, notResourceTypes []string
	conditions                      []condition
}

// condition is one entry of a resources selection's conditions:
// string_equals, string_not_equals, string_like or string_not_like.
type condition struct{ op, key, value string }

func path(parts ...string) string { return strings.Join(parts, ".") }

// readPolicy reads the plans of an effective policy, in document order.
func readPolicy(root *backuppolicy.Node) []plan {
	var out []plan
	plans := root.Get("plans")
	if plans == nil || plans.Kind != backuppolicy.Object {
		return nil
	}
	for _, pm := range plans.Members {
		p := plan{name: pm.Key, regions: texts(pm.Value.Get("regions")), planTags: map[string]string{}}
		if rules := pm.Value.Get("rules"); rules != nil {
			for _, rm := range rules.Members {
				p.rules = append(p.rules, readRule(pm.Key, rm.Key, rm.Value))
			}
		}
		sels := pm.Value.Get("selections")
		for _, kind := range []string{"tags", "resources"} {
			group := sels.Get(kind)
			if group == nil {
				continue
			}
			for _, sm := range group.Members {
				p.sels = append(p.sels, readSelection(kind, sm.Key, sm.Value))
			}
		}
		if tags := pm.Value.Get("backup_plan_tags"); tags != nil {
			for _, tm := range tags.Members {
				p.planTags[text(tm.Value.Get("tag_key"))] = text(tm.Value.Get("tag_value"))
			}
		}
		out = append(out, p)
	}
	return out
}

func readRule(planName, name string, n *backuppolicy.Node) rule {
	base := path("plans", planName, "rules", name)
	r := rule{plan: planName, name: name, schedule: n.Get("schedule_expression")}
	r.retention = readRetention(n.Get("lifecycle"), path(base, "lifecycle", "delete_after_days"))
	if copies := n.Get("copy_actions"); copies != nil {
		for _, cm := range copies.Members {
			c := copyAction{vault: cm.Key, path: path(base, "copy_actions", cm.Key)}
			if v := text(cm.Value.Get("target_backup_vault_arn")); v != "" {
				c.vault = v
			}
			c.retention = readRetention(cm.Value.Get("lifecycle"), path(c.path, "lifecycle", "delete_after_days"))
			r.copies = append(r.copies, c)
		}
	}
	return r
}

func readRetention(lifecycle *backuppolicy.Node, at string) retention {
	r := retention{path: at}
	v := lifecycle.Get("delete_after_days")
	if v == nil {
		return r
	}
	n, err := strconv.Atoi(strings.TrimSpace(v.Text))
	if (v.Kind != backuppolicy.String && v.Kind != backuppolicy.Number) || err != nil || n < 1 {
		r.err = fmt.Errorf("delete_after_days is %s, not a whole number of days", v.Minify())
		return r
	}
	r.days = n
	return r
}

func readSelection(kind, name string, n *backuppolicy.Node) selection {
	s := selection{kind: kind, name: name}
	if kind == "tags" {
		s.tagKey = text(n.Get("tag_key"))
		s.tagValues = texts(n.Get("tag_value"))
		return s
	}
	s.resourceTypes = texts(n.Get("resource_types"))
	s.notResourceTypes = texts(n.Get("not_resource_types"))
	if conds := n.Get("conditions"); conds != nil {
		for _, om := range conds.Members {
			for _, cm := range om.Value.Members {
				s.conditions = append(s.conditions, condition{
					op: om.Key, key: text(cm.Value.Get("condition_key")), value: text(cm.Value.Get("condition_value")),
				})
			}
		}
	}
	return s
}

// text is a string or number's text, "" for anything else.
func text(n *backuppolicy.Node) string {
	if n == nil || (n.Kind != backuppolicy.String && n.Kind != backuppolicy.Number) {
		return ""
	}
	return n.Text
}

// texts reads a list of strings; a single string is a list of one.
func texts(n *backuppolicy.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind != backuppolicy.Array {
		if s := text(n); s != "" {
			return []string{s}
		}
		return nil
	}
	var out []string
	for _, e := range n.Elems {
		if s := text(e); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// PlanRegions are the Regions the plans of an effective policy run in,
// sorted, each once: where a framework evaluates them.
func PlanRegions(effective *backuppolicy.Node) []string {
	var out []string
	for _, p := range readPolicy(effective) {
		out = append(out, p.regions...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
