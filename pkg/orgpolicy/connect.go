package orgpolicy

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
)

// OrganizationsAPI is the part of the Organizations API the resource calls.
type OrganizationsAPI interface {
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

// Access says how to reach the organization: through a role in the
// management account, or (RoleARN empty) with the function's own
// credentials, as a delegated administrator.
type Access struct {
	RoleARN    string
	ExternalID string
}

// Connector returns an Organizations client for an Access.
type Connector interface {
	Organizations(ctx context.Context, a Access) (OrganizationsAPI, error)
}

// AWSConnector makes Organizations clients from the function's
// configuration, assuming roles through a shared credentials cache.
type AWSConnector struct {
	base  aws.Config
	roles *awsclient.RoleCredentials

	mu      sync.Mutex
	clients map[Access]*organizations.Client
}

// NewAWSConnector returns a connector that keeps one client per Access for
// the life of the process (warm invocations reuse clients and credentials).
func NewAWSConnector(base aws.Config, roles *awsclient.RoleCredentials) *AWSConnector {
	return &AWSConnector{base: base, roles: roles, clients: map[Access]*organizations.Client{}}
}

// Organizations returns the client for a; assuming the role happens here, so
// a role that cannot be assumed fails before any policy call.
func (c *AWSConnector) Organizations(ctx context.Context, a Access) (OrganizationsAPI, error) {
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
func access(p Properties, stackID string) Access {
	if p.OrgManagementAccount == "" {
		return Access{}
	}
	partition := "aws"
	if stack, err := arn.Parse(stackID); err == nil && stack.Partition != "" {
		partition = stack.Partition
	}
	role := arn.ARN{Partition: partition, Service: "iam", AccountID: p.OrgManagementAccount, Resource: "role/" + p.OrgAdminRoleName}
	return Access{RoleARN: role.String(), ExternalID: p.ExternalID}
}
