package orgpolicy

import (
	"context"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/backup-as-code/orgbackup/pkg/customresource"
)

// create makes the policy. A failure after the policy exists returns a
// *customresource.PartialError naming it, so that CloudFormation's rollback
// deletes it.
func (r *Resource) create(ctx context.Context, ev cfn.Event) (customresource.Result, error) {
	p, d, err := r.desired(ctx, ev)
	if err != nil {
		return customresource.Result{}, err
	}
	org, err := r.connect(ctx, p, ev)
	if err != nil {
		return customresource.Result{}, err
	}
	id, arn, _, err := createPolicy(ctx, org, d, ownerOf(ev), p.AdoptExistingPolicy)
	if err != nil {
		return customresource.Result{}, leftBehind(id, err)
	}
	return result(id, arn, d), nil
}
