package orgpolicy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/backup-as-code/orgbackup/pkg/customresource"
)

// update converges the policy in place. A changed PolicyType or management
// account cannot be an in-place change: a new policy is created and its ID
// returned, and CloudFormation deletes the old one after the stack update.
// A policy deleted out of band is created again the same way.
func (r *Resource) update(ctx context.Context, ev cfn.Event) (customresource.Result, error) {
	p, d, err := r.desired(ctx, ev)
	if err != nil {
		return customresource.Result{}, err
	}
	log := customresource.Logger(ctx)
	org, err := r.connect(ctx, p, ev)
	if err != nil {
		return customresource.Result{}, err
	}
	if reason := r.replacementReason(ev, p); reason != "" {
		log.Info("replacing policy", slog.String("reason", reason), slog.String("oldPolicyId", ev.PhysicalResourceID))
		return replace(ctx, org, d, ownerOf(ev))
	}
	actual, err := findPolicy(ctx, org, ev.PhysicalResourceID)
	if errors.Is(err, errNotFound) {
		log.Warn("policy no longer exists; creating it again", slog.String("oldPolicyId", ev.PhysicalResourceID))
		return replace(ctx, org, d, ownerOf(ev))
	}
	if err != nil {
		return customresource.Result{}, err
	}
	if o, known := ownership(actual.Tags); known && o != ownerOf(ev) {
		return customresource.Result{}, fmt.Errorf("updating Organizations policy (%s): its ownership tags name another resource (%s); it is left unchanged", actual.ID, o)
	}
	if err := apply(ctx, org, actual, NewPlan(d, actual)); err != nil {
		return customresource.Result{}, err
	}
	return result(actual.ID, actual.ARN, d), nil
}

// replacementReason says why an update needs a new policy, or "".
func (r *Resource) replacementReason(ev cfn.Event, p Properties) string {
	if !IsPolicyID(ev.PhysicalResourceID) {
		return fmt.Sprintf("physical ID %q is not a policy ID", ev.PhysicalResourceID)
	}
	old, err := decodeAccess(ev.OldResourceProperties, r.Defaults)
	if err != nil {
		// The old properties never worked (this is the rollback of a
		// failed update); the policy named by the physical ID is current.
		return ""
	}
	switch {
	case old.PolicyType != p.PolicyType:
		return fmt.Sprintf("PolicyType changed from %s to %s", old.PolicyType, p.PolicyType)
	case old.OrgManagementAccount != p.OrgManagementAccount:
		return fmt.Sprintf("OrgManagementAccount changed from %q to %q", old.OrgManagementAccount, p.OrgManagementAccount)
	}
	return ""
}

// replace creates the new policy of a replacement. If that fails after the
// policy exists, it is removed again: the FAILED response keeps the old
// physical ID, so CloudFormation would never delete the new one.
func replace(ctx context.Context, org OrganizationsAPI, d Desired, owner Owner) (customresource.Result, error) {
	id, arn, err := createPolicy(ctx, org, d, owner)
	if err == nil {
		return result(id, arn, d), nil
	}
	if id != "" {
		if cleanupErr := deletePolicy(ctx, org, id, owner); cleanupErr != nil {
			return customresource.Result{}, fmt.Errorf("%w; removing the new policy %s also failed, delete it by hand: %w", err, id, cleanupErr)
		}
		customresource.SetPhysicalResourceID(ctx, "")
		return customresource.Result{}, fmt.Errorf("%w; the new policy %s was removed again", err, id)
	}
	return customresource.Result{}, err
}
