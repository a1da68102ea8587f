package localenv_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backup-as-code/orgbackup/internal/localenv"
	"github.com/backup-as-code/orgbackup/internal/localenv/localenvtest"
)

// TestDemo runs what `make demo` runs and checks its report.
func TestDemo(t *testing.T) {
	bin := localenvtest.BuildFunction(t, "backup-org-policy-manager")
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
		Out: &out, Logs: &logs, LogPath: "function.log",
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
		"=== Update OrgDailyMonthlyPolicy",
		"attached to ou-a1b2-workload1  Workloads",
		"tag cost-center = cc-1234",
		"=== Delete OrgDailyMonthlyPolicy",
		"Organization: no backup policies.",
		"X-Ray segments",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Count(report, "CloudFormation received 1 response") != 3 {
		t.Errorf("not every event got exactly one response:\n%s", report)
	}
}

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
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q\n%s", want, report)
		}
	}
}
