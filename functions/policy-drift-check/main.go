// Command bootstrap is the scheduled drift check: on each EventBridge
// schedule event it compares the Custom::BackupOrgPolicy resources of the
// stacks named in DRIFT_STACKS with the organization, read-only, writes an
// EMF record of the counts per drift kind and, when anything drifted,
// publishes a summary to TOPIC_ARN. It only wires configuration to
// pkg/driftcheck; see README.md, "Drift and plan".
//
// Environment:
//
//	DRIFT_STACKS            comma-separated stack names or IDs to check
//	READER_ROLE_NAME        the read-only role assumed in each
//	                        OrgManagementAccount (BackupOrgPolicyReader)
//	ORG_MANAGEMENT_ACCOUNT  OrgManagementAccount of resources that name
//	                        none, as the policy manager's (empty: the
//	                        function's own credentials, delegated admin)
//	TOPIC_ARN               the SNS topic of the summary, in the
//	                        function's account and Region
//	AWS_LAMBDA_LOG_LEVEL    log level (set by Lambda's logging config)
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
	"github.com/backup-as-code/orgbackup/pkg/driftcheck"
	"github.com/backup-as-code/orgbackup/pkg/lambdalog"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
)

// config is the function's environment, checked at start.
type config struct {
	stacks                 []string
	readerRole, orgAccount string
	topic                  arn.ARN
}

func readConfig(getenv func(string) string) (config, error) {
	var c config
	for s := range strings.SplitSeq(getenv("DRIFT_STACKS"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.stacks = append(c.stacks, s)
		}
	}
	if len(c.stacks) == 0 {
		return config{}, errors.New("DRIFT_STACKS: name at least one stack (comma-separated names or stack IDs)")
	}
	c.readerRole, c.orgAccount = getenv("READER_ROLE_NAME"), getenv("ORG_MANAGEMENT_ACCOUNT")
	if c.readerRole == "" {
		c.readerRole = "BackupOrgPolicyReader"
	}
	topic, err := arn.Parse(getenv("TOPIC_ARN"))
	if err != nil || topic.Service != "sns" || topic.AccountID == "" || topic.Region == "" {
		return config{}, fmt.Errorf("TOPIC_ARN %q: want the ARN of an SNS topic (arn:aws:sns:REGION:ACCOUNT:NAME)", getenv("TOPIC_ARN"))
	}
	c.topic = topic
	return c, nil
}

func main() {
	logger := lambdalog.New(os.Stdout, os.Getenv("AWS_LAMBDA_LOG_LEVEL"))
	conf, err := readConfig(os.Getenv)
	if err != nil {
		logger.Error("invalid configuration", "error", err.Error())
		os.Exit(1)
	}
	cfg, err := awsclient.LoadFunction(context.Background(), logger, os.Getenv)
	if err != nil {
		logger.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	name := lambdacontext.FunctionName
	if name == "" {
		name = "policy-drift-check"
	}
	checker := &driftcheck.Checker{
		CloudFormation: cloudformation.NewFromConfig(cfg),
		// The topic is the function's own: its account and Region are the
		// CloudFormation client's.
		Account: conf.topic.AccountID, Region: conf.topic.Region,
		Resource: orgpolicy.NewResource(cfg, name, orgpolicy.Defaults{OrgManagementAccount: conf.orgAccount}),
		Read:     orgpolicy.ReadOptions{ReaderRoleName: conf.readerRole},
		SNS:      sns.NewFromConfig(cfg), TopicARN: conf.topic.String(),
		Metrics: os.Stdout, Namespace: driftcheck.Namespace, FunctionName: name,
		MetricLevel: lambdalog.MetricLevel(os.Getenv("AWS_LAMBDA_LOG_LEVEL")),
	}
	lambda.Start(func(ctx context.Context, ev events.CloudWatchEvent) error {
		log := logger.With(slog.String("eventId", ev.ID))
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			log = log.With(slog.String("requestId", lc.AwsRequestID))
		}
		c := *checker
		c.Logger = log
		_, err := c.Run(lambdalog.NewContext(ctx, log), conf.stacks)
		return err
	})
}
