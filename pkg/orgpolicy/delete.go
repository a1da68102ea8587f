package orgpolicy

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/cfn"
)

func (r *Resource) delete(ctx context.Context, ev cfn.Event) error {
	log := logger(ctx)
	if !isPolicyID(ev.PhysicalResourceID) {
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
