package orgpolicy

import (
	"context"
	"fmt"
	"reflect"
	"slices"
)

// Action is what the next deploy does to one resource.
type Action string

// Actions of a deploy plan.
const (
	// ActionCreate: the resource is new; CloudFormation sends Create.
	ActionCreate Action = "create"
	// ActionUpdate: CloudFormation sends Update and the policy is changed
	// in place.
	ActionUpdate Action = "update"
	// ActionReplace: CloudFormation sends Update and the function creates
	// a new policy (Reason says why); CloudFormation deletes the old one
	// after the stack update.
	ActionReplace Action = "replace"
	// ActionDelete: the template no longer declares the resource;
	// CloudFormation sends Delete after the stack update.
	ActionDelete Action = "delete"
	// ActionNoChange: CloudFormation sends Update, which finds the policy
	// as declared and writes nothing.
	ActionNoChange Action = "no-change"
	// ActionNotSent: the properties are unchanged, so CloudFormation sends
	// no request at all and drift, if any, stays.
	ActionNotSent Action = "not-sent"
	// ActionRetain: the template no longer declares the resource and its
	// DeletionPolicy retains it: CloudFormation sends no Delete, and the
	// policy stays in the organization, managed by no stack.
	ActionRetain Action = "retain"
	// ActionRefused: CloudFormation refuses the change (a changed
	// ServiceToken): the stack update fails.
	ActionRefused Action = "refused"
)

// ResourcePlan is what the next deploy does to one resource: the writes the
// function will make, in order.
type ResourcePlan struct {
	LogicalID string `json:"logical_id"`
	// PolicyID is the policy the resource has now, if any.
	PolicyID string `json:"policy_id,omitempty"`
	Action   Action `json:"action"`
	Reason   string `json:"reason,omitempty"`
	Steps    []Step `json:"steps"`
}

// DeployPlan is what the next deploy of a template does to a stack's
// Custom::BackupOrgPolicy resources.
type DeployPlan struct {
	// Resources are the declared resources in the order given, then the
	// deployed ones the template no longer declares.
	Resources []ResourcePlan `json:"resources"`
}

// Changes reports whether the deploy writes anything.
func (p DeployPlan) Changes() bool {
	return slices.ContainsFunc(p.Resources, func(r ResourcePlan) bool { return len(r.Steps) > 0 })
}

// Refused reports whether CloudFormation would refuse the deploy.
func (p DeployPlan) Refused() bool {
	return slices.ContainsFunc(p.Resources, func(r ResourcePlan) bool { return r.Action == ActionRefused })
}

// Plan says what deploying declared to the stack would make the function
// do, read-only, with the same planner (newPlan, policyPlan.steps) the
// function executes. deployed are the stack's resources as CloudFormation
// last sent them (its current template); stackID "" means the stack does
// not exist yet, so every resource is a create and nothing is read.
//
// CloudFormation sends a custom resource a request only when its
// properties change: a resource whose properties are unchanged gets
// ActionNotSent even when its policy drifted (Drift shows that). Calls: as
// Drift, for the declared and the deployed types, plus ListTargetsForPolicy
// pages for each policy a Delete would detach.
func (r *Resource) Plan(ctx context.Context, stackID string, declared, deployed []Declared, ro ReadOptions) (DeployPlan, error) {
	type state struct {
		props   Properties
		desired desiredPolicy
		list    listing
	}
	news := make([]state, len(declared))
	var lists []listing
	for i, dec := range declared {
		p, d, l, err := r.declaredState(ctx, stackID, dec, ro)
		if err != nil {
			return DeployPlan{}, err
		}
		news[i] = state{p, d, l}
		lists = addListing(lists, l)
	}
	var plan DeployPlan
	if stackID == "" {
		for i, dec := range declared {
			steps := createSteps(news[i].desired)
			// The ownership tag names a stack ID CloudFormation has not
			// assigned yet.
			steps[0].Tags[OwnerStackTag] = "(the new stack's ID)"
			plan.Resources = append(plan.Resources, ResourcePlan{LogicalID: dec.LogicalID, Action: ActionCreate, Reason: "the stack does not exist yet", Steps: steps})
		}
		return plan, nil
	}
	olds := map[string]listing{}
	oldProps := map[string]map[string]any{}
	deletion := map[string]string{}
	for _, dep := range deployed {
		oldProps[dep.LogicalID] = dep.Properties
		deletion[dep.LogicalID] = dep.DeletionPolicy
		p, err := decodeAccess(dep.Properties, r.Defaults)
		if err != nil {
			continue // never worked: nothing of it to read or delete
		}
		a, err := readAccess(p, stackID, ro)
		if err != nil {
			return DeployPlan{}, fmt.Errorf("%s (deployed): %w", dep.LogicalID, err)
		}
		olds[dep.LogicalID] = listing{access: a, typ: p.PolicyType}
		lists = addListing(lists, olds[dep.LogicalID])
	}
	owned, clients, err := r.survey(ctx, lists)
	if err != nil {
		return DeployPlan{}, err
	}
	// ours finds the policy of this stack's logical ID in a listing.
	ours := func(logicalID string, l listing) *ownedPolicy {
		i := slices.IndexFunc(owned, func(o ownedPolicy) bool {
			return o.owner == policyOwner{StackID: stackID, LogicalID: logicalID} && o.listing == l
		})
		if i < 0 {
			return nil
		}
		return &owned[i]
	}
	// cleanup are the writes of CloudFormation's Delete of the old policy.
	cleanup := func(o *ownedPolicy) ([]Step, error) {
		if o == nil {
			return nil, nil // already gone: Delete writes nothing
		}
		id := o.public().PolicyID
		targets, err := findTargets(ctx, clients[o.access], id)
		if err != nil {
			return nil, err
		}
		steps := deleteSteps(id, targets)
		for i := range steps {
			steps[i].Cleanup = true
		}
		return steps, nil
	}
	for i, dec := range declared {
		n := news[i]
		rp := ResourcePlan{LogicalID: dec.LogicalID}
		old, existed := oldProps[dec.LogicalID]
		oldList, oldWorked := olds[dec.LogicalID]
		cur := ours(dec.LogicalID, n.list)
		if cur != nil {
			rp.PolicyID = cur.public().PolicyID
		}
		switch {
		case !existed:
			rp.Action, rp.Reason, rp.Steps = ActionCreate, "new in the template", createSteps(n.desired)
		case reflect.DeepEqual(old, dec.Properties):
			rp.Action, rp.Reason = ActionNotSent, "properties unchanged: CloudFormation sends no request"
		case !reflect.DeepEqual(old["ServiceToken"], dec.Properties["ServiceToken"]):
			// AWS CloudFormation User Guide,
			// AWS::CloudFormation::CustomResource, ServiceToken: "Updates
			// aren't supported."
			rp.Action = ActionRefused
			rp.Reason = fmt.Sprintf("ServiceToken changed from %v to %v: CloudFormation does not update a custom resource's ServiceToken, so the stack update fails; keep it, or declare the resource under a new logical ID", old["ServiceToken"], dec.Properties["ServiceToken"])
		default:
			reason := ""
			switch {
			case oldWorked && oldList.typ != n.list.typ:
				reason = fmt.Sprintf("PolicyType changed from %s to %s", oldList.typ, n.list.typ)
			case cur == nil && oldWorked && oldList.access != n.list.access:
				reason = "the policy is not found through the new OrgManagementAccount (another organization)"
			case cur == nil:
				reason = "the policy no longer exists (deleted out of band); Update creates it again"
			}
			if reason != "" {
				rp.Action, rp.Reason, rp.Steps = ActionReplace, reason, createSteps(n.desired)
				if retains(dec.UpdateReplacePolicy) {
					rp.Reason += "; UpdateReplacePolicy " + dec.UpdateReplacePolicy + " keeps the old policy (CloudFormation sends no Delete)"
				} else if oldWorked && oldList != n.list {
					steps, err := cleanup(ours(dec.LogicalID, oldList))
					if err != nil {
						return DeployPlan{}, err
					}
					rp.Steps = append(rp.Steps, steps...)
				}
				break
			}
			a, err := describeWithTags(ctx, clients[cur.access], cur.summary, cur.tags)
			if err != nil {
				return DeployPlan{}, err
			}
			rp.Steps = newPlan(n.desired, a).steps(a)
			rp.Action = ActionUpdate
			if len(rp.Steps) == 0 {
				rp.Action = ActionNoChange
			}
		}
		plan.Resources = append(plan.Resources, rp)
	}
	for _, dep := range deployed {
		if slices.ContainsFunc(declared, func(d Declared) bool { return d.LogicalID == dep.LogicalID }) {
			continue
		}
		rp := ResourcePlan{LogicalID: dep.LogicalID, Action: ActionDelete, Reason: "no longer in the template"}
		if retains(deletion[dep.LogicalID]) {
			rp.Action = ActionRetain
			rp.Reason = "no longer in the template; DeletionPolicy " + deletion[dep.LogicalID] + ": CloudFormation sends no Delete and the policy stays in the organization, managed by no stack"
		}
		if l, ok := olds[dep.LogicalID]; ok {
			o := ours(dep.LogicalID, l)
			if o != nil {
				rp.PolicyID = o.public().PolicyID
			}
			if rp.Action == ActionDelete {
				if rp.Steps, err = cleanup(o); err != nil {
					return DeployPlan{}, err
				}
			}
		}
		plan.Resources = append(plan.Resources, rp)
	}
	return plan, nil
}
