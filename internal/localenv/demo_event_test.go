package localenv_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backup-as-code/orgbackup/internal/localenv"
	"github.com/backup-as-code/orgbackup/internal/localenv/localenvtest"
)

// TestDetectEvent: every sample event is played through the function it
// is for, and input that is none of the three kinds gets an error naming
// what was expected.
func TestDetectEvent(t *testing.T) {
	t.Parallel()
	// Every file in events/ must have a kind: `-event` plays any of them.
	samples, err := filepath.Glob(filepath.Join(localenvtest.EventsDir(), "*.json"))
	if err != nil || len(samples) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	wantSample := map[string]localenv.EventKind{
		"org-policy-create.json":      localenv.CloudFormationEvent,
		"org-policy-create-typo.json": localenv.CloudFormationEvent,
		"org-policy-update.json":      localenv.CloudFormationEvent,
		"org-policy-delete.json":      localenv.CloudFormationEvent,
		"restore-completed.json":      localenv.RestoreEvent,
		"restore-created-state.json":  localenv.RestoreEvent,
		"restore-failed.json":         localenv.RestoreEvent,
		"restore-running.json":        localenv.RestoreEvent,
		"backfill.json":               localenv.BackfillRequest,
		"backfill-legacy.json":        localenv.BackfillRequest,
	}
	for _, path := range samples {
		name := filepath.Base(path)
		want, ok := wantSample[name]
		if !ok {
			t.Errorf("%s: a sample event this test does not know; add it", name)
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := localenv.DetectEvent(data); err != nil || got != want {
			t.Errorf("%s: DetectEvent = %v, %v; want %v", name, got, err, want)
		}
	}

	const expected = "expected a CloudFormation custom resource event (RequestType and ResourceType), " +
		`an AWS Backup restore event (source "aws.backup", detail-type "Restore Job State Change") or a tag re-applier backfill`
	for _, tc := range []struct {
		name, event string
		want        localenv.EventKind
		wantErr     string
	}{
		{"custom resource", `{"RequestType": "Create", "ResourceType": "Custom::BackupOrgPolicy"}`, localenv.CloudFormationEvent, ""},
		{"other custom resource type", `{"RequestType": "Delete", "ResourceType": "Custom::Other"}`, localenv.CloudFormationEvent, ""},
		{"restore", `{"source": "aws.backup", "detail-type": "Restore Job State Change", "detail": {"restoreJobId": "J1"}}`, localenv.RestoreEvent, ""},
		{"backfill", `{"Backfill": {}}`, localenv.BackfillRequest, ""},
		{"legacy backfill", `{"RefreshTagItems": "true"}`, localenv.BackfillRequest, ""},
		{"not JSON", `RequestType: Create`, 0, "not a JSON object"},
		{"not JSON, what was expected", `[1]`, 0, expected},
		{"empty object", `{}`, 0, expected},
		{"another service's event", `{"Records": [{"eventSource": "aws:s3"}]}`, 0, expected},
		{"RequestType without ResourceType", `{"RequestType": "Create"}`, 0, "needs both RequestType and ResourceType"},
		{"ResourceType without RequestType", `{"ResourceType": "Custom::BackupOrgPolicy"}`, 0, "needs both RequestType and ResourceType"},
		{"unknown RequestType", `{"RequestType": "Replace", "ResourceType": "Custom::BackupOrgPolicy"}`, 0, `RequestType "Replace": expected Create, Update or Delete`},
		{"EventBridge event from another source", `{"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification"}`, 0,
			`the tag re-applier would refuse it: unsupported event: source "aws.ec2"`},
		{"restore event without a job", `{"source": "aws.backup", "detail-type": "Restore Job State Change", "detail": {}}`, 0, "has no detail.restoreJobId"},
		{"backfill with a bad time", `{"Backfill": {"Since": "yesterday"}}`, 0, "Backfill.Since"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := localenv.DetectEvent([]byte(tc.event))
			switch {
			case tc.wantErr == "" && (err != nil || got != tc.want):
				t.Errorf("DetectEvent = %v, %v; want %v", got, err, tc.want)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("DetectEvent = %v, %v; want an error containing %q", got, err, tc.wantErr)
			}
		})
	}
}

// TestPlayEvent plays single events as `demo -event FILE` does: an Update
// alone is preceded by a Create from its OldResourceProperties, and says
// what it changed; a restore event goes to the tag re-applier; a failing
// Create shows its Reason and is an error; other input is refused before
// any function starts.
func TestPlayEvent(t *testing.T) {
	manager := localenvtest.BuildFunction(t, "backup-org-policy-manager")
	reapplier := localenvtest.BuildFunction(t, "tag-reapplier")
	for _, tc := range []struct {
		name, event string
		want        []string
		wantErr     string
	}{
		{"update alone", "org-policy-update.json", []string{
			"org-policy-update.json: a CloudFormation custom resource event, played through the policy manager.\n",
			"=== Create OrgDailyMonthlyPolicy  (set-up, from org-policy-update.json's OldResourceProperties)\n" +
				"No Create precedes this Update, so the resource is created first from the event's OldResourceProperties;",
			"Daily (35 days) and monthly (366 days) backups",
			"=== Update OrgDailyMonthlyPolicy  (",
			"What the Update changed:\n",
			`    plans.org-daily-monthly.rules.daily.lifecycle.delete_after_days.@@assign: "35" -> "42"` + "\n",
			"  targets attached: ou-a1b2-workload1 Workloads; detached: ou-a1b2-dev00001 Dev\n",
			"  tags added: cost-center=cc-1234; removed: none; changed: none\n",
			"Done: 2 events, each answered exactly once.\n",
		}, ""},
		{"delete alone", "org-policy-delete.json", []string{
			"=== Create OrgDailyMonthlyPolicy  (set-up, from org-policy-delete.json's ResourceProperties)\n",
			"=== Delete OrgDailyMonthlyPolicy  (",
			"Organization: no backup policies.\n\nDone: 2 events",
		}, ""},
		{"failing create", "org-policy-create-typo.json", []string{
			`FAILED Reason: PolicyContent: plans.org-daily-monthly.rules.daily: unknown key "lifecyle"`,
			"(line 23, column 11)",
			"Organization: no backup policies.\n",
		}, "CloudFormation received FAILED"},
		{"restore", "restore-completed.json", []string{
			"restore-completed.json: an AWS Backup restore event, played through the tag re-applier.\n",
			"=== restore-completed.json\nAWS calls: 1 backup:DescribeRestoreJob, 1 tagging:GetResources, 1 tagging:TagResources\n",
			"Result: tagged",
		}, ""},
		{"backfill", "backfill.json", []string{
			"backfill.json: a tag re-applier backfill request, played through the tag re-applier.\n",
			`"processed":4`,
		}, ""},
		{"unknown kind", "../go.mod", nil, "not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var out, logs bytes.Buffer
			err := localenv.PlayEvent(ctx, localenv.PlayOptions{
				Event:         filepath.Join(localenvtest.EventsDir(), tc.event),
				PolicyManager: manager, TagReapplier: reapplier,
				Out: &out, Logs: &logs, LogPath: "function.log",
			})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("PlayEvent: %v\n%s", err, out.String())
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("PlayEvent = %v; want an error containing %q\n%s", err, tc.wantErr, out.String())
			}
			for _, want := range tc.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %q\n%s", want, out.String())
				}
			}
			if tc.wantErr == "" && !xrayLine.MatchString(out.String()) {
				t.Errorf("report lacks the X-Ray line:\n%s", out.String())
			}
		})
	}
}
