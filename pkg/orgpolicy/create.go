package orgpolicy

import (
	"context"

	"github.com/aws/aws-lambda-go/cfn"
)

// create makes the policy. A failure after the policy exists returns its ID
// with the error, so that CloudFormation's rollback deletes it.
func (r *Resource) create(ctx context.Context, ev cfn.Event) (physicalID string, data map[string]any, err error) {
	p, d, err := r.desired(ctx, ev)
	if err != nil {
		return "", nil, err
	}
	org, err := r.connect(ctx, p, ev)
	if err != nil {
		return "", nil, err
	}
	id, arn, _, err := createPolicy(ctx, org, d, ownerOf(ev), p.AdoptExistingPolicy)
	if err != nil {
		return id, nil, err
	}
	return id, attributes(id, arn, d), nil
}
