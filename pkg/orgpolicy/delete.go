package orgpolicy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/backup-as-code/orgbackup/pkg/customresource"
)

func (r *Resource) delete(ctx context.Context, ev cfn.Event) error {
	log := customresource.Logger(ctx)
	if !IsPolicyID(ev.PhysicalResourceID) {
		// A Create that failed before the policy existed.
		log.Info("physical ID is not a policy ID; nothing to delete", slog.String("physicalResourceId", ev.PhysicalResourceID))
		return nil
	}
	p, err := decodeAccess(ev.ResourceProperties, r.Defaults)
	if err != nil {
		return err
	}
	org, err := r.connect(ctx, p, ev)
	if err != nil {
		return err
	}
	return deletePolicy(ctx, org, ev.PhysicalResourceID, ownerOf(ev))
}

// deleteRounds bounds how often Delete detaches again when someone attaches
// the policy between the detachments and DeletePolicy (PolicyInUse).
const deleteRounds = 3

// deletePolicy detaches a policy from every target and deletes it. A policy
// that is already gone is deleted; a policy whose ownership tags name
// another resource is left alone.
func deletePolicy(ctx context.Context, org OrganizationsAPI, id string, owner Owner) error {
	log := customresource.Logger(ctx).With(slog.String("policyId", id))
	tags, err := findTags(ctx, org, id)
	if errors.Is(err, errNotFound) {
		log.Info("policy already deleted")
		return nil
	}
	if err != nil {
		return err
	}
	if o, known := ownership(tags); known && o != owner {
		log.Warn("policy is owned by another resource; leaving it untouched", slog.String("owner", o.String()))
		return nil
	}
	for round := 1; ; round++ {
		targets, err := findTargets(ctx, org, id)
		if errors.Is(err, errNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, t := range targets {
			if err := detach(ctx, org, id, t); err != nil {
				return err
			}
		}
		_, err = org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String(id)})
		switch {
		case err == nil:
			log.Info("deleted policy")
			return nil
		case isNotFound(err):
			return nil
		case isA[*types.PolicyInUseException](err) && round < deleteRounds:
			log.Warn("policy was attached again while being deleted; detaching again")
		default:
			return fmt.Errorf("deleting Organizations policy (%s): %w", id, short(err))
		}
	}
}
