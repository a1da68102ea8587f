package tagreapply

import (
	"fmt"
	"slices"
	"strings"

	awsarn "github.com/aws/aws-sdk-go-v2/aws/arn"
)

// parseARN parses a resource ARN with the SDK's parser, which checks only
// the arn: prefix and the number of sections; a restore job's resource also
// needs a partition, a service and a resource.
func parseARN(s string) (awsarn.ARN, error) {
	a, err := awsarn.Parse(s)
	if err != nil || a.Partition == "" || a.Service == "" || a.Resource == "" {
		return awsarn.ARN{}, fmt.Errorf("%q is not an ARN", s)
	}
	return a, nil
}

// tagAPIServices are the ARN services of the resources AWS Backup restores
// that TagResources can tag, after the Resource Groups Tagging API
// reference, "Services that support the Resource Groups Tagging API"
// (docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/supported-services.html):
// that list names the services whose resources TagResources tags, while
// GetResources reads every resource type. DocumentDB and Neptune clusters
// have rds ARNs; Aurora DSQL (dsql), EKS (eks), CloudFormation stacks,
// SAP HANA on EC2 (ssm-sap), Redshift Serverless (redshift-serverless),
// Timestream (timestream) and VMware VMs of AWS Backup gateway
// (backup-gateway) are left out: a restore of them is reported
// "unsupported" (a service that joins the list is one word here).
var tagAPIServices = []string{"ec2", "rds", "dynamodb", "elasticfilesystem", "fsx", "s3", "redshift", "storagegateway"}

func taggable(a awsarn.ARN) bool { return slices.Contains(tagAPIServices, a.Service) }

// qualified returns an ARN in the form the Tagging API names resources:
// with its account. AWS Backup writes the recovery point ARNs of EC2
// snapshots and images without one (arn:aws:ec2:us-east-1::snapshot/snap-…);
// a regional ARN without an account gets account. S3 ARNs have neither
// Region nor account and stay as they are, as does anything unparsable.
func qualified(s, account string) string {
	a, err := awsarn.Parse(s)
	if err != nil || a.AccountID != "" || a.Region == "" || account == "" {
		return s
	}
	a.AccountID = account
	return a.String()
}

// recoveryPointKind says where a recovery point's tags are read.
type recoveryPointKind int

const (
	// rpNone: the job names no recovery point.
	rpNone recoveryPointKind = iota
	// rpBackup: a resource type fully managed by AWS Backup
	// (arn:<partition>:backup:…), whose tags only backup:ListTags reads.
	rpBackup
	// rpResource: a resource of its own service (EBS snapshot, AMI, RDS or
	// Redshift snapshot, FSx backup…), read through the Tagging API.
	rpResource
	// rpUntagged: a DynamoDB backup without advanced features
	// (arn:…:dynamodb:…:table/T/backup/…): DynamoDB tags backups only with
	// Advanced DynamoDB backup enabled, so it has no tags to read.
	rpUntagged
	// rpUnknown: not an ARN.
	rpUnknown
)

// classifyRecoveryPoint follows the AWS Backup API reference, ListTags:
// "include only values representing resource types that are fully managed
// by AWS Backup. These have an ARN that begins arn:aws:backup"; other
// recovery points "may return" InvalidParameterValueException there.
func classifyRecoveryPoint(s string) recoveryPointKind {
	if s == "" {
		return rpNone
	}
	a, err := awsarn.Parse(s)
	switch {
	case err != nil:
		return rpUnknown
	case a.Service == "backup":
		return rpBackup
	case a.Service == "dynamodb" && strings.Contains(a.Resource, "/backup/"):
		return rpUntagged
	}
	return rpResource
}
