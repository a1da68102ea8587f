package orgpolicy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"

	"github.com/backup-as-code/orgbackup/pkg/customresource"
)

// Resource serves Custom::BackupOrgPolicy requests.
type Resource struct {
	// Connector reaches the organization.
	Connector Connector
	// S3 reads policy documents, with the function's own credentials.
	S3 ObjectGetter
	// Defaults fill in properties the template leaves out.
	Defaults Defaults
}

// NewResource wires a Resource to AWS: Organizations through roles assumed
// with STS (sessions named sessionName, credentials cached per role) or the
// function's own credentials, and S3 for policy documents.
func NewResource(cfg aws.Config, sessionName string, defaults Defaults) *Resource {
	roles := awsclient.NewRoleCredentials(sts.NewFromConfig(cfg), sessionName)
	return &Resource{Connector: NewAWSConnector(cfg, roles), S3: s3.NewFromConfig(cfg), Defaults: defaults}
}

// Handle serves one request; it is a customresource.Func.
func (r *Resource) Handle(ctx context.Context, ev cfn.Event) (customresource.Result, error) {
	switch ev.RequestType {
	case cfn.RequestCreate:
		return r.create(ctx, ev)
	case cfn.RequestUpdate:
		return r.update(ctx, ev)
	case cfn.RequestDelete:
		return customresource.Result{}, r.delete(ctx, ev)
	}
	return customresource.Result{}, fmt.Errorf("RequestType %q: expected Create, Update or Delete", ev.RequestType)
}

func ownerOf(ev cfn.Event) Owner {
	return Owner{StackID: ev.StackID, LogicalID: ev.LogicalResourceID}
}

// desired decodes, fetches and renders everything the request asks for. It
// makes no Organizations call, so bad input fails before any change.
func (r *Resource) desired(ctx context.Context, ev cfn.Event) (Properties, Desired, error) {
	p, err := DecodeProperties(ev.ResourceProperties, r.Defaults)
	if err != nil {
		return Properties{}, Desired{}, err
	}
	text, err := r.documentText(ctx, p.Content)
	if err != nil {
		return Properties{}, Desired{}, err
	}
	content, err := renderDocument(text, p)
	if err != nil {
		return Properties{}, Desired{}, err
	}
	tags := maps.Clone(p.Tags)
	maps.Copy(tags, ownerOf(ev).Tags())
	targets := slices.Clone(p.Targets)
	slices.Sort(targets)
	return p, Desired{
		Name: p.PolicyName, Description: p.PolicyDescription, Type: p.PolicyType,
		Content: content, Targets: targets, Tags: tags,
	}, nil
}

func (r *Resource) connect(ctx context.Context, p Properties, ev cfn.Event) (OrganizationsAPI, error) {
	a := access(p, ev.StackID)
	org, err := r.Connector.Organizations(ctx, a)
	if err != nil {
		if a.RoleARN != "" {
			return nil, fmt.Errorf("connecting to the organization through OrgManagementAccount %s: %w", p.OrgManagementAccount, short(err))
		}
		return nil, fmt.Errorf("connecting to the organization: %w", short(err))
	}
	return org, nil
}

// result is the response for a policy in its desired state.
func result(id, arn string, d Desired) customresource.Result {
	return customresource.Result{
		PhysicalResourceID: id,
		Data: map[string]any{
			"PolicyId":      id,
			"PolicyArn":     arn,
			"PolicyName":    d.Name,
			"PolicyType":    d.Type,
			"PolicyTargets": strings.Join(d.Targets, ","),
			"ContentSha256": sha256Hex(d.Content),
		},
	}
}
