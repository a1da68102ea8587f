package orgpolicy

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"

	"github.com/backup-as-code/orgbackup/internal/textdiff"
)

// DriftKind names how a policy differs from the resource that declares it
// (issue: drift detection; CloudFormation's own drift detection does not
// cover custom resources).
type DriftKind string

// Drift kinds, per resource.
const (
	// DriftInSync: the policy is as declared.
	DriftInSync DriftKind = "in-sync"
	// DriftContent: the document, name or description was changed.
	DriftContent DriftKind = "content-drift"
	// DriftTargets: targets attached or detached out of band.
	DriftTargets DriftKind = "targets-drift"
	// DriftTags: tags added, changed or removed out of band.
	DriftTags DriftKind = "tags-drift"
	// DriftMissing: the policy was deleted out of band.
	DriftMissing DriftKind = "missing"
)

// ResourceDrift is how one declared policy differs from the organization.
// It is computed from the same plan the next Update would execute (newPlan),
// so what drift reports is what a deploy would change back.
type ResourceDrift struct {
	LogicalID, PolicyID string
	Kinds               []DriftKind
	// AttachedOutOfBand are targets the policy has and the resource does
	// not declare; DetachedOutOfBand declared targets it lacks. Sorted.
	AttachedOutOfBand, DetachedOutOfBand []string
	// NameChange and DescriptionChange are [actual, declared] when they
	// differ.
	NameChange, DescriptionChange *[2]string
	// ContentDiff is the unified diff from the organization's document to
	// the declared one, both pretty-printed; "" when they are the same.
	ContentDiff string
	// TagsChanged are the tags to set back (declared values);
	// TagsAdded the tags added out of band, which an Update removes.
	TagsChanged map[string]string
	TagsAdded   []string
}

// driftOf classifies the difference between a declared policy and the
// organization's (nil: it no longer exists).
func driftOf(logicalID string, d desiredPolicy, a *actualPolicy) ResourceDrift {
	r := ResourceDrift{LogicalID: logicalID}
	if a == nil {
		r.Kinds = []DriftKind{DriftMissing}
		return r
	}
	r.PolicyID = a.ID
	p := newPlan(d, *a)
	if p.Name != nil || p.Description != nil || p.Content != nil {
		r.Kinds = append(r.Kinds, DriftContent)
		if p.Name != nil {
			r.NameChange = &[2]string{a.Name, d.Name}
		}
		if p.Description != nil {
			r.DescriptionChange = &[2]string{a.Description, d.Description}
		}
		if p.Content != nil {
			r.ContentDiff = textdiff.Unified("organization", "template", pretty(a.Content), pretty(d.Content))
		}
	}
	if len(p.Attach) > 0 || len(p.Detach) > 0 {
		r.Kinds = append(r.Kinds, DriftTargets)
		r.AttachedOutOfBand, r.DetachedOutOfBand = p.Detach, p.Attach
	}
	if len(p.SetTags) > 0 || len(p.RemoveTags) > 0 {
		r.Kinds = append(r.Kinds, DriftTags)
		r.TagsChanged, r.TagsAdded = maps.Clone(p.SetTags), slices.Clone(p.RemoveTags)
	}
	if len(r.Kinds) == 0 {
		r.Kinds = []DriftKind{DriftInSync}
	}
	return r
}

// pretty indents a JSON document for a readable diff; text that is not
// JSON (a document edited out of band into something else) stays as it is.
func pretty(doc string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(doc), "", "  "); err != nil {
		return doc + "\n"
	}
	return b.String() + "\n"
}
