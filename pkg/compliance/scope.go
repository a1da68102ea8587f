package compliance

import (
	"fmt"
	"slices"
	"strings"
)

// What a selection covers is judged offline, without the account's
// resources: a selection "can cover" a resource type when its
// resource_types include ARNs of that type and its not_resource_types do
// not exclude them all. A tags selection selects by tag across every
// resource type (AWS Organizations User Guide, "Backup policy syntax and
// examples", selections), so it can cover every type. A tag scope needs a
// selection that selects by that tag, so that every resource carrying it
// is selected.

// coversType reports whether a selection can select resources of the
// type whose ARN patterns are given.
func (s selection) coversType(arns []string) bool {
	if s.kind == "tags" {
		return true
	}
	for _, t := range arns {
		if s.includes(t) {
			return true
		}
	}
	return false
}

// includes reports whether the selection can select resources matching
// the ARN pattern p.
func (s selection) includes(p string) bool {
	in := slices.ContainsFunc(s.resourceTypes, func(r string) bool { return arnOverlap(normalizePartition(r), p) })
	out := slices.ContainsFunc(s.notResourceTypes, func(r string) bool { return arnCovers(normalizePartition(r), p) })
	return in && !out
}

// coversID reports whether the selection can select the resource with
// this ID (an ARN, or the ID that ends one, such as vol-0123).
func (s selection) coversID(id string) bool {
	if s.kind == "tags" {
		return true
	}
	p := id
	if !strings.HasPrefix(id, "arn:") {
		p = "*" + id
	}
	return s.includes(normalizePartition(p))
}

// selectsTag reports whether the selection selects every resource tagged
// key=value (value "" for any value): a tags selection on that key and
// value, or a resources selection of every resource type whose conditions
// that tag alone satisfies.
func (s selection) selectsTag(key, value string) bool {
	if s.kind == "tags" {
		return s.tagKey == key && (value == "" ||
			slices.ContainsFunc(s.tagValues, func(v string) bool { return covers(v, value) }))
	}
	if !slices.Contains(s.resourceTypes, "*") || len(s.notResourceTypes) > 0 {
		return false
	}
	for _, c := range s.conditions {
		if c.key != "aws:ResourceTag/"+key {
			return false
		}
		if value == "" {
			// Any value of the key: only a condition that any value meets.
			if c.op != "string_like" || c.value != "*" {
				return false
			}
			continue
		}
		// Conditions are ANDed (AWS Organizations User Guide, "Backup
		// policy syntax and examples": conditions).
		var ok bool
		switch c.op {
		case "string_equals":
			ok = c.value == value
		case "string_like":
			ok = covers(c.value, value)
		case "string_not_equals":
			ok = c.value != value
		case "string_not_like":
			ok = !covers(c.value, value)
		}
		if !ok {
			return false
		}
	}
	return true
}

// scopeItem is one thing a scope asks to be protected: a resource type
// (or every type), with the scope's tag and resource IDs.
type scopeItem struct {
	typeName string // "" for every type
	arns     []string
	tagKey   string
	tagValue string
	hasTag   bool
	ids      []string
}

func (it scopeItem) String() string {
	var parts []string
	if it.typeName != "" {
		parts = append(parts, fmt.Sprintf("%s resources (%s)", it.typeName, strings.Join(it.arns, ", ")))
	}
	if it.hasTag {
		if it.tagValue == "" {
			parts = append(parts, "resources tagged "+it.tagKey)
		} else {
			parts = append(parts, fmt.Sprintf("resources tagged %s=%s", it.tagKey, it.tagValue))
		}
	}
	if len(it.ids) > 0 {
		parts = append(parts, "resource "+strings.Join(it.ids, " or "))
	}
	if len(parts) == 0 {
		return "resources"
	}
	return strings.Join(parts, ", ")
}

// items splits a scope into the types it names (one item for no type).
func (s Scope) items() []scopeItem {
	base := scopeItem{ids: s.ResourceIDs}
	for k, v := range s.Tags {
		base.tagKey, base.tagValue, base.hasTag = k, v, true
	}
	if len(s.ResourceTypes) == 0 {
		return []scopeItem{base}
	}
	var out []scopeItem
	for _, t := range s.ResourceTypes {
		it := base
		it.typeName = t
		it.arns, _ = resourceTypeARNs(t)
		out = append(out, it)
	}
	return out
}

// selects reports whether the selection can protect the scope item.
func (s selection) selects(it scopeItem) bool {
	if it.typeName != "" && !s.coversType(it.arns) {
		return false
	}
	if it.hasTag && !s.selectsTag(it.tagKey, it.tagValue) {
		return false
	}
	if len(it.ids) > 0 && !slices.ContainsFunc(it.ids, s.coversID) {
		return false
	}
	return true
}

// inScope reports whether the plan selects some of the scope's resources.
func (p plan) inScope(s Scope) bool {
	for _, it := range s.items() {
		if slices.ContainsFunc(p.sels, func(sel selection) bool { return sel.selects(it) }) {
			return true
		}
	}
	return false
}
