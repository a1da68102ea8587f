package compliance_test

import (
	"fmt"

	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
	"github.com/backup-as-code/orgbackup/pkg/compliance"
)

func ExampleEvaluate() {
	// The effective policy of an OU, as DescribeEffectivePolicy shows it.
	effective, err := backuppolicy.ParseJSON([]byte(`{"plans": {"daily_plan": {
		"regions": ["us-east-1"],
		"rules": {"daily": {
			"schedule_expression": "cron(0 5 ? * * *)",
			"target_backup_vault_name": "Default",
			"lifecycle": {"delete_after_days": "7"}}},
		"selections": {"tags": {"daily": {
			"iam_role_arn": "arn:aws:iam::$account:role/BackupRole",
			"tag_key": "backup", "tag_value": ["daily"]}}}}}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	controls := []compliance.Control{
		{Name: compliance.PlanMinFrequencyAndRetention, Parameters: map[string]string{"requiredRetentionDays": "35"}},
		{Name: compliance.ProtectedByBackupPlan},
		{Name: compliance.RecoveryPointEncrypted},
	}
	for _, f := range compliance.Evaluate("ou-abcd-12345678", effective, controls) {
		fmt.Printf("%s plan %s rule %s: %s: want %s, got %s\n", f.Target, f.Plan, f.Rule, f.Control, f.Expected, f.Actual)
	}
	for _, c := range controls {
		if !compliance.Evaluable(c.Name) {
			fmt.Printf("not checkable offline: %s: %s\n", c.Name, compliance.WhyNotEvaluable(c.Name))
		}
	}
	// Output:
	// ou-abcd-12345678 plan daily_plan rule daily: BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK: want ≥ 35 days, got 7 days
	// not checkable offline: BACKUP_RECOVERY_POINT_ENCRYPTED: it looks at recovery points, which exist only once backups ran (encryption is the vault's)
}

func ExampleReadFramework() {
	controls, err := compliance.ReadFramework("testdata/framework.yaml", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range controls[:3] {
		fmt.Println(c.Source, c.Name, c.Scope.ResourceTypes)
	}
	// Output:
	// testdata/framework.yaml:6 BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN []
	// testdata/framework.yaml:7 BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN [EBS RDS]
	// testdata/framework.yaml:10 BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK []
}
