package orgpolicy

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
)

// organizationsAPI is the part of the Organizations API the resource calls.
type organizationsAPI interface {
	CreatePolicy(context.Context, *organizations.CreatePolicyInput, ...func(*organizations.Options)) (*organizations.CreatePolicyOutput, error)
	UpdatePolicy(context.Context, *organizations.UpdatePolicyInput, ...func(*organizations.Options)) (*organizations.UpdatePolicyOutput, error)
	DescribePolicy(context.Context, *organizations.DescribePolicyInput, ...func(*organizations.Options)) (*organizations.DescribePolicyOutput, error)
	DeletePolicy(context.Context, *organizations.DeletePolicyInput, ...func(*organizations.Options)) (*organizations.DeletePolicyOutput, error)
	AttachPolicy(context.Context, *organizations.AttachPolicyInput, ...func(*organizations.Options)) (*organizations.AttachPolicyOutput, error)
	DetachPolicy(context.Context, *organizations.DetachPolicyInput, ...func(*organizations.Options)) (*organizations.DetachPolicyOutput, error)
	TagResource(context.Context, *organizations.TagResourceInput, ...func(*organizations.Options)) (*organizations.TagResourceOutput, error)
	UntagResource(context.Context, *organizations.UntagResourceInput, ...func(*organizations.Options)) (*organizations.UntagResourceOutput, error)
	organizations.ListPoliciesAPIClient
	organizations.ListTargetsForPolicyAPIClient
	organizations.ListTagsForResourceAPIClient
}

// orgAccess says how to reach the organization: through a role in the
// management account, or (RoleARN empty) with the function's own
// credentials, as a delegated administrator.
type orgAccess struct {
	RoleARN    string
	ExternalID string
}

// connector returns an Organizations client for an orgAccess.
type connector interface {
	Organizations(ctx context.Context, a orgAccess) (organizationsAPI, error)
}

// awsConnector makes Organizations clients from the function's
// configuration, assuming roles through a shared credentials cache.
type awsConnector struct {
	base  aws.Config
	roles *awsclient.RoleCredentials

	mu      sync.Mutex
	clients map[orgAccess]*organizations.Client
}

// newAWSConnector returns a connector that keeps one client per orgAccess for
// the life of the process (warm invocations reuse clients and credentials).
func newAWSConnector(base aws.Config, roles *awsclient.RoleCredentials) *awsConnector {
	return &awsConnector{base: base, roles: roles, clients: map[orgAccess]*organizations.Client{}}
}

// Organizations returns the client for a; assuming the role happens here, so
// a role that cannot be assumed fails before any policy call.
func (c *awsConnector) Organizations(ctx context.Context, a orgAccess) (organizationsAPI, error) {
	cfg := c.base
	if a.RoleARN != "" {
		var err error
		if cfg, err = c.roles.Config(ctx, c.base, a.RoleARN, a.ExternalID); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl := c.clients[a]; cl != nil {
		return cl, nil
	}
	cl := awsclient.Organizations(cfg)
	c.clients[a] = cl
	return cl, nil
}

// access says how to reach the organization the properties name. The role
// ARN's partition is the stack's, so the resource works in every partition.
func access(p Properties, stackID string) orgAccess {
	if p.OrgManagementAccount == "" {
		return orgAccess{}
	}
	partition := "aws"
	if stack, err := arn.Parse(stackID); err == nil && stack.Partition != "" {
		partition = stack.Partition
	}
	role := arn.ARN{Partition: partition, Service: "iam", AccountID: p.OrgManagementAccount, Resource: "role/" + p.OrgAdminRoleName}
	return orgAccess{RoleARN: role.String(), ExternalID: p.ExternalID}
}
