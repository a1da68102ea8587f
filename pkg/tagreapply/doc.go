// Package tagreapply puts tags back on resources that AWS Backup restored.
//
// AWS Backup restores most resources without their tags; its own
// CopySourceTagsToRestoredResource covers some resource types and only
// backups taken after 2023-05-22, not DynamoDB, S3, Timestream or VMs, and
// EC2 restores do not get their volumes' tags. For every completed restore
// job this package reads the tags of the recovery point and of the source
// resource (when it still exists in this account and Region), merges them
// under configurable rules, and writes them onto the restored resource with
// the Resource Groups Tagging API: a constant number of calls per job,
// however many vaults the account has. A recovery point's tags are read
// with backup:ListTags only for arn:aws:backup recovery points; snapshots,
// AMIs and other service-owned recovery points are read with the Tagging
// API, in the call that reads the source and restored resources. Restored
// EC2 instances' volumes get the tags of the source volumes on the same
// device names.
//
// Input is the EventBridge "Restore Job State Change" event, or a backfill
// request that walks completed restore jobs with bounded concurrency and
// stops before the Lambda deadline with a token to continue.
package tagreapply
