package orgpolicy

import (
	"maps"
	"slices"
	"strings"

	"github.com/backup-as-code/orgbackup/internal/textdiff"
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
	// EnableType says whether an attach that finds the policy type not
	// enabled in the root enables it (EnablePolicyType: "true").
	EnableType bool
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
	// EnableType is desiredPolicy.EnableType.
	EnableType bool
}

// newPlan compares desired and actual state. It is pure.
func newPlan(d desiredPolicy, a actualPolicy) policyPlan {
	p := policyPlan{EnableType: d.EnableType}
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

// Organizations write operations, as the call log and a deploy plan name
// them.
const (
	OpCreatePolicy  = "CreatePolicy"
	OpUpdatePolicy  = "UpdatePolicy"
	OpTagResource   = "TagResource"
	OpUntagResource = "UntagResource"
	OpAttachPolicy  = "AttachPolicy"
	OpDetachPolicy  = "DetachPolicy"
	OpDeletePolicy  = "DeletePolicy"
)

// Step is one write call, in the order the function makes it.
type Step struct {
	Operation string `json:"operation"`
	// PolicyID is the policy written; empty for CreatePolicy.
	PolicyID string `json:"policy_id,omitempty"`
	// Target is the root, OU or account of AttachPolicy and DetachPolicy.
	Target string `json:"target,omitempty"`
	// Tags are what TagResource sets; TagKeys what UntagResource removes.
	Tags    map[string]string `json:"tags,omitempty"`
	TagKeys []string          `json:"tag_keys,omitempty"`
	// Name and Description are [from, to] when UpdatePolicy changes them;
	// ContentDiff is UpdatePolicy's unified diff of the pretty-printed
	// documents, or CreatePolicy's whole document.
	Name        *[2]string `json:"name,omitempty"`
	Description *[2]string `json:"description,omitempty"`
	ContentDiff string     `json:"content_diff,omitempty"`
	// Cleanup marks a step CloudFormation asks for after the stack update
	// (the Delete of a replaced policy, in UPDATE_COMPLETE_CLEANUP_IN_PROGRESS).
	Cleanup bool `json:"cleanup,omitempty"`
}

// steps are the writes apply makes for p, in apply's order: the policy
// itself, its tags, new attachments, and detachments last so no target is
// left uncovered. apply executes exactly these, so a deploy plan built from
// them cannot disagree with the deploy.
func (p policyPlan) steps(a actualPolicy) []Step {
	var out []Step
	if p.Name != nil || p.Description != nil || p.Content != nil {
		s := Step{Operation: OpUpdatePolicy, PolicyID: a.ID}
		if p.Name != nil {
			s.Name = &[2]string{a.Name, *p.Name}
		}
		if p.Description != nil {
			s.Description = &[2]string{a.Description, *p.Description}
		}
		if p.Content != nil {
			s.ContentDiff = textdiff.Unified("organization", "template", pretty(a.Content), pretty(*p.Content))
		}
		out = append(out, s)
	}
	if len(p.SetTags) > 0 {
		out = append(out, Step{Operation: OpTagResource, PolicyID: a.ID, Tags: maps.Clone(p.SetTags)})
	}
	if len(p.RemoveTags) > 0 {
		out = append(out, Step{Operation: OpUntagResource, PolicyID: a.ID, TagKeys: slices.Clone(p.RemoveTags)})
	}
	for _, t := range p.Attach {
		out = append(out, Step{Operation: OpAttachPolicy, PolicyID: a.ID, Target: t})
	}
	for _, t := range p.Detach {
		out = append(out, Step{Operation: OpDetachPolicy, PolicyID: a.ID, Target: t})
	}
	return out
}

// createSteps are the writes of createPolicy for a policy that does not
// exist yet: CreatePolicy with the tags, then one AttachPolicy per target.
func createSteps(d desiredPolicy) []Step {
	out := []Step{{Operation: OpCreatePolicy, Name: &[2]string{"", d.Name}, Tags: maps.Clone(d.Tags), ContentDiff: pretty(d.Content)}}
	for _, t := range d.Targets {
		out = append(out, Step{Operation: OpAttachPolicy, Target: t})
	}
	return out
}

// deleteSteps are the writes of deletePolicy for a policy attached to
// targets: a DetachPolicy each, then DeletePolicy.
func deleteSteps(id string, targets []string) []Step {
	var out []Step
	for _, t := range targets {
		out = append(out, Step{Operation: OpDetachPolicy, PolicyID: id, Target: t})
	}
	return append(out, Step{Operation: OpDeletePolicy, PolicyID: id})
}
