// Package compliance checks effective backup policies against AWS Backup
// Audit Manager controls before the policies reach the organization.
//
// ReadFramework reads the controls of a framework: the
// AWS::Backup::Framework resources of a CloudFormation template (evaluated
// for the parameters given, conditions and AWS::NoValue included), or a
// framework file of this format:
//
//	controls:
//	  - name: BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK
//	    parameters:            # ControlInputParameters; optional
//	      requiredFrequencyUnit: days
//	      requiredFrequencyValue: 1
//	      requiredRetentionDays: 35
//	  - name: BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN
//	    scope:                 # ControlScope; optional
//	      resourceTypes: [EBS, RDS]   # ComplianceResourceTypes
//	      tags: {backup: daily}       # Tags: at most one key and value
//	      resourceIds: [vol-0123]     # ComplianceResourceIds
//
// Evaluate checks the effective policy of an account or OU, the
// operator-free document DescribeEffectivePolicy returns, against the
// controls a policy decides:
//
//   - BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK: each plan must
//     have a rule whose schedule never leaves more than the required
//     frequency between two backups and whose recovery points are kept at
//     least requiredRetentionDays.
//   - BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK: every rule's and copy
//     action's recovery points are kept at least requiredRetentionDays.
//   - BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN: some plan has a selection
//     that can cover the scope's resources.
//   - BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION: in every Region a plan
//     selecting the scope's resources runs in, some rule copies to a vault
//     in another Region (one of crossRegionList's, when given); the
//     finding names the Regions without one.
//   - BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT: some rule of such a plan
//     copies to a vault in another account (one of crossAccountList's).
//
// Where this reading is stricter than AWS Config's: the frequency check
// takes the schedule over its whole life, so a schedule whose year field
// lists years (it stops running) never meets a frequency, and a weekday
// schedule (MON-FRI) leaves 3 days over the weekend, so it fails a daily
// control; AWS Config's rule documents neither case. Both are reported
// with the schedule, so a user can judge.
//
// The documentation of each check says which AWS page it follows. Without
// the account's resources, "can cover" means that a selection's resource
// types include ARNs of the type, or that it selects by tag across all
// types; a tag scope needs a selection on that tag. Controls that look at
// recovery points, vaults or restore jobs (Evaluable reports false) are
// read but never produce a finding.
package compliance
