package orgpolicy

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
)

// update converges the policy in place. A changed PolicyType cannot be an
// in-place change: a new policy is created and its ID returned, and
// CloudFormation deletes the old one after the stack update. So is a policy
// that the new access (OrgManagementAccount, own credentials) cannot find:
// another organization, or deleted out of band.
//
// Other credentials reaching the same organization are no replacement. A
// policy ID is visible only within its organization (another one answers
// PolicyNotFoundException), so finding the policy through the new access,
// the read every in-place update makes anyway, is what shows it is the same
// organization; its ARN names that organization.
func (r *Resource) update(ctx context.Context, ev cfn.Event) (physicalID string, data map[string]any, err error) {
	p, d, err := r.desired(ctx, ev)
	if err != nil {
		return "", nil, err
	}
	log := logger(ctx)
	org, err := r.connect(ctx, p, ev)
	if err != nil {
		return "", nil, err
	}
	if reason := r.replacementReason(ev, p); reason != "" {
		log.Info("replacing policy", slog.String("reason", reason), slog.String("oldPolicyId", ev.PhysicalResourceID))
		return replace(ctx, org, d, ownerOf(ev), p.AdoptExistingPolicy)
	}
	moved := r.accessChange(ev, p)
	actual, err := findPolicy(ctx, org, ev.PhysicalResourceID)
	switch {
	case awsclient.IsNotFound(err) && moved != "":
		log.Info("replacing policy: not found through the new access, so another organization (or deleted)", slog.String("reason", moved), slog.String("oldPolicyId", ev.PhysicalResourceID))
		return replace(ctx, org, d, ownerOf(ev), p.AdoptExistingPolicy)
	case awsclient.IsNotFound(err):
		log.Warn("policy no longer exists; creating it again", slog.String("oldPolicyId", ev.PhysicalResourceID))
		return replace(ctx, org, d, ownerOf(ev), p.AdoptExistingPolicy)
	case err != nil:
		return "", nil, err
	case moved != "":
		log.Info("same organization through the new access; updating in place", slog.String("reason", moved), slog.String("organizationId", organizationOf(actual.ARN)))
	}
	if o, known := ownership(actual.Tags); known && o != ownerOf(ev) {
		return "", nil, fmt.Errorf("updating Organizations policy (%s): its ownership tags name another resource (%s); it is left unchanged", actual.ID, o)
	}
	if err := apply(ctx, org, actual, newPlan(d, actual)); err != nil {
		return "", nil, err
	}
	return actual.ID, attributes(actual.ID, actual.ARN, d), nil
}

// replacementReason says why an update needs a new policy, or "".
func (r *Resource) replacementReason(ev cfn.Event, p Properties) string {
	if !isPolicyID(ev.PhysicalResourceID) {
		return fmt.Sprintf("physical ID %q is not a policy ID", ev.PhysicalResourceID)
	}
	old, err := decodeAccess(ev.OldResourceProperties, r.Defaults)
	if err != nil {
		// The old properties never worked (this is the rollback of a
		// failed update); the policy named by the physical ID is current.
		return ""
	}
	if old.PolicyType != p.PolicyType {
		return fmt.Sprintf("PolicyType changed from %s to %s", old.PolicyType, p.PolicyType)
	}
	return ""
}

// accessChange says how the way to the organization changed, or "".
func (r *Resource) accessChange(ev cfn.Event, p Properties) string {
	old, err := decodeAccess(ev.OldResourceProperties, r.Defaults)
	if err != nil || old.OrgManagementAccount == p.OrgManagementAccount {
		return ""
	}
	return fmt.Sprintf("OrgManagementAccount changed from %q to %q", old.OrgManagementAccount, p.OrgManagementAccount)
}

// organizationOf is the organization ID in a policy ARN
// (arn:aws:organizations::<account>:policy/o-…/<type>/p-…).
func organizationOf(policyARN string) string {
	a, err := arn.Parse(policyARN)
	if err != nil {
		return ""
	}
	parts := strings.Split(a.Resource, "/")
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

// replace creates the new policy of a replacement. If that fails after
// this request's CreatePolicy made the policy, it is removed again: the
// FAILED response keeps the old physical ID, so CloudFormation would never
// delete the new one (if removing fails, the error names it). A policy that was adopted instead (it already existed)
// is never removed: it may be the one in use. Only a policy left behind is
// returned with the error.
func replace(ctx context.Context, org organizationsAPI, d desiredPolicy, owner policyOwner, adoptUnowned bool) (physicalID string, data map[string]any, err error) {
	id, arn, created, err := createPolicy(ctx, org, d, owner, adoptUnowned)
	if err == nil {
		return id, attributes(id, arn, d), nil
	}
	if id != "" && !created {
		return "", nil, fmt.Errorf("%w; policy %s, which already existed and was adopted, is left in place", err, id)
	}
	if id != "" {
		if cleanupErr := deletePolicy(ctx, org, id, owner); cleanupErr != nil {
			return id, nil, fmt.Errorf("%w; removing the new policy %s also failed, delete it by hand: %w", err, id, cleanupErr)
		}
		return "", nil, fmt.Errorf("%w; the new policy %s was removed again", err, id)
	}
	return "", nil, err
}
