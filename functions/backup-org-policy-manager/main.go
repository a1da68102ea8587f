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
//	AWS_LAMBDA_LOG_LEVEL    log level (set by Lambda's logging config)
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
	"github.com/backup-as-code/orgbackup/pkg/customresource"
	"github.com/backup-as-code/orgbackup/pkg/lambdalog"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
)

func main() {
	logger := lambdalog.New(os.Stdout, os.Getenv("AWS_LAMBDA_LOG_LEVEL"))
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{Tracing: true, Logger: logger})
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
	handler := customresource.NewHandler(resource.Handle, customresource.Options{Logger: logger})
	lambda.Start(handler.HandleRaw)
}
