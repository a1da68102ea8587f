// Command bootstrap is the Lambda function behind Custom::BackupOrgPolicy
// resources. It only wires configuration to pkg/orgpolicy; see README.md.
//
// Environment:
//
//	ORG_MANAGEMENT_ACCOUNT  default OrgManagementAccount (empty: use the
//	                        function's own credentials, delegated admin)
//	ORG_ADMIN_ROLE_NAME     default OrgAdminRoleName
//	                        (BackupOrgPolicyManagerOrgAdmin)
//	ORG_ADMIN_EXTERNAL_ID   default ExternalId for AssumeRole
//	CFN_RESPONSE_HOSTS      comma-separated hosts a ResponseURL may name:
//	                        exact hosts or *.suffix, optional :port
//	                        (empty: the S3 hosts of the function's
//	                        partition, e.g. *.amazonaws.com)
//	ALLOWED_STACK_ACCOUNTS  comma-separated accounts whose stacks may use
//	                        the function (empty: its own account)
//	AWS_LAMBDA_LOG_LEVEL    log level (set by Lambda's logging config)
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
	"github.com/backup-as-code/orgbackup/pkg/customresource"
	"github.com/backup-as-code/orgbackup/pkg/lambdalog"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
)

// metricsNamespace is the CloudWatch namespace of the manager's EMF
// metrics; template.yaml's alarm reads FailedRequests there.
const metricsNamespace = "BackupAsCode/PolicyManager"

func main() {
	logger := lambdalog.New(os.Stdout, os.Getenv("AWS_LAMBDA_LOG_LEVEL"))
	opts, err := handlerOptions(os.Getenv)
	if err != nil {
		logger.Error("invalid configuration", "error", err.Error())
		os.Exit(1)
	}
	opts.Logger = logger
	cfg, err := awsclient.LoadFunction(context.Background(), logger, os.Getenv)
	if err != nil {
		logger.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	sessionName := lambdacontext.FunctionName
	if sessionName == "" {
		sessionName = "backup-org-policy-manager"
	}
	resource := orgpolicy.NewResource(cfg, sessionName, orgpolicy.Defaults{
		OrgManagementAccount: os.Getenv("ORG_MANAGEMENT_ACCOUNT"),
		OrgAdminRoleName:     os.Getenv("ORG_ADMIN_ROLE_NAME"),
		ExternalID:           os.Getenv("ORG_ADMIN_EXTERNAL_ID"),
	})
	handler := customresource.NewHandler(resource.Handle, opts)
	lambda.Start(handler.HandleRaw)
}

// handlerOptions reads the trust settings and the metric level; a bad value
// stops the function at start, naming its variable.
func handlerOptions(getenv func(string) string) (customresource.Options, error) {
	hosts, err := customresource.ParseResponseHosts(getenv(customresource.EnvResponseHosts))
	if err != nil {
		return customresource.Options{}, fmt.Errorf("%s: %w", customresource.EnvResponseHosts, err)
	}
	accounts, err := customresource.ParseAccounts(getenv(customresource.EnvAllowedStackAccounts))
	if err != nil {
		return customresource.Options{}, fmt.Errorf("%s: %w", customresource.EnvAllowedStackAccounts, err)
	}
	return customresource.Options{
		ResponseHosts:    hosts,
		StackAccounts:    accounts,
		Metrics:          os.Stdout,
		MetricsNamespace: metricsNamespace,
		MetricLevel:      lambdalog.MetricLevel(getenv("AWS_LAMBDA_LOG_LEVEL")),
	}, nil
}
