// Command bootstrap is the Lambda function that re-applies tags to resources
// AWS Backup restored. It only wires configuration to pkg/tagreapply; see
// README.md.
//
// Environment (each optional):
//
//	TAG_EXCLUSIONS           comma-separated keys never written; "prefix*"
//	                         excludes a prefix (aws: keys never are)
//	TAG_PRECEDENCE           source (default) or recovery-point: whose value
//	                         wins when both have a key
//	OVERWRITE_EXISTING_TAGS  true to replace values the restored resource
//	                         already has (default false: keep them)
//	PROVENANCE_TAG_KEY       when set, also write this key with the recovery
//	                         point ARN as value
//	BACKFILL_CONCURRENCY     restore jobs processed at once in a backfill
//	                         (default 8, 1 to 64)
//	METRICS_NAMESPACE        CloudWatch namespace of the EMF metrics
//	                         (default BackupAsCode/TagReapplier)
//	AWS_LAMBDA_LOG_LEVEL     log level (set by Lambda's logging config); the
//	                         EMF records carry it when above INFO, so the
//	                         level filter never drops them
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
	"github.com/backup-as-code/orgbackup/pkg/lambdalog"
	"github.com/backup-as-code/orgbackup/pkg/tagreapply"
)

func main() {
	logger := lambdalog.New(os.Stdout, os.Getenv("AWS_LAMBDA_LOG_LEVEL"))
	conf, err := tagreapply.ConfigFromEnv(os.Getenv)
	if err != nil {
		logger.Error("invalid configuration", "error", err.Error())
		os.Exit(1)
	}
	cfg, err := awsclient.LoadFunction(context.Background(), logger, os.Getenv)
	if err != nil {
		logger.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(tagreapply.New(cfg, conf, logger, os.Stdout).Handle)
}
