package orgpolicy

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"

	"github.com/backup-as-code/orgbackup/internal/textdiff"
	"github.com/backup-as-code/orgbackup/pkg/awsclient"
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

// Declared is one Custom::BackupOrgPolicy resource of a template: its
// logical ID and its properties as CloudFormation sends them.
type Declared struct {
	LogicalID  string
	Properties map[string]any
}

// OwnedPolicy is a policy whose ownership tags name a stack and logical ID.
type OwnedPolicy struct {
	PolicyID, Name, Type string
	StackID, LogicalID   string
}

// DriftReport is the drift of a stack's declared policies.
type DriftReport struct {
	// Resources are the declared resources, in the order given.
	Resources []ResourceDrift
	// Undeclared are policies whose tags name the stack but a logical ID
	// it no longer declares: orphaned.
	Undeclared []OwnedPolicy
	// OtherStacks are policies owned by other stacks, whose existence
	// decides whether they are orphaned (sorted by stack, logical ID).
	OtherStacks []OwnedPolicy
}

// Drift compares the resources a stack declares with the organization,
// read-only: it renders each resource as an Update would (the same
// properties, content and ownership tags), reaches the organization as an
// Update would (OrgManagementAccount, role, external ID), and lists the
// policies of the declared types, matching them by ownership tags.
// Calls: pages of ListPolicies per type, one ListTagsForResource per
// policy, and DescribePolicy plus ListTargetsForPolicy pages per matched
// policy; never a write.
func (r *Resource) Drift(ctx context.Context, stackID string, declared []Declared) (DriftReport, error) {
	type group struct {
		access orgAccess
		props  Properties
		types  []string
	}
	var groups []*group
	desired := make([]desiredPolicy, len(declared))
	groupOf := make([]*group, len(declared))
	for i, dec := range declared {
		ev := cfn.Event{RequestType: cfn.RequestUpdate, StackID: stackID, LogicalResourceID: dec.LogicalID, ResourceProperties: dec.Properties}
		p, d, err := r.desired(ctx, ev)
		if err != nil {
			return DriftReport{}, fmt.Errorf("%s: %w", dec.LogicalID, err)
		}
		desired[i] = d
		a := access(p, stackID)
		idx := slices.IndexFunc(groups, func(g *group) bool { return g.access == a })
		if idx < 0 {
			groups = append(groups, &group{access: a, props: p})
			idx = len(groups) - 1
		}
		g := groups[idx]
		if !slices.Contains(g.types, d.Type) {
			g.types = append(g.types, d.Type)
		}
		groupOf[i] = g
	}
	rep := DriftReport{Resources: make([]ResourceDrift, len(declared))}
	found := make([]*actualPolicy, len(declared))
	for _, g := range groups {
		org, err := r.connector.Organizations(ctx, g.access)
		if err != nil {
			return DriftReport{}, fmt.Errorf("connecting to the organization: %w", awsclient.Short(err))
		}
		for _, typ := range g.types {
			pages := organizations.NewListPoliciesPaginator(org, &organizations.ListPoliciesInput{Filter: types.PolicyType(typ)})
			for pages.HasMorePages() {
				page, err := pages.NextPage(ctx)
				if err != nil {
					return DriftReport{}, fmt.Errorf("listing Organizations policies of type %s: %w", typ, awsclient.Short(err))
				}
				for _, s := range page.Policies {
					id := aws.ToString(s.Id)
					tags, err := findTags(ctx, org, id)
					if err != nil {
						return DriftReport{}, err
					}
					owner, known := ownership(tags)
					if !known {
						continue // not this project's
					}
					op := OwnedPolicy{PolicyID: id, Name: aws.ToString(s.Name), Type: typ, StackID: owner.StackID, LogicalID: owner.LogicalID}
					if owner.StackID != stackID {
						rep.OtherStacks = append(rep.OtherStacks, op)
						continue
					}
					i := slices.IndexFunc(declared, func(d Declared) bool { return d.LogicalID == owner.LogicalID })
					if i < 0 || groupOf[i] != g || desired[i].Type != typ {
						rep.Undeclared = append(rep.Undeclared, op)
						continue
					}
					a, err := describeWithTags(ctx, org, s, tags)
					if err != nil {
						return DriftReport{}, err
					}
					found[i] = &a
				}
			}
		}
	}
	for i, dec := range declared {
		rep.Resources[i] = driftOf(dec.LogicalID, desired[i], found[i])
	}
	slices.SortFunc(rep.OtherStacks, func(a, b OwnedPolicy) int {
		return cmp.Or(cmp.Compare(a.StackID, b.StackID), cmp.Compare(a.LogicalID, b.LogicalID), cmp.Compare(a.PolicyID, b.PolicyID))
	})
	return rep, nil
}

// describeWithTags reads a listed policy's content and targets; its tags
// were read already.
func describeWithTags(ctx context.Context, org organizationsAPI, s types.PolicySummary, tags map[string]string) (actualPolicy, error) {
	id := aws.ToString(s.Id)
	out, err := org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: s.Id})
	if err != nil {
		return actualPolicy{}, fmt.Errorf("describing Organizations policy (%s): %w", id, awsclient.Short(err))
	}
	ps := out.Policy.PolicySummary
	a := actualPolicy{
		ID: id, ARN: aws.ToString(ps.Arn), Name: aws.ToString(ps.Name), Description: aws.ToString(ps.Description),
		Type: string(ps.Type), Content: aws.ToString(out.Policy.Content), Tags: tags,
	}
	if a.Targets, err = findTargets(ctx, org, id); err != nil {
		return actualPolicy{}, err
	}
	return a, nil
}

// StackDescriber is the CloudFormation call the orphan check makes.
type StackDescriber interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// OrphanCheck is what the orphan check found for policies of other stacks.
type OrphanCheck struct {
	// Orphaned are the policies whose stack is gone.
	Orphaned []OwnedPolicy
	// Unchecked are the policies whose stack is in another account or
	// Region than the CloudFormation client's, which cannot see it.
	Unchecked []OwnedPolicy
}

// Orphans asks CloudFormation, once per distinct stack, whether the stacks
// named in the ownership tags of policies still exist. A stack is asked
// for by its unique ID, so that a deleted one is found: DescribeStacks
// shows it as DELETE_COMPLETE for 90 days, and answers ValidationError
// ("does not exist") after that (AWS CloudFormation API Reference,
// DescribeStacks). Both count as gone. account and region are the
// client's: a stack ID elsewhere is left unchecked.
func Orphans(ctx context.Context, cf StackDescriber, account, region string, policies []OwnedPolicy) (OrphanCheck, error) {
	var out OrphanCheck
	gone := map[string]bool{}
	for _, p := range policies {
		a, err := arn.Parse(p.StackID)
		if err != nil || a.AccountID != account || a.Region != region {
			out.Unchecked = append(out.Unchecked, p)
			continue
		}
		isGone, asked := gone[p.StackID]
		if !asked {
			resp, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(p.StackID)})
			var apiErr smithy.APIError
			switch {
			case errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationError":
				isGone = true
			case err != nil:
				return OrphanCheck{}, fmt.Errorf("describing stack %s: %w", p.StackID, awsclient.Short(err))
			default:
				isGone = len(resp.Stacks) == 0 || resp.Stacks[0].StackStatus == cftypes.StackStatusDeleteComplete
			}
			gone[p.StackID] = isGone
		}
		if isGone {
			out.Orphaned = append(out.Orphaned, p)
		}
	}
	return out, nil
}
