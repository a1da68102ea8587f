package orgpolicy

import (
	"maps"
	"slices"
	"strings"
)

// Ownership tags name the stack and logical resource that manage a policy.
// They let a retried Create adopt its own policy and keep this resource
// away from policies it did not create.
const (
	OwnerStackTag     = "backup-org-policy:stack-id"
	OwnerLogicalIDTag = "backup-org-policy:logical-id"
)

// policyOwner is the CloudFormation resource that manages a policy.
type policyOwner struct {
	StackID, LogicalID string
}

// Tags are the ownership tags of o.
func (o policyOwner) tags() map[string]string {
	return map[string]string{OwnerStackTag: o.StackID, OwnerLogicalIDTag: o.LogicalID}
}

func (o policyOwner) String() string { return "stack " + o.StackID + ", logical ID " + o.LogicalID }

// ownership tells who a policy's tags say owns it; known is false when the
// tags name no owner.
func ownership(tags map[string]string) (o policyOwner, known bool) {
	o = policyOwner{StackID: tags[OwnerStackTag], LogicalID: tags[OwnerLogicalIDTag]}
	return o, o.StackID != "" || o.LogicalID != ""
}

// desiredPolicy is the policy the properties describe.
type desiredPolicy struct {
	Name, Description, Type string
	// Content is the rendered, minified document.
	Content string
	// Targets are sorted and unique.
	Targets []string
	// Tags are the user's tags and the ownership tags.
	Tags map[string]string
	// TargetsAttribute says whether the response lists the targets
	// (PolicyTargets), decided before any write: only while the response
	// fits CloudFormation's limit.
	TargetsAttribute bool
}

// actualPolicy is a policy as Organizations has it.
type actualPolicy struct {
	ID, ARN, Name, Description, Type, Content string
	Targets                                   []string
	Tags                                      map[string]string
}

// policyPlan is what must change to turn the actual policy into the
// desired one.
// A nil field is left as it is.
type policyPlan struct {
	Name, Description, Content *string
	// Attach and Detach are sorted; attachments happen before detachments
	// so no target is uncovered in between.
	Attach, Detach []string
	// SetTags adds or changes tags; RemoveTags (sorted) removes them.
	SetTags    map[string]string
	RemoveTags []string
}

// newPlan compares desired and actual state. It is pure.
func newPlan(d desiredPolicy, a actualPolicy) policyPlan {
	var p policyPlan
	if d.Name != a.Name {
		p.Name = &d.Name
	}
	if d.Description != a.Description {
		p.Description = &d.Description
	}
	// The exact text is compared: what was sent is what is stored, and
	// ContentSha256 promises the text as sent.
	if d.Content != a.Content {
		p.Content = &d.Content
	}
	for _, t := range d.Targets {
		if !slices.Contains(a.Targets, t) {
			p.Attach = append(p.Attach, t)
		}
	}
	for _, t := range a.Targets {
		if !slices.Contains(d.Targets, t) {
			p.Detach = append(p.Detach, t)
		}
	}
	slices.Sort(p.Attach)
	slices.Sort(p.Detach)
	for k, v := range d.Tags {
		if old, ok := a.Tags[k]; !ok || old != v {
			if p.SetTags == nil {
				p.SetTags = map[string]string{}
			}
			p.SetTags[k] = v
		}
	}
	for k := range a.Tags {
		if _, ok := d.Tags[k]; !ok {
			p.RemoveTags = append(p.RemoveTags, k)
		}
	}
	slices.Sort(p.RemoveTags)
	return p
}

// Empty reports whether the plan changes nothing.
func (p policyPlan) empty() bool {
	return p.Name == nil && p.Description == nil && p.Content == nil &&
		len(p.Attach) == 0 && len(p.Detach) == 0 && len(p.SetTags) == 0 && len(p.RemoveTags) == 0
}

// Summary describes the plan for logs.
func (p policyPlan) summary() string {
	if p.empty() {
		return "no changes"
	}
	var parts []string
	if p.Name != nil {
		parts = append(parts, "rename to "+*p.Name)
	}
	if p.Description != nil {
		parts = append(parts, "update description")
	}
	if p.Content != nil {
		parts = append(parts, "update content")
	}
	if len(p.Attach) > 0 {
		parts = append(parts, "attach to "+strings.Join(p.Attach, ","))
	}
	if len(p.Detach) > 0 {
		parts = append(parts, "detach from "+strings.Join(p.Detach, ","))
	}
	if len(p.SetTags) > 0 {
		parts = append(parts, "set tags "+strings.Join(slices.Sorted(maps.Keys(p.SetTags)), ","))
	}
	if len(p.RemoveTags) > 0 {
		parts = append(parts, "remove tags "+strings.Join(p.RemoveTags, ","))
	}
	return strings.Join(parts, "; ")
}
