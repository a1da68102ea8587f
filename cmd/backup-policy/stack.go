package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
	"github.com/backup-as-code/orgbackup/pkg/policysource"
)

// stackFlags are the flags of drift and plan, beyond the template flags.
type stackFlags struct {
	template, stack, readerRole, orgAccount string
}

const stackFlagsHelp = `
AWS access: the standard chain (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL,
...). CloudFormation is read with your own credentials
(cloudformation:DescribeStacks, and GetTemplate for plan); each resource's
OrgManagementAccount through its read-only role (--reader-role, the
ReaderRole of cfn/org-admin-role.yaml: Describe and List only, never the
org-admin role). Without OrgManagementAccount, your own credentials read
the organization, as the delegated administrator.
Parameters: --parameter, else the stack's deployed values, else the
template's defaults; AWS::Region, AWS::AccountId, AWS::StackName and
AWS::StackId are the stack's (for a stack that does not exist yet:
--region, else the AWS configuration's; --account, else the caller's).
DescribeStacks masks NoEcho parameters: give each with --parameter (its
value then stands for the deployed one too). An SSM-typed parameter is
planned with the value it resolved to at the last deploy unless given.
`

func addStackFlags(fs *flag.FlagSet) *stackFlags {
	s := &stackFlags{}
	fs.StringVar(&s.template, "template", "", "the CloudFormation `FILE` with the Custom::BackupOrgPolicy resources")
	fs.StringVar(&s.stack, "stack", "", "the stack: `NAME` or stack ID (ARN)")
	fs.StringVar(&s.readerRole, "reader-role", "BackupOrgPolicyReader", "read-only role `NAME` assumed in each OrgManagementAccount")
	fs.StringVar(&s.orgAccount, "org-management-account", "", "`ACCOUNT` of resources without OrgManagementAccount, as the function's ORG_MANAGEMENT_ACCOUNT (empty: your own credentials)")
	return s
}

// stackTarget is the stack drift and plan look at, and the AWS clients.
type stackTarget struct {
	cfg aws.Config
	cf  *cloudformation.Client
	// id is the unique stack ID; empty when the stack does not exist.
	id                                  string
	name, account, region, partition    string
	params                              map[string]string
	resource                            *orgpolicy.Resource
	ro                                  orgpolicy.ReadOptions
	declared                            []orgpolicy.Declared
	skipped                             []policysource.Skipped
	otherTypes                          []string
	deployedParams, flagParams, content map[string]string
	// resolved are the SSM-typed parameters, whose deployed value is the
	// one resolved at the last deploy.
	resolved []string
}

// awsConfig loads the SDK configuration as the functions do; tests add
// options reaching the emulator.
func (c *cli) awsConfig(ctx context.Context, extra ...func(*config.LoadOptions) error) (aws.Config, error) {
	return awsclient.Load(ctx, awsclient.Options{ConfigOptions: append(slices.Clone(c.awsOptions), extra...)})
}

// openStack finds the stack and reads the template's declared resources.
// A stack that does not exist is an error unless mayBeNew.
func (c *cli) openStack(ctx context.Context, s *stackFlags, o *common, fs *flag.FlagSet, mayBeNew bool) (*stackTarget, error) {
	var extra []func(*config.LoadOptions) error
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "region" {
			// --region is where the stack is: the clients' Region too.
			extra = append(extra, config.WithRegion(o.region))
		}
	})
	cfg, err := c.awsConfig(ctx, extra...)
	if err != nil {
		return nil, err
	}
	t := &stackTarget{cfg: cfg, cf: cloudformation.NewFromConfig(cfg), ro: orgpolicy.ReadOptions{ReaderRoleName: s.readerRole}, params: map[string]string{}, deployedParams: map[string]string{}}
	out, err := t.cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(s.stack)})
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationError":
	case err != nil:
		return nil, fmt.Errorf("describing stack %s: %w", s.stack, awsclient.Short(err))
	case len(out.Stacks) > 0 && out.Stacks[0].StackStatus != cftypes.StackStatusDeleteComplete:
		st := out.Stacks[0]
		t.id, t.name = aws.ToString(st.StackId), aws.ToString(st.StackName)
		for _, p := range st.Parameters {
			// An SSM-typed parameter's value is the parameter name; the
			// template saw its ResolvedValue, "returned only for Systems
			// Manager parameter types" (AWS CloudFormation API Reference,
			// Parameter).
			k := aws.ToString(p.ParameterKey)
			t.deployedParams[k] = cmp.Or(aws.ToString(p.ResolvedValue), aws.ToString(p.ParameterValue))
			if p.ResolvedValue != nil {
				t.resolved = append(t.resolved, k)
			}
		}
	}
	if t.id == "" {
		if !mayBeNew {
			return nil, fmt.Errorf("stack %s does not exist in %s: there is nothing deployed to compare", s.stack, cfg.Region)
		}
		if _, err := arn.Parse(s.stack); err == nil {
			return nil, fmt.Errorf("stack %s does not exist (a new stack is named by its name, not an ID)", s.stack)
		}
		t.name = s.stack
	}
	if err := t.locate(ctx, o, fs); err != nil {
		return nil, err
	}
	maps.Copy(t.params, t.deployedParams)
	maps.Copy(t.params, o.params)
	t.flagParams, t.content = o.params, o.content
	t.resource = orgpolicy.NewResource(cfg, "backup-policy", orgpolicy.Defaults{OrgManagementAccount: s.orgAccount})
	f, err := t.read(s.template, nil, t.params, o.params)
	if err != nil {
		return nil, err
	}
	t.declared, t.skipped, t.otherTypes = f.declared, f.skipped, f.otherTypes
	return t, nil
}

// locate sets the account, Region and partition: the stack ID's, or for a
// new stack the flags given, else the AWS configuration and the caller.
func (t *stackTarget) locate(ctx context.Context, o *common, fs *flag.FlagSet) error {
	if t.id != "" {
		a, err := arn.Parse(t.id)
		if err != nil {
			return fmt.Errorf("stack ID %s: %w", t.id, err)
		}
		t.account, t.region, t.partition = a.AccountID, a.Region, a.Partition
		return nil
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	t.region, t.partition, t.account = cmp.Or(t.cfg.Region, o.region), o.partition, o.account
	if !given["account"] {
		id, err := sts.NewFromConfig(t.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return fmt.Errorf("finding the account of the new stack (or give --account): %w", awsclient.Short(err))
		}
		a, _ := arn.Parse(aws.ToString(id.Arn))
		t.account, t.partition = aws.ToString(id.Account), cmp.Or(a.Partition, t.partition)
	}
	return nil
}

// templateResources are the policy resources of one template.
type templateResources struct {
	declared []orgpolicy.Declared
	skipped  []policysource.Skipped
	// otherTypes are policy resources drift and plan leave out.
	otherTypes []string
}

// read reads a template (body nil: the file path) as the stack deploys it.
// given are the values the user gave: a NoEcho parameter must be one of
// them when the stack has it, as DescribeStacks masks its value (AWS
// CloudFormation User Guide, Parameters: NoEcho).
func (t *stackTarget) read(path string, body []byte, params, given map[string]string) (*templateResources, error) {
	opts := policysource.Options{
		Parameters: params, Content: t.content, ReadS3Later: true,
		Region: t.region, Account: t.account, Partition: t.partition, StackName: t.name, StackID: t.id,
	}
	var f *policysource.File
	var err error
	if body == nil {
		f, err = policysource.Read(path, opts)
	} else {
		f, err = policysource.ReadTemplate(path, body, opts)
	}
	if err != nil {
		return nil, err
	}
	if other := f.OtherTransforms(); len(other) > 0 {
		return nil, fmt.Errorf("%s: Transform %s is not expanded here, so its resources cannot be compared as CloudFormation deploys them (only %s is read as written)", path, strings.Join(other, ", "), policysource.SAMTransform)
	}
	var masked []string
	for _, name := range f.NoEcho {
		if _, deployed := t.deployedParams[name]; deployed {
			if _, ok := given[name]; !ok {
				masked = append(masked, name)
			}
		}
	}
	if len(masked) > 0 {
		return nil, fmt.Errorf("%s: NoEcho parameters %s: CloudFormation shows their deployed values masked; give each with --parameter NAME=VALUE", path, strings.Join(masked, ", "))
	}
	out := &templateResources{skipped: f.Skipped}
	var problems []string
	for _, p := range f.Policies {
		if p.ResourceType != policysource.TypeBackupOrgPolicy {
			out.otherTypes = append(out.otherTypes, p.Resource+" ("+p.ResourceType+")")
			continue
		}
		for _, pr := range p.Problems {
			if pr.Severity == backuppolicy.SeverityError {
				problems = append(problems, fmt.Sprintf("%s:%d:%d: %s: %s: %s", pr.File, pr.Line, pr.Column, pr.Resource, dash(pr.Path), pr.Message))
			}
		}
		out.declared = append(out.declared, orgpolicy.Declared{LogicalID: p.Resource, Properties: p.Properties, DeletionPolicy: p.DeletionPolicy, UpdateReplacePolicy: p.UpdateReplacePolicy})
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s has errors (backup-policy validate shows them all):\n  %s", path, strings.Join(problems, "\n  "))
	}
	return out, nil
}

// deployed reads the stack's current template with its deployed
// parameter values (and the --parameter values that are not template
// parameters: Fn::GetAtt, Fn::ImportValue, dynamic references), as
// CloudFormation last sent the resources.
func (t *stackTarget) deployed(ctx context.Context) ([]orgpolicy.Declared, error) {
	out, err := t.cf.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String(t.id), TemplateStage: cftypes.TemplateStageOriginal})
	if err != nil {
		return nil, fmt.Errorf("reading the deployed template of stack %s: %w", t.id, awsclient.Short(err))
	}
	name, body := "deployed template of "+t.name, []byte(aws.ToString(out.TemplateBody))
	masked, err := policysource.NoEchoParameters(name, body)
	if err != nil {
		return nil, err
	}
	params := maps.Clone(t.deployedParams)
	for k, v := range t.flagParams {
		// A --parameter overrides a deployed value for the new template
		// only; a NoEcho one stands for the masked deployed value too.
		if _, isParam := t.deployedParams[k]; !isParam || slices.Contains(masked, k) {
			params[k] = v
		}
	}
	f, err := t.read(name, body, params, t.flagParams)
	if err != nil {
		return nil, err
	}
	return f.declared, nil
}

// note prints what the command leaves out.
func (c *cli) noteLeftOut(t *stackTarget) {
	for _, s := range t.skipped {
		fmt.Fprintf(c.stderr, "skipped %s: %s\n", s.Resource, s.Reason)
	}
	if len(t.otherTypes) > 0 {
		slices.Sort(t.otherTypes)
		fmt.Fprintf(c.stderr, "not checked (not served by the policy manager): %s\n", strings.Join(t.otherTypes, ", "))
	}
}
