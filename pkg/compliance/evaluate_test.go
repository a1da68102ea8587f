package compliance

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
)

const account = "123456789012"

func parse(t *testing.T, doc string) *backuppolicy.Node {
	t.Helper()
	if doc == "" {
		return nil
	}
	n, err := backuppolicy.ParseJSON([]byte(doc))
	if err != nil {
		t.Fatalf("parsing the test policy: %v\n%s", err, doc)
	}
	return n
}

// onePlan writes an effective policy of one plan "p" in us-east-1 with
// the given rules and selections (JSON object bodies).
// twoRegions is a daily plan in us-east-1 and us-west-2.
func twoRegions(copyActions string) string {
	return `{"plans": {"p": {"regions": ["us-east-1", "us-west-2"], "rules": {` + daily("r", "35", copyActions) + `}, "selections": {` + tagsDaily + `}}}}`
}

func onePlan(rules, selections string) string {
	return `{"plans": {"p": {"regions": ["us-east-1"], "rules": {` + rules + `}, "selections": {` + selections + `}}}}`
}

// daily is a rule named name backing up daily and keeping recovery
// points retention days ("" for no lifecycle), with extra members.
func daily(name, retention, extra string) string {
	r := `"` + name + `": {"schedule_expression": "cron(0 5 ? * * *)", "target_backup_vault_name": "Default"`
	if retention != "" {
		r += `, "lifecycle": {"delete_after_days": "` + retention + `"}`
	}
	if extra != "" {
		r += ", " + extra
	}
	return r + "}"
}

func scheduled(name, schedule, retention string) string {
	return `"` + name + `": {"schedule_expression": "` + schedule + `", "target_backup_vault_name": "Default", "lifecycle": {"delete_after_days": ` + retention + `}}`
}

func copyTo(vault, retention string) string {
	c := `"` + vault + `": {"target_backup_vault_arn": "` + vault + `"`
	if retention != "" {
		c += `, "lifecycle": {"delete_after_days": "` + retention + `"}`
	}
	return c + "}"
}

func copies(cs ...string) string { return `"copy_actions": {` + strings.Join(cs, ", ") + `}` }

const (
	tagsDaily    = `"tags": {"daily": {"iam_role_arn": "arn:aws:iam::$account:role/R", "tag_key": "backup", "tag_value": ["daily"]}}`
	centralVault = "arn:aws:backup:us-west-2:111122223333:backup-vault:central"
	localVault   = "arn:aws:backup:us-east-1:$account:backup-vault:local"
)

func resources(types, not, conditions string) string {
	s := `"resources": {"sel": {"iam_role_arn": "arn:aws:iam::$account:role/R", "resource_types": [` + types + `]`
	if not != "" {
		s += `, "not_resource_types": [` + not + `]`
	}
	if conditions != "" {
		s += `, "conditions": ` + conditions
	}
	return s + "}}"
}

type evalCase struct {
	name    string
	target  string // account when empty
	policy  string
	control Control
	want    []Finding
}

// ignoreProse leaves the message out of comparisons; tests that care
// check it themselves.
var ignoreProse = cmpopts.IgnoreFields(Finding{}, "Message")

func runCases(t *testing.T, tests []evalCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			target := tt.target
			if target == "" {
				target = account
			}
			got := Evaluate(target, parse(t, tt.policy), []Control{tt.control})
			for i := range tt.want {
				tt.want[i].Target, tt.want[i].Control = target, tt.control.Name
			}
			if diff := cmp.Diff(tt.want, got, ignoreProse, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Evaluate (-want +got):\n%s", diff)
			}
			for i, f := range got {
				if f.Message == "" {
					t.Errorf("finding without a message: %+v", f)
				}
				// Where a case states the message, it is compared too.
				if i < len(tt.want) && tt.want[i].Message != "" && f.Message != tt.want[i].Message {
					t.Errorf("message = %q, want %q", f.Message, tt.want[i].Message)
				}
			}
		})
	}
}

func TestPlanMinFrequencyAndRetention(t *testing.T) {
	t.Parallel()
	c := Control{Name: PlanMinFrequencyAndRetention}
	hours12 := Control{Name: PlanMinFrequencyAndRetention, Parameters: map[string]string{
		"requiredFrequencyUnit": "hours", "requiredFrequencyValue": "12", "requiredRetentionDays": "7",
	}}
	tagged := Control{Name: PlanMinFrequencyAndRetention, Scope: Scope{Tags: map[string]string{"tier": "gold"}}}
	const wantFreq, wantRet = "≤ 1 day between backups", "≥ 35 days"
	schedulePath := "plans.p.rules.r.schedule_expression"
	retentionPath := "plans.p.rules.r.lifecycle.delete_after_days"
	runCases(t, []evalCase{
		{name: "daily for 35 days", policy: onePlan(daily("r", "35", ""), tagsDaily), control: c},
		{name: "kept until deleted", policy: onePlan(daily("r", "", ""), tagsDaily), control: c},
		{name: "retention as a JSON number", policy: onePlan(scheduled("r", "cron(0 5 ? * * *)", "400"), tagsDaily), control: c},
		{name: "one rule meets both, another neither", control: c,
			policy: onePlan(scheduled("weekly", "cron(0 5 ? * 1 *)", "7")+", "+daily("r", "35", ""), tagsDaily)},
		{name: "daily for 7 days", policy: onePlan(daily("r", "7", ""), tagsDaily), control: c, want: []Finding{
			{Plan: "p", Rule: "r", Path: retentionPath, Expected: wantRet, Actual: "7 days"},
		}},
		{name: "weekly", policy: onePlan(scheduled("r", "cron(0 5 ? * SUN *)", "90"), tagsDaily), control: c, want: []Finding{
			{Plan: "p", Rule: "r", Path: schedulePath, Expected: wantFreq, Actual: "up to 7 days between backups (cron(0 5 ? * SUN *))"},
		}},
		{name: "weekdays only", policy: onePlan(scheduled("r", "cron(0 5 ? * MON-FRI *)", "90"), tagsDaily), control: c, want: []Finding{
			{Plan: "p", Rule: "r", Path: schedulePath, Expected: wantFreq, Actual: "up to 3 days between backups (cron(0 5 ? * MON-FRI *))"},
		}},
		{name: "each rule meets one", control: c,
			policy: onePlan(scheduled("monthly", "cron(0 5 1 * ? *)", "365")+", "+daily("r", "7", ""), tagsDaily), want: []Finding{
				{Plan: "p", Rule: "monthly", Path: "plans.p.rules.monthly.schedule_expression", Expected: wantFreq, Actual: "up to 31 days between backups (cron(0 5 1 * ? *))"},
				{Plan: "p", Rule: "r", Path: retentionPath, Expected: wantRet, Actual: "7 days"},
			}},
		{name: "a rule failing both", policy: onePlan(scheduled("r", "cron(0 5 L * ? *)", "7"), tagsDaily), control: c, want: []Finding{
			{Plan: "p", Rule: "r", Path: retentionPath, Expected: wantRet, Actual: "7 days"},
			{Plan: "p", Rule: "r", Path: schedulePath, Expected: wantFreq, Actual: "up to 31 days between backups (cron(0 5 L * ? *))"},
		}},
		{name: "an unreadable schedule", policy: onePlan(scheduled("r", "rate(1 day)", "35"), tagsDaily), control: c, want: []Finding{
			{Plan: "p", Rule: "r", Path: schedulePath, Expected: wantFreq, Actual: `unreadable schedule: schedule "rate(1 day)": rate() expressions are not accepted; use cron(minutes hours day-of-month month day-of-week year) in UTC`},
		}},
		{name: "a schedule that never runs", policy: onePlan(scheduled("r", "cron(0 5 30 2 ? *)", "35"), tagsDaily), control: c, want: []Finding{
			{Plan: "p", Rule: "r", Path: schedulePath, Expected: wantFreq, Actual: "cron(0 5 30 2 ? *) never runs"},
		}},
		{name: "a schedule that stops", policy: onePlan(scheduled("r", "cron(0 5 ? * * 2027)", "35"), tagsDaily), control: c, want: []Finding{
			{Plan: "p", Rule: "r", Path: schedulePath, Expected: wantFreq, Actual: "cron(0 5 ? * * 2027) stops running after the years it lists"},
		}},
		{name: "no schedule", control: c, policy: onePlan(`"r": {"target_backup_vault_name": "Default"}`, tagsDaily), want: []Finding{
			{Plan: "p", Rule: "r", Path: schedulePath, Expected: wantFreq, Actual: "no schedule_expression"},
		}},
		{name: "retention not a number", policy: onePlan(daily("r", "five weeks", ""), tagsDaily), control: c, want: []Finding{
			{Plan: "p", Rule: "r", Path: retentionPath, Expected: wantRet, Actual: `delete_after_days is "five weeks", not a whole number of days`},
		}},
		{name: "no rules", policy: onePlan("", tagsDaily), control: c, want: []Finding{
			{Plan: "p", Path: "plans.p.rules", Expected: wantFreq + ", " + wantRet, Actual: "no rules"},
		}},
		{name: "no plans: nothing to evaluate", policy: `{}`, control: c},
		{name: "every 12 hours against 12 hours", policy: onePlan(scheduled("r", "cron(0 0/12 ? * * *)", "7"), tagsDaily), control: hours12},
		{name: "daily against 12 hours", policy: onePlan(daily("r", "7", ""), tagsDaily), control: hours12, want: []Finding{
			{Plan: "p", Rule: "r", Path: schedulePath, Expected: "≤ 12 hours between backups", Actual: "up to 1 day between backups (cron(0 5 ? * * *))"},
		}},
		{name: "tag scope: an untagged plan is out of scope", policy: onePlan(daily("r", "7", ""), tagsDaily), control: tagged},
		{name: "tag scope: a tagged plan", control: tagged,
			policy: `{"plans": {"p": {"regions": ["us-east-1"], "rules": {` + daily("r", "7", "") + `}, "selections": {` + tagsDaily + `},
				"backup_plan_tags": {"tier": {"tag_key": "tier", "tag_value": "gold"}}}}}`,
			want: []Finding{{Plan: "p", Rule: "r", Path: retentionPath, Expected: wantRet, Actual: "7 days"}}},
	})
}

func TestPlanMinFrequencyAndRetentionMessage(t *testing.T) {
	t.Parallel()
	got := Evaluate(account, parse(t, onePlan(daily("r", "7", ""), tagsDaily)), []Control{{Name: PlanMinFrequencyAndRetention, Source: "f.yaml:3"}})
	if len(got) != 1 {
		t.Fatalf("got %d findings, want 1: %+v", len(got), got)
	}
	const want = "no rule of plan p backs up at least every 1 day and keeps recovery points at least 35 days; rule r: 7 days"
	if got[0].Message != want || got[0].Source != "f.yaml:3" {
		t.Errorf("Message, Source = %q, %q; want %q, f.yaml:3", got[0].Message, got[0].Source, want)
	}
}

func TestRecoveryPointMinimumRetention(t *testing.T) {
	t.Parallel()
	c := Control{Name: RecoveryPointMinimumRetention}
	ebs := Control{Name: RecoveryPointMinimumRetention, Scope: Scope{ResourceTypes: []string{"EBS"}}}
	const want = "≥ 35 days"
	runCases(t, []evalCase{
		{name: "35 days", policy: onePlan(daily("r", "35", ""), tagsDaily), control: c},
		{name: "kept until deleted", policy: onePlan(daily("r", "", ""), tagsDaily), control: c},
		{name: "a copy inheriting 35 days", policy: onePlan(daily("r", "35", copies(copyTo(centralVault, ""))), tagsDaily), control: c},
		{name: "a copy kept longer", policy: onePlan(daily("r", "35", copies(copyTo(centralVault, "365"))), tagsDaily), control: c},
		// The frequency does not matter to this control.
		{name: "monthly for a year", policy: onePlan(scheduled("r", "cron(0 5 1 * ? *)", `"365"`), tagsDaily), control: c},
		{name: "7 days", policy: onePlan(daily("r", "7", ""), tagsDaily), control: c, want: []Finding{
			{Plan: "p", Rule: "r", Path: "plans.p.rules.r.lifecycle.delete_after_days", Expected: want, Actual: "7 days"},
		}},
		{name: "every rule is checked", control: c, policy: onePlan(daily("a", "1", "")+", "+daily("b", "35", "")+", "+daily("c", "34", ""), tagsDaily), want: []Finding{
			{Plan: "p", Rule: "a", Path: "plans.p.rules.a.lifecycle.delete_after_days", Expected: want, Actual: "1 day"},
			{Plan: "p", Rule: "c", Path: "plans.p.rules.c.lifecycle.delete_after_days", Expected: want, Actual: "34 days"},
		}},
		{name: "a copy kept 14 days", policy: onePlan(daily("r", "35", copies(copyTo(localVault, "14"))), tagsDaily), control: c, want: []Finding{
			{Plan: "p", Rule: "r", Path: "plans.p.rules.r.copy_actions." + localVault + ".lifecycle.delete_after_days", Expected: want, Actual: "14 days"},
		}},
		{name: "scope: a plan not selecting EBS", policy: onePlan(daily("r", "7", ""), resources(`"arn:aws:ec2:*:*:instance/*"`, "", "")), control: ebs},
		{name: "scope: a plan selecting EBS", policy: onePlan(daily("r", "7", ""), resources(`"arn:aws:ec2:*:*:volume/*"`, "", "")), control: ebs, want: []Finding{
			{Plan: "p", Rule: "r", Path: "plans.p.rules.r.lifecycle.delete_after_days", Expected: want, Actual: "7 days"},
		}},
	})
}

func TestRecoveryPointMinimumRetentionMessage(t *testing.T) {
	t.Parallel()
	got := Evaluate(account, parse(t, onePlan(daily("r", "7", copies(copyTo(centralVault, ""))), tagsDaily)), []Control{{Name: RecoveryPointMinimumRetention}})
	const want = "recovery points of rule r expire after 7 days, and so do the copies of its 1 copy action that set no delete_after_days"
	if len(got) != 1 || got[0].Message != want {
		t.Errorf("findings = %+v; want one with message %q", got, want)
	}
}

func TestProtectedByBackupPlan(t *testing.T) {
	t.Parallel()
	c := Control{Name: ProtectedByBackupPlan}
	types := Control{Name: ProtectedByBackupPlan, Scope: Scope{ResourceTypes: []string{"EBS", "RDS"}}}
	tag := Control{Name: ProtectedByBackupPlan, Scope: Scope{Tags: map[string]string{"backup": "daily"}}}
	id := Control{Name: ProtectedByBackupPlan, Scope: Scope{ResourceTypes: []string{"EBS"}, ResourceIDs: []string{"vol-0123456789abcdef0"}}}
	const none = "no selection of any plan covers them"
	const ebsArns = "EBS resources (arn:aws:ec2:*:*:volume/*)"
	const rdsArns = "RDS resources (arn:aws:rds:*:*:db:*, arn:aws:rds:*:*:cluster:*)"
	rule := daily("r", "35", "")
	runCases(t, []evalCase{
		{name: "a tags selection", policy: onePlan(rule, tagsDaily), control: c},
		{name: "no plans", policy: `{"plans": {}}`, control: c, want: []Finding{{Path: "plans", Expected: "a backup plan selecting resources", Actual: "no backup plans"}}},
		{name: "no policy at all", policy: "", control: c, want: []Finding{{Path: "plans", Expected: "a backup plan selecting resources", Actual: "no backup plans"}}},
		{name: "a plan without selections", policy: onePlan(rule, ""), control: c, want: []Finding{
			{Path: "plans", Expected: "a selection covering resources", Actual: none},
		}},
		{name: "types: a tags selection covers every type", policy: onePlan(rule, tagsDaily), control: types},
		{name: "types: every resource", policy: onePlan(rule, resources(`"*"`, "", "")), control: types},
		{name: "types: both listed", policy: onePlan(rule, resources(`"arn:aws:ec2:*:*:volume/*", "arn:aws:rds:*:*:db:*"`, "", "")), control: types},
		{name: "types: one volume is enough", policy: onePlan(rule, resources(`"arn:aws:ec2:us-east-1:*:volume/vol-1", "arn:aws:rds:*:*:cluster:*"`, "", "")), control: types},
		{name: "types: GovCloud ARNs", policy: onePlan(rule, resources(`"arn:aws-us-gov:ec2:*:*:volume/*", "arn:aws-us-gov:rds:*:*:db:*"`, "", "")), control: types},
		{name: "types: only volumes", policy: onePlan(rule, resources(`"arn:aws:ec2:*:*:volume/*"`, "", "")), control: types, want: []Finding{
			{Path: "plans", Expected: "a selection covering " + rdsArns, Actual: none},
		}},
		{name: "types: all but volumes", policy: onePlan(rule, resources(`"*"`, `"arn:aws:ec2:*:*:volume/*"`, "")), control: types, want: []Finding{
			{Path: "plans", Expected: "a selection covering " + ebsArns, Actual: none},
		}},
		{name: "types: instances only", policy: onePlan(rule, resources(`"arn:aws:ec2:*:*:instance/*"`, "", "")), control: types, want: []Finding{
			{Path: "plans", Expected: "a selection covering " + ebsArns, Actual: none},
			{Path: "plans", Expected: "a selection covering " + rdsArns, Actual: none},
		}},
		{name: "tag: a tags selection on it", policy: onePlan(rule, tagsDaily), control: tag},
		{name: "tag: a resources selection on it", control: tag, policy: onePlan(rule, resources(`"*"`, "",
			`{"string_equals": {"t": {"condition_key": "aws:ResourceTag/backup", "condition_value": "daily"}}}`))},
		{name: "tag: every resource", policy: onePlan(rule, resources(`"*"`, "", "")), control: tag},
		{name: "tag: another value", control: tag,
			policy: onePlan(rule, `"tags": {"weekly": {"iam_role_arn": "arn:aws:iam::$account:role/R", "tag_key": "backup", "tag_value": ["weekly"]}}`),
			want:   []Finding{{Path: "plans", Expected: "a selection covering resources tagged backup=daily", Actual: none}}},
		{name: "tag: a resources selection on another tag", control: tag, policy: onePlan(rule, resources(`"*"`, "",
			`{"string_equals": {"t": {"condition_key": "aws:ResourceTag/env", "condition_value": "prod"}}}`)),
			want: []Finding{{Path: "plans", Expected: "a selection covering resources tagged backup=daily", Actual: none}}},
		{name: "id: a volume selection", policy: onePlan(rule, resources(`"arn:aws:ec2:*:*:volume/*"`, "", "")), control: id},
		{name: "id: another volume", policy: onePlan(rule, resources(`"arn:aws:ec2:*:*:volume/vol-1"`, "", "")), control: id, want: []Finding{
			{Path: "plans", Expected: "a selection covering " + ebsArns + ", resource vol-0123456789abcdef0", Actual: none},
		}},
	})
}

func TestProtectedByCrossRegion(t *testing.T) {
	t.Parallel()
	c := Control{Name: ProtectedByCrossRegion, Parameters: map[string]string{"crossRegionList": "us-west-2, eu-west-1"}}
	anyRegion := Control{Name: ProtectedByCrossRegion}
	scoped := Control{Name: ProtectedByCrossRegion, Parameters: c.Parameters, Scope: Scope{ResourceTypes: []string{"EBS"}}}
	const want = "a copy to a vault in us-west-2 or eu-west-1"
	runCases(t, []evalCase{
		{name: "a copy to us-west-2", policy: onePlan(daily("r", "35", copies(copyTo(centralVault, ""))), tagsDaily), control: c},
		{name: "one of two copies", policy: onePlan(daily("r", "35", copies(copyTo(localVault, ""), copyTo(centralVault, ""))), tagsDaily), control: c},
		{name: "a copy key without target_backup_vault_arn", control: c,
			policy: onePlan(daily("r", "35", copies(`"`+centralVault+`": {"lifecycle": {"delete_after_days": "35"}}`)), tagsDaily)},
		{name: "a copy in the same Region", policy: onePlan(daily("r", "35", copies(copyTo(localVault, ""))), tagsDaily), control: c, want: []Finding{
			{Path: "plans", Expected: want, Actual: "copies only to " + localVault},
		}},
		{name: "a copy to a Region not listed", control: c,
			policy: onePlan(daily("r", "35", copies(copyTo("arn:aws:backup:ap-south-1:111122223333:backup-vault:v", ""))), tagsDaily),
			want:   []Finding{{Path: "plans", Expected: want, Actual: "copies only to arn:aws:backup:ap-south-1:111122223333:backup-vault:v"}}},
		{name: "no copies", policy: onePlan(daily("r", "35", ""), tagsDaily), control: c, want: []Finding{
			{Path: "plans", Expected: want, Actual: "no copy actions"},
		}},
		{name: "no plans", policy: `{}`, control: c, want: []Finding{{Path: "plans", Expected: want, Actual: "no backup plans"}}},
		{name: "no list: another Region than the plan's", policy: onePlan(daily("r", "35", copies(copyTo(centralVault, ""))), tagsDaily), control: anyRegion},
		{name: "no list: the plan's own Region", control: anyRegion,
			policy: `{"plans": {"p": {"regions": ["us-west-2"], "rules": {` + daily("r", "35", copies(copyTo(centralVault, ""))) + `}, "selections": {` + tagsDaily + `}}}}`,
			want:   []Finding{{Path: "plans", Expected: "a copy to a vault in another Region", Actual: "copies only to " + centralVault}}},
		// Each Region of the plan needs a copy out of it.
		{name: "two Regions, a copy to one of them", control: anyRegion,
			policy: twoRegions(copies(copyTo(centralVault, ""))),
			want: []Finding{{Path: "plans", Expected: "a copy to a vault in another Region", Actual: "copies only to " + centralVault,
				Message: "no rule copies backups of resources made in us-west-2 as required: copies only to " + centralVault}}},
		{name: "two Regions, a listed copy to one of them", control: c,
			policy: twoRegions(copies(copyTo(centralVault, ""))),
			want: []Finding{{Path: "plans", Expected: want, Actual: "copies only to " + centralVault,
				Message: "no rule copies backups of resources made in us-west-2 as required: copies only to " + centralVault}}},
		// A framework deployed only in us-east-1 (the template leaves the
		// control out in us-west-2, where the copies go) checks us-east-1.
		{name: "two Regions, the control deployed in one", control: Control{Name: ProtectedByCrossRegion, Parameters: c.Parameters, Regions: []string{"us-east-1"}},
			policy: twoRegions(copies(copyTo(centralVault, "")))},
		{name: "the control deployed where no plan runs", control: Control{Name: ProtectedByCrossRegion, Regions: []string{"ap-south-1"}},
			policy: twoRegions("")},
		{name: "two Regions, each copying out", control: c,
			policy: twoRegions(copies(copyTo(centralVault, ""), copyTo("arn:aws:backup:eu-west-1:111122223333:backup-vault:dr", "")))},
		{name: "a copy to $region is never cross-Region", control: anyRegion,
			policy: onePlan(daily("r", "35", copies(copyTo("arn:aws:backup:$region:111122223333:backup-vault:v", ""))), tagsDaily),
			want:   []Finding{{Path: "plans", Expected: "a copy to a vault in another Region", Actual: "copies only to arn:aws:backup:$region:111122223333:backup-vault:v"}}},
		{name: "scope: the copying plan does not select EBS", control: scoped,
			policy: onePlan(daily("r", "35", copies(copyTo(centralVault, ""))), resources(`"arn:aws:ec2:*:*:instance/*"`, "", "")),
			want:   []Finding{{Path: "plans", Expected: want, Actual: "no plan selects EBS resources (arn:aws:ec2:*:*:volume/*)"}}},
		{name: "scope: the copying plan selects EBS", control: scoped,
			policy: onePlan(daily("r", "35", copies(copyTo(centralVault, ""))), resources(`"arn:aws:ec2:*:*:volume/*"`, "", ""))},
	})
}

func TestProtectedByCrossAccount(t *testing.T) {
	t.Parallel()
	c := Control{Name: ProtectedByCrossAccount, Parameters: map[string]string{"crossAccountList": "111122223333"}}
	anyAccount := Control{Name: ProtectedByCrossAccount}
	const want = "a copy to a vault in account 111122223333"
	otherVault := "arn:aws:backup:us-east-1:444455556666:backup-vault:v"
	runCases(t, []evalCase{
		{name: "a copy to the central account", policy: onePlan(daily("r", "35", copies(copyTo(centralVault, ""))), tagsDaily), control: c},
		{name: "a copy to $account", policy: onePlan(daily("r", "35", copies(copyTo(localVault, ""))), tagsDaily), control: c, want: []Finding{
			{Path: "plans", Expected: want, Actual: "copies only to " + localVault},
		}},
		{name: "a copy to an account not listed", policy: onePlan(daily("r", "35", copies(copyTo(otherVault, ""))), tagsDaily), control: c, want: []Finding{
			{Path: "plans", Expected: want, Actual: "copies only to " + otherVault},
		}},
		{name: "the central account copying to itself", target: "111122223333", control: c,
			policy: onePlan(daily("r", "35", copies(copyTo(centralVault, ""))), tagsDaily),
			want:   []Finding{{Path: "plans", Expected: want, Actual: "copies only to " + centralVault}}},
		{name: "a vault ARN that is not one", policy: onePlan(daily("r", "35", copies(copyTo("central", ""))), tagsDaily), control: c, want: []Finding{
			{Path: "plans", Expected: want, Actual: "copies only to central"},
		}},
		{name: "no plans", policy: `{}`, control: c, want: []Finding{{Path: "plans", Expected: want, Actual: "no backup plans"}}},
		{name: "no list: any other account", policy: onePlan(daily("r", "35", copies(copyTo(otherVault, ""))), tagsDaily), control: anyAccount},
		{name: "no list: $account", policy: onePlan(daily("r", "35", copies(copyTo(localVault, ""))), tagsDaily), control: anyAccount, want: []Finding{
			{Path: "plans", Expected: "a copy to a vault in another account", Actual: "copies only to " + localVault},
		}},
	})
}

func TestEvaluateIgnoresWhatAPolicyCannotDecide(t *testing.T) {
	t.Parallel()
	controls := []Control{
		{Name: RecoveryPointEncrypted}, {Name: RecoveryPointDeletionDisabled}, {Name: LastRecoveryPointCreated},
		{Name: ProtectedByVaultLock, Parameters: map[string]string{"minRetentionDays": "1"}}, {Name: "SOMETHING_NEW"},
	}
	for _, policy := range []string{"", `{}`, onePlan(daily("r", "1", ""), "")} {
		if got := Evaluate(account, parse(t, policy), controls); len(got) != 0 {
			t.Errorf("Evaluate(%s) = %+v, want no findings", policy, got)
		}
	}
}

func TestEvaluateBadControl(t *testing.T) {
	t.Parallel()
	controls := []Control{
		{Name: RecoveryPointMinimumRetention, Parameters: map[string]string{"requiredRetentionDays": "x"}, Source: "f.yaml:2"},
		{Name: ProtectedByBackupPlan, Scope: Scope{ResourceTypes: []string{"Floppy"}}, Source: "f.yaml:4"},
	}
	got := Evaluate(account, parse(t, onePlan(daily("r", "35", ""), tagsDaily)), controls)
	want := []Finding{
		{Target: account, Control: RecoveryPointMinimumRetention, Path: "plans", Source: "f.yaml:2",
			Message: `the control cannot be evaluated: parameter requiredRetentionDays: "x" is not a whole number of at least 1`},
		{Target: account, Control: ProtectedByBackupPlan, Path: "plans", Source: "f.yaml:4",
			Message: `the control cannot be evaluated: scope resource type "Floppy": unknown (want one of ` + strings.Join(ResourceTypes(), ", ") + ")"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Evaluate (-want +got):\n%s", diff)
	}
}

// TestEvaluateFixtures runs the test framework against the fixtures:
// everything the controls find, in order.
func TestEvaluateFixtures(t *testing.T) {
	t.Parallel()
	controls, err := ReadFramework("testdata/framework.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) *backuppolicy.Node {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return parse(t, string(data))
	}
	if got := Evaluate("222233334444", read("compliant.json"), controls); len(got) != 0 {
		t.Errorf("compliant.json: %+v", got)
	}
	src := func(line string) string { return "testdata/framework.yaml:" + line }
	const ebs = "EBS resources (arn:aws:ec2:*:*:volume/*)"
	const rds = "RDS resources (arn:aws:rds:*:*:db:*, arn:aws:rds:*:*:cluster:*)"
	const ou = "ou-abcd-12345678"
	want := []Finding{
		{Control: ProtectedByBackupPlan, Path: "plans", Expected: "a selection covering " + ebs, Actual: "no selection of any plan covers them", Source: src("7")},
		{Control: ProtectedByBackupPlan, Path: "plans", Expected: "a selection covering " + rds, Actual: "no selection of any plan covers them", Source: src("7")},
		{Control: ProtectedByCrossAccount, Path: "plans", Expected: "a copy to a vault in account 111122223333",
			Actual: "no plan selects resources tagged backup=daily", Source: src("22")},
		{Control: ProtectedByCrossRegion, Path: "plans", Expected: "a copy to a vault in us-west-2", Actual: "copies only to " + localVault, Source: src("19")},
		{Plan: "daily_plan", Rule: "daily", Control: PlanMinFrequencyAndRetention, Path: "plans.daily_plan.rules.daily.lifecycle.delete_after_days",
			Expected: "≥ 35 days", Actual: "7 days", Source: src("10")},
		{Plan: "daily_plan", Rule: "daily", Control: RecoveryPointMinimumRetention,
			Path: "plans.daily_plan.rules.daily.copy_actions." + localVault + ".lifecycle.delete_after_days", Expected: "≥ 35 days", Actual: "14 days", Source: src("16")},
		{Plan: "daily_plan", Rule: "daily", Control: RecoveryPointMinimumRetention, Path: "plans.daily_plan.rules.daily.lifecycle.delete_after_days",
			Expected: "≥ 35 days", Actual: "7 days", Source: src("16")},
		{Plan: "daily_plan", Rule: "weekly", Control: PlanMinFrequencyAndRetention, Path: "plans.daily_plan.rules.weekly.schedule_expression",
			Expected: "≤ 1 day between backups", Actual: "up to 7 days between backups (cron(0 5 ? * SUN *))", Source: src("10")},
	}
	for i := range want {
		want[i].Target = ou
	}
	got := Evaluate(ou, read("noncompliant.json"), controls)
	if diff := cmp.Diff(want, got, ignoreProse); diff != "" {
		t.Errorf("noncompliant.json (-want +got):\n%s", diff)
	}
}
