package localenv_test

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/backup-as-code/orgbackup/internal/localenv"
	"github.com/backup-as-code/orgbackup/internal/localenv/localenvtest"
)

// TestDemo runs what `make demo` runs and checks its report, with the
// drift act between the Create and the Update: drift sees the out-of-band
// edit and detach, plan lists the Update's writes (repairing both), and
// the Update makes exactly those.
func TestDemo(t *testing.T) {
	bin := localenvtest.BuildFunction(t, "backup-org-policy-manager")
	cli := localenvtest.BuildCommand(t, "backup-policy")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, logs bytes.Buffer
	err := localenv.Demo(ctx, localenv.DemoOptions{
		Bootstrap: bin,
		Events: []string{
			filepath.Join(localenvtest.EventsDir(), "org-policy-create.json"),
			filepath.Join(localenvtest.EventsDir(), "org-policy-update.json"),
			filepath.Join(localenvtest.EventsDir(), "org-policy-delete.json"),
		},
		FailingEvents: []string{filepath.Join(localenvtest.EventsDir(), "org-policy-create-typo.json")},
		Out:           &out, Logs: &logs, LogPath: "function.log",
		CLI: cli,
	})
	if err != nil {
		t.Fatalf("Demo: %v\n%s", err, out.String())
	}
	report := out.String()
	for _, want := range []string{
		"=== Create OrgDailyMonthlyPolicy",
		`"Status": "SUCCESS"`,
		"AWS calls: 1 cloudformation-response:PutResponse, 2 organizations:AttachPolicy, 1 organizations:CreatePolicy, 1 sts:AssumeRole",
		"attached to ou-a1b2-prod0001   Prod",
		"=== Drift: the organization changed outside CloudFormation\n" +
			"Stack backup-org-policies (arn:aws:cloudformation:us-east-1:222222222222:stack/backup-org-policies/5b1e7a40-8c2d-11ef-9f1a-0affd3b1c9a1) deployed create-template.json",
		"$ backup-policy drift --template create-template.json --stack backup-org-policies --org-management-account 111111111111\n",
		"OrgDailyMonthlyPolicy  p-bk000001  content-drift, targets-drift\n",
		"OrgDailyMonthlyPolicy: content-drift\n",
		"  -              \"@@assign\": \"7\"\n  +              \"@@assign\": \"35\"\n",
		"OrgDailyMonthlyPolicy: detached out of band from ou-a1b2-prod0001\n",
		"1 resource: 0 in sync, 1 drifted; 0 orphaned policies\ndrift exit status 1: drift found\n",
		"$ backup-policy plan --template update-template.json --stack backup-org-policies --org-management-account 111111111111\n",
		"OrgDailyMonthlyPolicy (p-bk000001): update\n  UpdatePolicy p-bk000001: description",
		"      -              \"@@assign\": \"7\"\n      +              \"@@assign\": \"42\"\n",
		"  TagResource p-bk000001 tags cost-center=cc-1234\n" +
			"  AttachPolicy p-bk000001 ou-a1b2-prod0001\n" +
			"  AttachPolicy p-bk000001 ou-a1b2-workload1\n" +
			"  DetachPolicy p-bk000001 ou-a1b2-dev00001\n" +
			"\n1 resource (1 update); 5 writes\nplan exit status 1: changes to make\n",
		", none a write.\n",
		"The Update made exactly the 5 writes plan listed: UpdatePolicy p-bk000001; TagResource p-bk000001; AttachPolicy p-bk000001 ou-a1b2-prod0001; AttachPolicy p-bk000001 ou-a1b2-workload1; DetachPolicy p-bk000001 ou-a1b2-dev00001.\n",
		"=== Update OrgDailyMonthlyPolicy",
		"attached to ou-a1b2-workload1  Workloads",
		"tag cost-center = cc-1234",
		// The Update's changes, against the organization as the
		// out-of-band change left it (retention 7, Prod detached).
		"What the Update changed (compared with the organization just before it, after the out-of-band change):\n" +
			"  description: \"Daily (35 days) and monthly (366 days) backups, copied to the central vault\" -> \"Daily (42 days) and monthly (366 days) backups, copied to the central vault\"\n" +
			"  content: 2 values changed\n" +
			"    plans.org-daily-monthly.rules.daily.copy_actions.arn:aws:backup:us-east-1:333333333333:backup-vault:central-backup-vault.lifecycle.delete_after_days.@@assign: \"35\" -> \"42\"\n" +
			"    plans.org-daily-monthly.rules.daily.lifecycle.delete_after_days.@@assign: \"7\" -> \"42\"\n" +
			"  targets attached: ou-a1b2-prod0001 Prod, ou-a1b2-workload1 Workloads; detached: ou-a1b2-dev00001 Dev\n" +
			"  tags added: cost-center=cc-1234; removed: none; changed: none\n",
		"=== Delete OrgDailyMonthlyPolicy",
		"Organization: no backup policies.",
		"=== Create OrgDailyMonthlyPolicyTypo  (" + filepath.Join(localenvtest.EventsDir(), "org-policy-create-typo.json") + ", expected to fail)\n",
		`"Status": "FAILED"`,
		"AWS calls: 1 cloudformation-response:PutResponse\n" +
			`FAILED Reason: PolicyContent: plans.org-daily-monthly.rules.daily: unknown key "lifecyle"; allowed: `,
		"lifecycle, recovery_point_tags, scan_actions, schedule_expression, start_backup_window_minutes, target_backup_vault_name, target_logically_air_gapped_backup_vault_arn (line 23, column 11)",
		"Nothing was created: no Organizations write was attempted, and the organization holds no backup policies, as before.\n",
		"Done: 4 events, each answered exactly once",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	create, drift, update := strings.Index(report, "=== Create"), strings.Index(report, "=== Drift"), strings.Index(report, "=== Update")
	if create >= drift || drift >= update {
		t.Errorf("the drift act is not between the Create and the Update:\n%s", report)
	}
	if del, typo := strings.Index(report, "=== Delete"), strings.Index(report, "=== Create OrgDailyMonthlyPolicyTypo"); del >= typo {
		t.Errorf("the failing Create is not after the Delete:\n%s", report)
	}
	// The count varies with timing; what it counts does not.
	if !xrayLine.MatchString(report) {
		t.Errorf("report lacks the X-Ray line matching %s:\n%s", xrayLine, report)
	}
	if strings.Count(report, "CloudFormation received 1 response") != 4 {
		t.Errorf("not every event got exactly one response:\n%s", report)
	}
}

// xrayLine is the demo's account of the function's X-Ray documents.
var xrayLine = regexp.MustCompile(`\nX-Ray: the (function|re-applier) sent [0-9]+ subsegments, one per AWS SDK call it made \(the invocation segments are Lambda's own[^)]*\)\.\n|\nX-Ray: the (function|re-applier) made [0-9]+ AWS SDK calls, and [0-9]+ subsegments \(one per call\) arrived`)

// TestTagDemo runs the tag re-applier half of `make demo`.
func TestTagDemo(t *testing.T) {
	bin := localenvtest.BuildFunction(t, "tag-reapplier")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, logs bytes.Buffer
	if err := localenv.TagDemo(ctx, localenv.TagDemoOptions{Bootstrap: bin, EventsDir: localenvtest.EventsDir(), Out: &out, Logs: &logs}); err != nil {
		t.Fatalf("TagDemo: %v\n%s", err, out.String())
	}
	report := out.String()
	for _, want := range []string{
		"=== restore-running.json\nAWS calls: none\nResult: ignored (restore job is RUNNING, not COMPLETED)",
		"recovery point arn:aws:ec2:us-east-1::snapshot/snap-0a1b2c3d4e5f60001, an EBS snapshot (tags read through the Tagging API as arn:aws:ec2:us-east-1:444444444444:snapshot/snap-0a1b2c3d4e5f60001; backup:ListTags serves only arn:aws:backup recovery points): aws:backup:source-resource=vol-0a1b2c3d4e5f60001, backup-plan=org-daily-monthly, env=prod",
		"AWS calls: 1 backup:DescribeRestoreJob, 1 tagging:GetResources, 1 tagging:TagResources\n" +
			"Tags read with tag:GetResources: arn:aws:ec2:us-east-1:444444444444:volume/vol-0a1b2c3d4e5f69001, arn:aws:ec2:us-east-1:444444444444:volume/vol-0a1b2c3d4e5f60001, arn:aws:ec2:us-east-1:444444444444:snapshot/snap-0a1b2c3d4e5f60001\n" +
			"Result: tagged",
		"tagsKept: [Name]",
		"Restored volume now: Name=orders-data-restore-test, backup-plan=org-daily-monthly, cost-center=cc-42, env=prod, team=payments",
		"Result: unchanged",
		`"processed":4`,
		"DynamoDB  arn:aws:dynamodb:us-east-1:444444444444:table/customers-restored: backup-plan=org-daily-monthly, team=crm",
		"\n=== restore-completed.json again: the redelivery check\n" +
			"EventBridge delivers an event at least once; the same event a second time must write nothing and leave the tags as they are.\n" +
			"AWS calls: 1 backup:DescribeRestoreJob, 1 tagging:GetResources\n",
		"Redelivery check passed: no tag:TagResources call, and the tags are as the first delivery left them.\n",
		"The re-applier wrote 8 CloudWatch Embedded Metric Format records.\n",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q\n%s", want, report)
		}
	}
	if strings.Count(report, "=== restore-completed.json") != 2 || strings.Count(report, "redelivery check") != 1 {
		t.Errorf("restore-completed.json is not played twice, the second time as the redelivery check:\n%s", report)
	}
	if !xrayLine.MatchString(report) {
		t.Errorf("report lacks the X-Ray line matching %s:\n%s", xrayLine, report)
	}
}
