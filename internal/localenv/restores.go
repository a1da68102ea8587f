package localenv

import (
	"time"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
)

// SampleRestore is a restored resource of the sample member account.
type SampleRestore struct {
	JobID, ResourceType                         string
	SourceARN, CreatedARN, RecoveryPointARN     string
	SourceTags, RecoveryPointTags, RestoredTags map[string]string
	Created                                     time.Time
}

const acct = awsemu.BackupAccount

// SampleRestores are the restores the sample events report: the EBS volume
// of events/restore-completed.json, and three more a backfill finds.
var SampleRestores = []SampleRestore{
	{
		JobID: "E0A2F1C3-7D4B-4A8E-9F6C-1B2D3E4F5A6B", ResourceType: "EBS",
		SourceARN:        "arn:aws:ec2:us-east-1:" + acct + ":volume/vol-0a1b2c3d4e5f60001",
		CreatedARN:       "arn:aws:ec2:us-east-1:" + acct + ":volume/vol-0a1b2c3d4e5f69001",
		RecoveryPointARN: "arn:aws:ec2:us-east-1::snapshot/snap-0a1b2c3d4e5f60001",
		SourceTags:       map[string]string{"Name": "orders-data", "team": "payments", "env": "prod", "cost-center": "cc-42", "aws:cloudformation:stack-name": "orders"},
		RecoveryPointTags: map[string]string{"backup-plan": "org-daily-monthly", "env": "prod",
			"aws:backup:source-resource": "vol-0a1b2c3d4e5f60001"},
		RestoredTags: map[string]string{"Name": "orders-data-restore-test"},
		Created:      time.Date(2026, 11, 22, 9, 2, 10, 0, time.UTC),
	},
	{
		JobID: "1B2C3D4E-0002-4F5A-8B6C-7D8E9F0A1B2C", ResourceType: "RDS",
		SourceARN:         "arn:aws:rds:us-east-1:" + acct + ":db:orders",
		CreatedARN:        "arn:aws:rds:us-east-1:" + acct + ":db:orders-restored",
		RecoveryPointARN:  "arn:aws:rds:us-east-1:" + acct + ":snapshot:awsbackup:job-1b2c3d4e-0002",
		SourceTags:        map[string]string{"team": "payments", "env": "prod"},
		RecoveryPointTags: map[string]string{"backup-plan": "org-daily-monthly"},
		Created:           time.Date(2026, 11, 10, 14, 0, 0, 0, time.UTC),
	},
	{
		JobID: "1B2C3D4E-0003-4F5A-8B6C-7D8E9F0A1B2C", ResourceType: "DynamoDB",
		SourceARN:         "arn:aws:dynamodb:us-east-1:" + acct + ":table/customers",
		CreatedARN:        "arn:aws:dynamodb:us-east-1:" + acct + ":table/customers-restored",
		RecoveryPointARN:  "arn:aws:backup:us-east-1:" + acct + ":recovery-point:6f1e2d3c-0003",
		RecoveryPointTags: map[string]string{"team": "crm", "backup-plan": "org-daily-monthly"},
		Created:           time.Date(2026, 11, 12, 8, 30, 0, 0, time.UTC),
	},
	{
		JobID: "1B2C3D4E-0004-4F5A-8B6C-7D8E9F0A1B2C", ResourceType: "S3",
		SourceARN:         "arn:aws:s3:::orders-archive",
		CreatedARN:        "arn:aws:s3:::orders-archive-restored",
		RecoveryPointARN:  "arn:aws:backup:us-east-1:" + acct + ":recovery-point:continuous:orders-archive-6f1e2d3c",
		SourceTags:        map[string]string{"team": "payments", "data-class": "confidential"},
		RecoveryPointTags: map[string]string{"backup-plan": "org-daily-monthly"},
		Created:           time.Date(2026, 11, 15, 20, 45, 0, 0, time.UTC),
	},
}

// SeedRestores puts the sample restores on the emulator: their sources
// (when they still exist), recovery points, restored resources and
// completed restore jobs.
func SeedRestores(emu *awsemu.Emulator) {
	for _, r := range SampleRestores {
		if r.SourceTags != nil {
			emu.AddResource(r.SourceARN, r.SourceTags)
		}
		emu.AddResource(r.CreatedARN, r.RestoredTags)
		emu.AddRecoveryPoint(awsemu.RecoveryPoint{ARN: r.RecoveryPointARN, VaultName: "org-backup-vault", ResourceARN: r.SourceARN, ResourceType: r.ResourceType, Tags: r.RecoveryPointTags})
		emu.AddRestoreJob(awsemu.RestoreJob{
			ID: r.JobID, VaultName: "org-backup-vault", RecoveryPointARN: r.RecoveryPointARN, SourceResourceARN: r.SourceARN,
			CreatedResourceARN: r.CreatedARN, ResourceType: r.ResourceType, Status: "COMPLETED", Created: r.Created,
			IAMRoleARN: "arn:aws:iam::" + acct + ":role/BackupOrgServiceRole",
		})
	}
}
