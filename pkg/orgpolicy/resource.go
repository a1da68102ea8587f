package orgpolicy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
	"github.com/backup-as-code/orgbackup/pkg/cfnresponse"
	"github.com/backup-as-code/orgbackup/pkg/lambdalog"
)

// Resource serves Custom::BackupOrgPolicy requests.
type Resource struct {
	// connector reaches the organization.
	connector connector
	// S3 reads policy documents, with the function's own credentials.
	S3 objectGetter
	// Defaults fill in properties the template leaves out.
	Defaults Defaults
}

// NewResource wires a Resource to AWS: Organizations through roles assumed
// with STS (sessions named sessionName, credentials cached per role) or the
// function's own credentials, and S3 for policy documents.
func NewResource(cfg aws.Config, sessionName string, defaults Defaults) *Resource {
	roles := awsclient.NewRoleCredentials(sts.NewFromConfig(cfg), sessionName)
	return &Resource{connector: newAWSConnector(cfg, roles), S3: s3.NewFromConfig(cfg), Defaults: defaults}
}

// Handle serves one request; it is a cfn.CustomResourceFunction. It returns
// the policy's ID and attributes; a failed request that left a policy
// behind returns its ID with the error.
func (r *Resource) Handle(ctx context.Context, ev cfn.Event) (physicalID string, data map[string]any, err error) {
	switch ev.RequestType {
	case cfn.RequestCreate:
		physicalID, data, err = r.create(ctx, ev)
	case cfn.RequestUpdate:
		physicalID, data, err = r.update(ctx, ev)
	case cfn.RequestDelete:
		err = r.delete(ctx, ev)
	default:
		err = fmt.Errorf("RequestType %q: expected Create, Update or Delete", ev.RequestType)
	}
	return physicalID, data, r.explainDenied(err, ev)
}

// deniedAction finds the action in IAM's access-denied message: "User: …
// is not authorized to perform: organizations:TagResource on resource: …"
// (IAM User Guide, "Troubleshooting access denied error messages"). It can
// differ from the operation called: CreatePolicy with tags also needs
// organizations:TagResource.
var deniedAction = regexp.MustCompile(`not authorized to perform: ([\w-]+:\w+)`)

// explainDenied adds to an Organizations AccessDeniedException which action
// is missing and which role lacks it, the fix the reader of a FAILED event
// needs (a role made for the earlier solution lacks the tag actions).
func (r *Resource) explainDenied(err error, ev cfn.Event) error {
	var denied *types.AccessDeniedException
	if !errors.As(err, &denied) {
		return err
	}
	action := ""
	if m := deniedAction.FindStringSubmatch(denied.ErrorMessage()); m != nil {
		action = m[1]
	} else if op := (*smithy.OperationError)(nil); errors.As(err, &op) {
		action = "organizations:" + op.OperationName
	}
	who := "the function's own role"
	if p, perr := decodeAccess(ev.ResourceProperties, r.Defaults); perr == nil {
		if a := access(p, ev.StackID); a.RoleARN != "" {
			who = "the role " + a.RoleARN
		}
	}
	if action == "" {
		return fmt.Errorf("%w; %s is not allowed this call", err, who)
	}
	return fmt.Errorf("%w; %s is not allowed %s: add it to that role's permissions policy", err, who, action)
}

// logger is the request's logger (the handler's, lambdalog.NewContext);
// slog.Default outside a request.
func logger(ctx context.Context) *slog.Logger {
	if l, ok := lambdalog.FromContext(ctx); ok {
		return l
	}
	return slog.Default()
}

func ownerOf(ev cfn.Event) policyOwner {
	return policyOwner{StackID: ev.StackID, LogicalID: ev.LogicalResourceID}
}

// desired decodes, fetches and renders everything the request asks for. It
// makes no Organizations call, so bad input fails before any change.
func (r *Resource) desired(ctx context.Context, ev cfn.Event) (Properties, desiredPolicy, error) {
	p, err := DecodeProperties(ev.ResourceProperties, r.Defaults)
	if err != nil {
		return Properties{}, desiredPolicy{}, withDocumentProblems(err)
	}
	text, err := r.documentText(ctx, p.Content)
	if err != nil {
		return Properties{}, desiredPolicy{}, err
	}
	content, err := renderDocument(text, p)
	if err != nil {
		return Properties{}, desiredPolicy{}, err
	}
	tags := maps.Clone(p.Tags)
	maps.Copy(tags, ownerOf(ev).tags())
	targets := slices.Clone(p.Targets)
	slices.Sort(targets)
	d := desiredPolicy{
		Name: p.PolicyName, Description: p.PolicyDescription, Type: p.PolicyType,
		Content: content, Targets: targets, Tags: tags, EnableType: p.EnablePolicyType,
	}
	if d.TargetsAttribute, err = targetsFit(ev, d); err != nil {
		return Properties{}, desiredPolicy{}, err
	}
	return p, d, nil
}

// withDocumentProblems adds to a PropertyError what is wrong with an inline
// document as well, so that one deployment attempt shows every problem.
// A document in S3 is not read: bad input makes no AWS call, and the
// properties may name the wrong object.
func withDocumentProblems(err error) error {
	var pe *PropertyError
	if !errors.As(err, &pe) || pe.Document == nil {
		return err
	}
	if loc := pe.Document.Content.S3; loc != nil {
		return fmt.Errorf("%w; PolicyContent: %s is read and checked once the properties are valid", err, loc)
	}
	if _, derr := renderDocument(pe.Document.Content.Inline, *pe.Document); derr != nil {
		return fmt.Errorf("%w; %w", err, derr)
	}
	return err
}

func (r *Resource) connect(ctx context.Context, p Properties, ev cfn.Event) (organizationsAPI, error) {
	a := access(p, ev.StackID)
	org, err := r.connector.Organizations(ctx, a)
	if err != nil {
		if a.RoleARN != "" {
			return nil, fmt.Errorf("connecting to the organization through OrgManagementAccount %s: %w", p.OrgManagementAccount, awsclient.Short(err))
		}
		return nil, fmt.Errorf("connecting to the organization: %w", awsclient.Short(err))
	}
	return org, nil
}

// attributes are the Fn::GetAtt attributes of a policy in its desired state.
func attributes(id, arn string, d desiredPolicy) map[string]any {
	targets := strings.Join(d.Targets, ",")
	data := map[string]any{
		"PolicyId":            id,
		"PolicyArn":           arn,
		"PolicyName":          d.Name,
		"PolicyType":          d.Type,
		"PolicyTargetCount":   strconv.Itoa(len(d.Targets)),
		"PolicyTargetsSha256": sha256Hex(targets),
		"ContentSha256":       sha256Hex(d.Content),
	}
	if d.TargetsAttribute {
		data["PolicyTargets"] = targets
	}
	return data
}

// longestPolicyID is as long as a policy ID can be (Organizations API
// reference, Policy: Id matches ^p-[0-9a-zA-Z_]{8,128}$).
var longestPolicyID = "p-" + strings.Repeat("x", 128)

// longestPolicyARN is as long as the ARN of a policy of type typ can be in
// the stack's partition: arn:<partition>:organizations::<account>:policy/
// o-<organization>/<type>/p-<id> (Service Authorization Reference, AWS
// Organizations resource types), organization IDs ^o-[a-z0-9]{10,32}$.
func longestPolicyARN(stackID, typ string) string {
	partition := "aws-us-gov" // the longest of the commercial and GovCloud partitions
	if a, err := arn.Parse(stackID); err == nil {
		partition = a.Partition
	}
	return "arn:" + partition + ":organizations::000000000000:policy/o-" + strings.Repeat("x", 32) +
		"/" + strings.ToLower(typ) + "/" + longestPolicyID
}

// targetsFit tells whether the SUCCESS response can carry PolicyTargets
// within CloudFormation's 4,096 bytes. It is decided from the event before
// any write, with the longest policy ID and ARN Organizations can assign
// (neither is known before CreatePolicy): a response found too large only
// after the work would turn a finished change into FAILED, and its rollback.
// Without PolicyTargets the response always fits: every other attribute is
// bounded (a name of at most 128 characters, two hashes, the ID and ARN).
func targetsFit(ev cfn.Event, d desiredPolicy) (bool, error) {
	d.TargetsAttribute = true
	n, err := cfnresponse.SuccessSize(ev, longestPolicyID, attributes(longestPolicyID, longestPolicyARN(ev.StackID, d.Type), d))
	if err != nil {
		return false, err
	}
	return n <= cfnresponse.MaxBytes, nil
}
