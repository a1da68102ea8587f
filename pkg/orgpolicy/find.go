package orgpolicy

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
)

// The find functions answer a policy that does not exist with an
// *awsclient.NotFoundError (awsclient.IsNotFound), keeping the AWS error.

// findPolicy reads a policy's full state: content, targets and tags.
func findPolicy(ctx context.Context, org organizationsAPI, id string) (actualPolicy, error) {
	out, err := org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(id)})
	if awsclient.IsNotFound(err) {
		return actualPolicy{}, &awsclient.NotFoundError{Resource: "Organizations policy " + id, Err: err}
	}
	if err != nil {
		return actualPolicy{}, fmt.Errorf("describing Organizations policy (%s): %w", id, awsclient.Short(err))
	}
	s := out.Policy.PolicySummary
	a := actualPolicy{
		ID: id, ARN: aws.ToString(s.Arn), Name: aws.ToString(s.Name), Description: aws.ToString(s.Description),
		Type: string(s.Type), Content: aws.ToString(out.Policy.Content),
	}
	if a.Targets, err = findTargets(ctx, org, id); err != nil {
		return actualPolicy{}, err
	}
	if a.Tags, err = findTags(ctx, org, id); err != nil {
		return actualPolicy{}, err
	}
	return a, nil
}

// findTargets lists every target a policy is attached to, all pages.
func findTargets(ctx context.Context, org organizationsAPI, id string) ([]string, error) {
	var targets []string
	pages := organizations.NewListTargetsForPolicyPaginator(org, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(id)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if awsclient.IsNotFound(err) {
			return nil, &awsclient.NotFoundError{Resource: "Organizations policy " + id, Err: err}
		}
		if err != nil {
			return nil, fmt.Errorf("listing targets of Organizations policy (%s): %w", id, awsclient.Short(err))
		}
		for _, t := range page.Targets {
			targets = append(targets, aws.ToString(t.TargetId))
		}
	}
	return targets, nil
}

// findTags lists every tag of a policy, all pages.
func findTags(ctx context.Context, org organizationsAPI, id string) (map[string]string, error) {
	tags := map[string]string{}
	pages := organizations.NewListTagsForResourcePaginator(org, &organizations.ListTagsForResourceInput{ResourceId: aws.String(id)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if awsclient.IsNotFound(err) {
			return nil, &awsclient.NotFoundError{Resource: "Organizations policy " + id, Err: err}
		}
		if err != nil {
			return nil, fmt.Errorf("listing tags of Organizations policy (%s): %w", id, awsclient.Short(err))
		}
		for _, t := range page.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return tags, nil
}

// findPolicyByName finds the policy of a type with exactly this name (never
// by prefix: "daily" must not find "daily-v2").
func findPolicyByName(ctx context.Context, org organizationsAPI, typ, name string) (types.PolicySummary, error) {
	pages := organizations.NewListPoliciesPaginator(org, &organizations.ListPoliciesInput{Filter: types.PolicyType(typ)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return types.PolicySummary{}, fmt.Errorf("listing Organizations policies of type %s: %w", typ, awsclient.Short(err))
		}
		for _, s := range page.Policies {
			if aws.ToString(s.Name) == name {
				return s, nil
			}
		}
	}
	return types.PolicySummary{}, &awsclient.NotFoundError{Resource: "Organizations policy " + typ + " " + strconv.Quote(name)}
}
