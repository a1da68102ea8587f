// Package backuppolicy reads, renders and checks AWS Organizations backup
// policy documents (policy type BACKUP_POLICY).
//
// Documents are parsed into an order-preserving tree that remembers where
// every value was written, so errors say both where in the policy
// (plans.Daily.rules.Nightly.lifecycle) and where in the text (line 12,
// column 9). Rendering applies the custom resource's Variables and
// PolicyRegions; Validate checks the policy syntax; Minify produces the form
// to send, because the Organizations API counts whitespace against the
// 10,000-character limit.
//
// # Rules
//
// Check reports each problem with a stable Rule ID. Values are checked only
// where a policy sets them (@@assign, and @@append for lists): partial and
// child policies are valid, and no key is ever required. Numbers and
// booleans may be JSON values or strings ("60", 60, false, "false").
// Sources: ORG = Organizations User Guide, "Backup policy syntax and
// examples"; BAK = AWS Backup Developer Guide, "AWS Backup quotas";
// API = AWS Backup API Reference, BackupRuleInput. BAK rows are the
// "Policy quotas" table.
//
//	ID                         severity  checks                                                     source
//	unknown-key                error     keys allowed at each level; top-level "plans"              ORG
//	operator                   error     values set through @@assign/@@append/@@remove; lists only  ORG; policy operators page
//	child-control              error     @@operators_allowed_for_child_policies values              policy operators page
//	copy-action-key            error     copy action key is an ARN; equals its vault ARN but case   ORG copy_actions
//	copy-action-key            warning   an ARN key naming another ARN than target_backup_vault_arn same
//	copy-vault-arn             error     target_backup_vault_arn is a backup-vault ARN               ORG copy_actions; SAR AWS Backup
//	archived-key               warning   WindowsVSS (archived spelling of windows_vss)              archived ORG, Example 1
//	type                       error     JSON types of values; enable_continuous_backup boolean     ORG
//	operator                   warning   several value operators on one key (order undocumented)    policy operators page
//	empty-leaf                 error     {} without operator sets nothing                           this project
//	schedule-expression        error     cron( 6 fields ) with ranges, exactly one ? in dom/dow     API ScheduleExpression; EventBridge cron reference
//	                                     (ParseSchedule, shared with pkg/compliance)
//	schedule-expression        warning   runs less than 60 minutes apart                            AWS Backup's API error (no doc page)
//	schedule-expression        warning   Quartz forms EventBridge does not document: wrapping       EventBridge cron reference
//	                                     ranges, L-n, / in day-of-week, L or W beside other values
//	schedule-timezone          error     schedule_expression_timezone not in org policies           research notes §1.2 (not on ORG)
//	start-window               error     start_backup_window_minutes integer 60..52,560,000         API StartWindowMinutes
//	completion-window          error     integer ≤ 52,560,000 (warning: < start window + 60)         see note
//	cold-storage-retention     warning   delete_after_days ≥ move_to_cold_storage_after_days + 90   ORG lifecycle (see note)
//	continuous-backup          warning   continuous: delete_after_days ≤ 35, no cold storage        ORG enable_continuous_backup
//	air-gapped-vault-arn       error     backup-vault ARN with $region and $account                 ORG target_logically_air_gapped_backup_vault_arn
//	variable-placement         error     $account only in ARN elements                              ORG ("only in elements that can contain an ARN")
//	variable-placement         warning   $region outside the air-gapped vault ARN                   ORG (documented only there)
//	unresolved-variable        warning   any other $word: a Variable not substituted?               this project
//	region                     error     malformed Region code                                      AWS General Reference, Regions
//	region                     warning   well-formed but not in this package's table                same
//	iam-role-arn               error     iam_role_arn, scanner_role_arn are IAM role ARNs           ORG
//	copy-actions-count         error     at most 5 copy actions per rule                            BAK
//	enum                       error     windows_vss, backup_acls, backup_object_tags, scan_mode,   ORG
//	                                     GUARDDUTY and index_actions resource_types
//	selection-kind             error     a plan's selections: tags or resources, not both           ORG selections
//	conditions-count           error     at most 30 conditions per selection                        BAK; ORG
//	quota-selections           error     at most 100 selections (resource assignments) per plan     BAK
//	quota-rules                error     at most 10 rules per plan                                  BAK
//	quota-tag-selections       error     at most 10 tag selections per plan                         BAK
//	quota-tags-per-selection   error     at most 30 tag values in a tag selection                   BAK
//	quota-recovery-point-tags  error     at most 10 recovery point tags per rule                    BAK
//	size                       error     minified document at most 10,000 characters                Organizations quotas
//
// CheckEffective checks an effective policy (Effective) and reports as
// errors what AWS reports per account as an invalid effective policy:
// missing required elements (effective-incomplete), selection-kind, and
// cold-storage-retention and continuous-backup, which on a single document
// are warnings because a child policy may still change the lifecycle (the
// syntax page's Example 5 parent deletes at 2 days and moves to cold
// storage at 180; its child fixes both).
//
// Note on completion-window: a completion window under start window + 60
// minutes is a warning, not an error: no AWS page says it is refused, and the
// policy manager must not refuse what AWS accepts.
package backuppolicy
