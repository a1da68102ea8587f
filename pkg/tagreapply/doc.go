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
// however many vaults the account has.
//
// Input is the EventBridge "Restore Job State Change" event, or a backfill
// request that walks completed restore jobs with bounded concurrency and
// stops before the Lambda deadline with a token to continue.
package tagreapply
