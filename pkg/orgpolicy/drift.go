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
	LogicalID string      `json:"logical_id"`
	PolicyID  string      `json:"policy_id,omitempty"`
	Kinds     []DriftKind `json:"kinds"`
	// AttachedOutOfBand are targets the policy has and the resource does
	// not declare; DetachedOutOfBand declared targets it lacks. Sorted.
	AttachedOutOfBand []string `json:"attached_out_of_band,omitempty"`
	DetachedOutOfBand []string `json:"detached_out_of_band,omitempty"`
	// NameChange and DescriptionChange are [actual, declared] when they
	// differ.
	NameChange        *[2]string `json:"name_change,omitempty"`
	DescriptionChange *[2]string `json:"description_change,omitempty"`
	// ContentDiff is the unified diff from the organization's document to
	// the declared one, both pretty-printed; "" when they are the same.
	ContentDiff string `json:"content_diff,omitempty"`
	// TagsChanged are the tags to set back (declared values);
	// TagsAdded the tags added out of band, which an Update removes.
	TagsChanged map[string]string `json:"tags_changed,omitempty"`
	TagsAdded   []string          `json:"tags_added,omitempty"`
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
	// DeletionPolicy and UpdateReplacePolicy are the resource's attributes
	// ("": Delete); Retain keeps CloudFormation from sending the Delete.
	DeletionPolicy, UpdateReplacePolicy string
}

// retains reports whether a DeletionPolicy or UpdateReplacePolicy keeps
// CloudFormation from deleting the resource (AWS CloudFormation User
// Guide, DeletionPolicy attribute: Retain, and RetainExceptOnCreate for
// stacks that exist; Snapshot does not apply to custom resources, which
// are deleted).
func retains(policy string) bool {
	return policy == "Retain" || policy == "RetainExceptOnCreate"
}

// OwnedPolicy is a policy whose ownership tags name a stack and logical ID.
type OwnedPolicy struct {
	PolicyID  string `json:"policy_id"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	StackID   string `json:"stack_id"`
	LogicalID string `json:"logical_id"`
}

// DriftReport is the drift of a stack's declared policies.
type DriftReport struct {
	// Resources are the declared resources, in the order given.
	Resources []ResourceDrift `json:"resources"`
	// Undeclared are policies whose tags name the stack but a logical ID
	// it no longer declares: orphaned.
	Undeclared []OwnedPolicy `json:"undeclared"`
	// OtherStacks are policies owned by other stacks, whose existence
	// decides whether they are orphaned (sorted by stack, logical ID).
	OtherStacks []OwnedPolicy `json:"other_stacks"`
}

// ReadOptions say how drift and plan reach the organization: read-only.
type ReadOptions struct {
	// ReaderRoleName is the role assumed in a resource's
	// OrgManagementAccount: the read-only role (cfn/org-admin-role.yaml,
	// ReaderRole, Describe and List only), never the org-admin role the
	// function assumes. Resources without OrgManagementAccount are read
	// with the caller's own credentials.
	ReaderRoleName string
}

// readAccess is access with the reader role in place of the org-admin
// role. The external ID guards the function's role against a confused
// deputy; the reader role's trust names its principals instead.
func readAccess(p Properties, stackID string, ro ReadOptions) (orgAccess, error) {
	if p.OrgManagementAccount != "" && ro.ReaderRoleName == "" {
		return orgAccess{}, errors.New("OrgManagementAccount " + p.OrgManagementAccount + " is read through a read-only role: name it (ReaderRoleName)")
	}
	p.OrgAdminRoleName, p.ExternalID = ro.ReaderRoleName, ""
	return access(p, stackID), nil
}

// listing is one ListPolicies: a policy type through one access.
type listing struct {
	access orgAccess
	typ    string
}

// ownedPolicy is a listed policy with ownership tags.
type ownedPolicy struct {
	listing
	summary types.PolicySummary
	tags    map[string]string
	owner   policyOwner
}

func (o ownedPolicy) public() OwnedPolicy {
	return OwnedPolicy{PolicyID: aws.ToString(o.summary.Id), Name: aws.ToString(o.summary.Name), Type: o.typ, StackID: o.owner.StackID, LogicalID: o.owner.LogicalID}
}

// survey lists the policies of each listing once, all pages, and returns
// those whose tags name an owner, with the clients it used.
// Calls: pages of ListPolicies per listing and one ListTagsForResource per
// policy listed.
func (r *Resource) survey(ctx context.Context, lists []listing) ([]ownedPolicy, map[orgAccess]organizationsAPI, error) {
	clients := map[orgAccess]organizationsAPI{}
	var out []ownedPolicy
	for _, l := range lists {
		org := clients[l.access]
		if org == nil {
			var err error
			if org, err = r.connector.Organizations(ctx, l.access); err != nil {
				if l.access.RoleARN != "" {
					return nil, nil, fmt.Errorf("connecting to the organization through %s: %w", l.access.RoleARN, awsclient.Short(err))
				}
				return nil, nil, fmt.Errorf("connecting to the organization: %w", awsclient.Short(err))
			}
			clients[l.access] = org
		}
		pages := organizations.NewListPoliciesPaginator(org, &organizations.ListPoliciesInput{Filter: types.PolicyType(l.typ)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, nil, fmt.Errorf("listing Organizations policies of type %s: %w", l.typ, awsclient.Short(err))
			}
			for _, s := range page.Policies {
				tags, err := findTags(ctx, org, aws.ToString(s.Id))
				if err != nil {
					return nil, nil, err
				}
				if owner, known := ownership(tags); known {
					out = append(out, ownedPolicy{listing: l, summary: s, tags: tags, owner: owner})
				}
			}
		}
	}
	return out, clients, nil
}

// addListing appends l unless lists has it.
func addListing(lists []listing, l listing) []listing {
	if slices.Contains(lists, l) {
		return lists
	}
	return append(lists, l)
}

// declaredState renders a declared resource as an Update of stackID would
// and says how drift and plan read its policy.
func (r *Resource) declaredState(ctx context.Context, stackID string, dec Declared, ro ReadOptions) (Properties, desiredPolicy, listing, error) {
	ev := cfn.Event{RequestType: cfn.RequestUpdate, StackID: stackID, LogicalResourceID: dec.LogicalID, ResourceProperties: dec.Properties}
	p, d, err := r.desired(ctx, ev)
	if err != nil {
		return Properties{}, desiredPolicy{}, listing{}, fmt.Errorf("%s: %w", dec.LogicalID, err)
	}
	a, err := readAccess(p, stackID, ro)
	if err != nil {
		return Properties{}, desiredPolicy{}, listing{}, fmt.Errorf("%s: %w", dec.LogicalID, err)
	}
	return p, d, listing{access: a, typ: d.Type}, nil
}

// Drift compares the resources a stack declares with the organization,
// read-only: it renders each resource as an Update would (the same
// properties, content and ownership tags), reaches the organization the
// properties name through the reader role (ro), and lists the policies of
// the declared types, matching them by ownership tags.
// Calls: pages of ListPolicies per type, one ListTagsForResource per
// policy, and DescribePolicy plus ListTargetsForPolicy pages per matched
// policy; never a write.
func (r *Resource) Drift(ctx context.Context, stackID string, declared []Declared, ro ReadOptions) (DriftReport, error) {
	desired := make([]desiredPolicy, len(declared))
	lists := make([]listing, len(declared))
	var all []listing
	for i, dec := range declared {
		_, d, l, err := r.declaredState(ctx, stackID, dec, ro)
		if err != nil {
			return DriftReport{}, err
		}
		desired[i], lists[i] = d, l
		all = addListing(all, l)
	}
	owned, clients, err := r.survey(ctx, all)
	if err != nil {
		return DriftReport{}, err
	}
	rep := DriftReport{Resources: make([]ResourceDrift, len(declared))}
	found := make([]*actualPolicy, len(declared))
	for _, o := range owned {
		if o.owner.StackID != stackID {
			rep.OtherStacks = append(rep.OtherStacks, o.public())
			continue
		}
		i := slices.IndexFunc(declared, func(d Declared) bool { return d.LogicalID == o.owner.LogicalID })
		if i < 0 || lists[i] != o.listing {
			rep.Undeclared = append(rep.Undeclared, o.public())
			continue
		}
		a, err := describeWithTags(ctx, clients[o.access], o.summary, o.tags)
		if err != nil {
			return DriftReport{}, err
		}
		found[i] = &a
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
	Orphaned []OwnedPolicy `json:"orphaned"`
	// Unchecked are the policies whose stack is in another account or
	// Region than the CloudFormation client's, which cannot see it.
	Unchecked []OwnedPolicy `json:"unchecked"`
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
