package backuppolicy

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// found is what a test asserts about an Issue: which rule, how bad, where.
type found struct {
	Rule      string
	Severity  Severity
	Path      string
	Line, Col int
}

func issuesFound(issues []Issue) []found {
	out := []found{}
	for _, is := range issues {
		out = append(out, found{is.Rule, is.Severity, is.Path, is.Pos.Line, is.Pos.Column})
	}
	return out
}

// inRule wraps rule members in a plan P with rule R. A "\n" in a test
// document puts the value it asserts on at line 2, column 1.
func inRule(members string) string {
	return `{"plans":{"P":{"rules":{"R":{` + members + `}}}}}`
}

func inPlan(members string) string { return `{"plans":{"P":{` + members + `}}}` }

func repeatJoin(n int, format string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(format, i)
	}
	return strings.Join(parts, ",")
}

const (
	rulePath = "plans.P.rules.R"
	E        = SeverityError
	W        = SeverityWarning
)

func TestRules(t *testing.T) {
	t.Parallel()
	sched := func(expr string) string {
		return inRule(`"schedule_expression":{"@@assign":` + "\n" + `"` + expr + `"}`)
	}
	schedBad := []found{{"schedule-expression", E, rulePath + ".schedule_expression", 2, 1}}
	schedUndocumented := []found{{"schedule-expression", W, rulePath + ".schedule_expression", 2, 1}}
	role := func(arn string) string {
		return inPlan(`"selections":{"tags":{"S":{"iam_role_arn":{"@@assign":` + "\n" + `"` + arn + `"}}}}`)
	}
	tests := []struct {
		name string
		doc  string
		want []found // nil: no issues at all
	}{
		{"unknown-key valid", inPlan(`"regions":{"@@assign":["us-east-1"]}`), nil},
		{"unknown-key", inPlan("\n" + `"regionz":{"@@assign":["us-east-1"]}`), []found{{"unknown-key", E, "plans.P", 2, 1}}},
		{"operator", inPlan(`"regions":` + "\n" + `["us-east-1"]`), []found{{"operator", E, "plans.P.regions", 2, 1}}},
		{"child-control valid", inPlan(`"regions":{"@@operators_allowed_for_child_policies":["@@append"]}`), nil},
		{"child-control", inPlan(`"regions":{"@@operators_allowed_for_child_policies":` + "\n" + `[]}`),
			[]found{{"child-control", E, "plans.P.regions.@@operators_allowed_for_child_policies", 2, 1}}},
		{"copy-action-key valid", inRule(`"copy_actions":{"arn:aws:backup:us-east-1:111111111111:backup-vault:x":{"target_backup_vault_arn":{"@@assign":"arn:aws:backup:us-east-1:111111111111:backup-vault:x"}}}`), nil},
		{"copy-action-key", inRule(`"copy_actions":{` + "\n" + `"central":{"target_backup_vault_arn":{"@@assign":"arn:aws:backup:us-east-1:111111111111:backup-vault:x"}}}`),
			[]found{{"copy-action-key", E, rulePath + ".copy_actions.central", 2, 1}}},
		{"copy-action-key differs in case only", inRule(`"copy_actions":{"arn:aws:backup:us-east-1:111111111111:backup-vault:X":{"target_backup_vault_arn":{"@@assign":"arn:aws:backup:us-east-1:111111111111:backup-vault:x"}}}`), nil},
		{"copy-action-key another ARN", inRule(`"copy_actions":{` + "\n" + `"arn:aws:backup:us-east-1:$account:backup-vault:x":{"target_backup_vault_arn":{"@@assign":"arn:aws:backup:us-east-1:111111111111:backup-vault:x"}}}`),
			[]found{{"copy-action-key", W, rulePath + ".copy_actions.arn:aws:backup:us-east-1:$account:backup-vault:x", 2, 1}}},
		{"copy-vault-arn", inRule(`"copy_actions":{"arn:aws:backup:us-east-1:$account:backup-vault:x":{"target_backup_vault_arn":{"@@assign":"arn:aws:backup:us-east-1:$account:backup-vault:x"}}}`), nil},
		{"copy-vault-arn not a backup vault", inRule(`"copy_actions":{"arn:aws:backup:us-east-1:$account:vault:x":{"target_backup_vault_arn":{"@@assign":` + "\n" + `"arn:aws:backup:us-east-1:$account:vault:x"}}}`),
			[]found{{"copy-vault-arn", E, rulePath + ".copy_actions.arn:aws:backup:us-east-1:$account:vault:x.target_backup_vault_arn", 2, 1}}},
		{"operator one per key", inPlan(`"regions":{"@@assign":["us-east-1"]}`), nil},
		{"operator several on one key", inPlan(`"regions":{"@@assign":["us-east-1"],` + "\n" + `"@@append":["eu-west-1"]}`), []found{{"operator", W, "plans.P.regions", 2, 1}}},
		{"archived-key", inPlan(`"advanced_backup_settings":{"ec2":{` + "\n" + `"WindowsVSS":{"@@assign":"enabled"}}}`), []found{{"archived-key", W, "plans.P.advanced_backup_settings.ec2", 2, 1}}},
		{"archived-key value", inPlan(`"advanced_backup_settings":{"ec2":{"WindowsVSS":{"@@assign":` + "\n" + `"yes"}}}`),
			[]found{{"archived-key", W, "plans.P.advanced_backup_settings.ec2", 1, 51}, {"enum", E, "plans.P.advanced_backup_settings.ec2.WindowsVSS", 2, 1}}},
		{"type", inPlan(`"regions":{"@@assign":` + "\n" + `"us-east-1"}`), []found{{"type", E, "plans.P.regions.@@assign", 2, 1}}},

		{"schedule daily", sched("cron(0 5 ? * * *)"), nil},
		{"schedule last day of month", sched("cron(0 5 L * ? *)"), nil},
		{"schedule third Friday, names and ranges", sched("cron(30 1-3 ? JAN-MAR 6#3 2026-2030)"), nil},
		{"schedule nearest weekday, day names", sched("cron(15 23 15W * ? *)"), nil},
		{"schedule weekdays", sched("cron(0 5 ? * MON-FRI *)"), nil},
		// Once read differently by the validator and the compliance check;
		// now one parser (schedule.go).
		// Read as Quartz reads them, but not in EventBridge's documented
		// syntax: warnings.
		{"schedule wrapping hours", sched("cron(0 22-2 ? * * *)"), schedUndocumented},
		{"schedule wrapping weekdays", sched("cron(0 5 ? * FRI-MON *)"), schedUndocumented},
		{"schedule the same as two ranges", sched("cron(0 5 ? * FRI-SAT,SUN-MON *)"), nil},
		{"schedule L-n", sched("cron(0 5 L-3 * ? *)"), schedUndocumented},
		{"schedule increment in day-of-week", sched("cron(0 5 ? * MON/2 *)"), schedUndocumented},
		{"schedule L beside other days", sched("cron(0 5 1,L * ? *)"), schedUndocumented},
		{"schedule L-n beyond 30", sched("cron(0 5 L-31 * ? *)"), schedBad},
		{"schedule with a leading space", sched(" cron(0 5 ? * * *)"), schedBad},
		{"schedule several # expressions", sched("cron(0 5 ? * 6#3,2#1 *)"), schedBad},
		{"schedule hourly", sched("cron(0 * ? * * *)"), nil},
		{"schedule every 10 minutes", sched("cron(0/10 * ? * * *)"), []found{{"schedule-expression", W, rulePath + ".schedule_expression", 2, 1}}},
		{"schedule rate", sched("rate(1 day)"), schedBad},
		{"schedule five fields", sched("cron(0 5 * * ?)"), schedBad},
		{"schedule minute 60", sched("cron(60 5 ? * * *)"), schedBad},
		{"schedule hour 24", sched("cron(0 24 ? * * *)"), schedBad},
		{"schedule month 13", sched("cron(0 5 1 13 ? *)"), schedBad},
		{"schedule dow 8", sched("cron(0 5 ? * 8 *)"), schedBad},
		{"schedule year 1969", sched("cron(0 5 ? * * 1969)"), schedBad},
		{"schedule both ?", sched("cron(0 5 ? * ? *)"), schedBad},
		{"schedule neither ?", sched("cron(0 5 * * * *)"), schedBad},
		{"schedule not a string", inRule(`"schedule_expression":{"@@assign":` + "\n" + `5}`), schedBad},

		{"schedule-timezone", inRule("\n" + `"schedule_expression_timezone":{"@@assign":"Europe/Berlin"}`), []found{{"schedule-timezone", E, rulePath, 2, 1}}},

		{"start-window string", inRule(`"start_backup_window_minutes":{"@@assign":"60"}`), nil},
		{"start-window number", inRule(`"start_backup_window_minutes":{"@@assign":480}`), nil},
		{"start-window below 60", inRule(`"start_backup_window_minutes":{"@@assign":` + "\n" + `"59"}`), []found{{"start-window", E, rulePath + ".start_backup_window_minutes", 2, 1}}},
		{"start-window not a number", inRule(`"start_backup_window_minutes":{"@@assign":` + "\n" + `"1h"}`), []found{{"start-window", E, rulePath + ".start_backup_window_minutes", 2, 1}}},
		{"start-window over 100 years", inRule(`"start_backup_window_minutes":{"@@assign":` + "\n" + `52560001}`), []found{{"start-window", E, rulePath + ".start_backup_window_minutes", 2, 1}}},

		{"completion-window", inRule(`"start_backup_window_minutes":{"@@assign":"60"},"complete_backup_window_minutes":{"@@assign":"120"}`), nil},
		{"completion-window alone", inRule(`"complete_backup_window_minutes":{"@@assign":"30"}`), nil},
		{"completion-window too close to start", inRule(`"start_backup_window_minutes":{"@@assign":"60"},"complete_backup_window_minutes":{"@@assign":` + "\n" + `"119"}`),
			[]found{{"completion-window", W, rulePath + ".complete_backup_window_minutes", 2, 1}}},
		{"completion-window not a number", inRule(`"complete_backup_window_minutes":{"@@assign":` + "\n" + `"two hours"}`),
			[]found{{"completion-window", E, rulePath + ".complete_backup_window_minutes", 2, 1}}},

		{"cold-storage-retention", inRule(`"lifecycle":{"move_to_cold_storage_after_days":{"@@assign":"30"},"delete_after_days":{"@@assign":"120"}}`), nil},
		{"cold-storage-retention short", inRule(`"lifecycle":{"move_to_cold_storage_after_days":{"@@assign":"30"},"delete_after_days":{"@@assign":` + "\n" + `"119"}}`),
			[]found{{"cold-storage-retention", W, rulePath + ".lifecycle.delete_after_days", 2, 1}}},
		{"cold-storage-retention in a copy action", inRule(`"copy_actions":{"arn:aws:backup:us-east-1:111111111111:backup-vault:x":{"lifecycle":{"move_to_cold_storage_after_days":{"@@assign":10},"delete_after_days":{"@@assign":` + "\n" + `20}}}}`),
			[]found{{"cold-storage-retention", W, rulePath + ".copy_actions.arn:aws:backup:us-east-1:111111111111:backup-vault:x.lifecycle.delete_after_days", 2, 1}}},
		{"cold-storage-retention not a number", inRule(`"lifecycle":{"delete_after_days":{"@@assign":` + "\n" + `"forever"}}`),
			[]found{{"cold-storage-retention", E, rulePath + ".lifecycle.delete_after_days", 2, 1}}},

		{"continuous-backup", inRule(`"enable_continuous_backup":{"@@assign":true},"lifecycle":{"delete_after_days":{"@@assign":"35"}}`), nil},
		{"continuous-backup True in any case", inRule(`"enable_continuous_backup":{"@@assign":"True"},"lifecycle":{"delete_after_days":{"@@assign":` + "\n" + `"36"}}`),
			[]found{{"continuous-backup", W, rulePath + ".lifecycle.delete_after_days", 2, 1}}},
		{"continuous-backup not a boolean", inRule(`"enable_continuous_backup":{"@@assign":` + "\n" + `"yes"}`),
			[]found{{"type", E, rulePath + ".enable_continuous_backup", 2, 1}}},
		{"continuous-backup off, long retention", inRule(`"enable_continuous_backup":{"@@assign":"false"},"lifecycle":{"delete_after_days":{"@@assign":"365"}}`), nil},
		{"continuous-backup over 35 days", inRule(`"enable_continuous_backup":{"@@assign":true},"lifecycle":{"delete_after_days":{"@@assign":` + "\n" + `"36"}}`),
			[]found{{"continuous-backup", W, rulePath + ".lifecycle.delete_after_days", 2, 1}}},
		{"continuous-backup cold storage", inRule(`"enable_continuous_backup":{"@@assign":"true"},"lifecycle":{"move_to_cold_storage_after_days":{"@@assign":` + "\n" + `"1"}}`),
			[]found{{"continuous-backup", W, rulePath + ".lifecycle.move_to_cold_storage_after_days", 2, 1}}},

		{"air-gapped-vault-arn", inRule(`"target_logically_air_gapped_backup_vault_arn":{"@@assign":"arn:aws:backup:$region:$account:backup-vault:AirGappedVault"}`), nil},
		{"air-gapped-vault-arn literal region", inRule(`"target_logically_air_gapped_backup_vault_arn":{"@@assign":` + "\n" + `"arn:aws:backup:us-east-1:$account:backup-vault:AG"}`),
			[]found{{"air-gapped-vault-arn", E, rulePath + ".target_logically_air_gapped_backup_vault_arn", 2, 1}}},
		{"air-gapped-vault-arn not a vault", inRule(`"target_logically_air_gapped_backup_vault_arn":{"@@assign":` + "\n" + `"arn:aws:s3:::$region-$account"}`),
			[]found{{"air-gapped-vault-arn", E, rulePath + ".target_logically_air_gapped_backup_vault_arn", 2, 1}}},

		{"variable-placement $account in a vault name", inRule(`"target_backup_vault_name":{"@@assign":` + "\n" + `"vault-$account"}`),
			[]found{{"variable-placement", E, rulePath + ".target_backup_vault_name", 2, 1}}},
		{"variable-placement $region in a copy action", inRule(`"copy_actions":{"arn:aws:backup:us-east-1:111111111111:backup-vault:x":{"target_backup_vault_arn":{"@@assign":"arn:aws:backup:us-east-1:111111111111:backup-vault:x"},"lifecycle":{"delete_after_days":{"@@assign":"1"}}}}`), nil},
		{"variable-placement $region outside the air-gapped ARN", inRule(`"copy_actions":{` + "\n" + `"arn:aws:backup:$region:111111111111:backup-vault:x":{}}`),
			[]found{{"variable-placement", W, rulePath + ".copy_actions.arn:aws:backup:$region:111111111111:backup-vault:x", 2, 1}}},
		{"unresolved-variable", inRule(`"target_backup_vault_name":{"@@assign":` + "\n" + `"$vault"}`),
			[]found{{"unresolved-variable", W, rulePath + ".target_backup_vault_name", 2, 1}}},

		{"region", inPlan(`"regions":{"@@append":["us-east-1","cn-north-1","us-gov-west-1"]}`), nil},
		{"region unknown", inPlan(`"regions":{"@@assign":[` + "\n" + `"xx-east-9"]}`), []found{{"region", W, "plans.P.regions", 2, 1}}},
		{"region malformed", inPlan(`"regions":{"@@assign":[` + "\n" + `"useast1"]}`), []found{{"region", E, "plans.P.regions", 2, 1}}},

		{"iam-role-arn", role("arn:aws:iam::$account:role/Backup"), nil},
		{"iam-role-arn GovCloud", role("arn:aws-us-gov:iam::123456789012:role/path/Backup"), nil},
		{"iam-role-arn short account", role("arn:aws:iam::1234:role/Backup"), []found{{"iam-role-arn", E, "plans.P.selections.tags.S.iam_role_arn", 2, 1}}},
		{"iam-role-arn not a role", role("arn:aws:iam::$account:user/Backup"), []found{{"iam-role-arn", E, "plans.P.selections.tags.S.iam_role_arn", 2, 1}}},

		{"copy-actions-count", inRule(`"copy_actions":{` + repeatJoin(5, `"arn:aws:backup:us-east-1:111111111111:backup-vault:v%d":{}`) + `}`), nil},
		{"copy-actions-count over 5", inRule(`"copy_actions":` + "\n" + `{` + repeatJoin(6, `"arn:aws:backup:us-east-1:111111111111:backup-vault:v%d":{}`) + `}`),
			[]found{{"copy-actions-count", E, rulePath + ".copy_actions", 2, 1}}},

		{"enum", inPlan(`"advanced_backup_settings":{"ec2":{"windows_vss":{"@@assign":"enabled"}},"s3":{"backup_acls":{"@@assign":"disabled"},"backup_object_tags":{"@@assign":"enabled"}}}`), nil},
		{"enum windows_vss", inPlan(`"advanced_backup_settings":{"ec2":{"windows_vss":{"@@assign":` + "\n" + `"on"}}}`),
			[]found{{"enum", E, "plans.P.advanced_backup_settings.ec2.windows_vss", 2, 1}}},
		{"enum scan_mode", inRule(`"scan_actions":{"GUARDDUTY":{"scan_mode":{"@@assign":` + "\n" + `"QUICK"}}}`),
			[]found{{"enum", E, rulePath + ".scan_actions.GUARDDUTY.scan_mode", 2, 1}}},
		{"enum scan_settings resource_types", inPlan(`"scan_settings":{"GUARDDUTY":{"resource_types":{"@@assign":["EBS",` + "\n" + `"RDS"]}}}`),
			[]found{{"enum", E, "plans.P.scan_settings.GUARDDUTY.resource_types", 2, 1}}},
		{"enum index_actions", inRule(`"index_actions":{"resource_types":{"@@append":[` + "\n" + `"EC2"]}}`),
			[]found{{"enum", E, rulePath + ".index_actions.resource_types", 2, 1}}},

		{"empty-leaf", inPlan(`"regions":` + "\n" + `{}`), []found{{"empty-leaf", E, "plans.P.regions", 2, 1}}},

		{"conditions-count", inPlan(`"selections":{"resources":{"S":{"conditions":{"string_equals":{` +
			repeatJoin(30, `"c%d":{"condition_key":{"@@assign":"aws:ResourceTag/k"},"condition_value":{"@@assign":"v"}}`) + `}}}}}`), nil},
		{"conditions-count over 30", inPlan(`"selections":{"resources":{"S":{"conditions":` + "\n" + `{"string_equals":{` +
			repeatJoin(20, `"c%d":{"condition_key":{"@@assign":"aws:ResourceTag/k"},"condition_value":{"@@assign":"v"}}`) + `},"string_like":{` +
			repeatJoin(11, `"l%d":{"condition_key":{"@@assign":"aws:ResourceTag/k"},"condition_value":{"@@assign":"v*"}}`) + `}}}}}`),
			[]found{{"conditions-count", E, "plans.P.selections.resources.S.conditions", 2, 1}}},

		{"selection-kind", inPlan(`"selections":{"tags":{"S":{"tag_key":{"@@assign":"backup"}}}}`), nil},
		{"selection-kind: the other kind locked", inPlan(`"selections":{"tags":{"S":{"tag_key":{"@@assign":"backup"}}},"resources":{"@@operators_allowed_for_child_policies":["@@none"]}}`), nil},
		{"selection-kind both", inPlan(`"selections":` + "\n" + `{"tags":{"S":{"tag_key":{"@@assign":"backup"}}},"resources":{"R":{"resource_types":{"@@assign":["arn:aws:ec2:*:*:volume/*"]}}}}`),
			[]found{{"selection-kind", E, "plans.P.selections", 2, 1}}},
		{"quota-selections", inPlan(`"selections":{"resources":{` + repeatJoin(100, `"s%d":{}`) + `}}`), nil},
		{"quota-selections over 100", inPlan(`"selections":` + "\n" + `{"resources":{` + repeatJoin(101, `"s%d":{}`) + `}}`),
			[]found{{"quota-selections", E, "plans.P.selections", 2, 1}}},
		{"quota-rules", `{"plans":{"P":{"rules":{` + repeatJoin(10, `"r%d":{}`) + `}}}}`, nil},
		{"quota-rules over 10", `{"plans":{"P":{"rules":` + "\n" + `{` + repeatJoin(11, `"r%d":{}`) + `}}}}`, []found{{"quota-rules", E, "plans.P.rules", 2, 1}}},
		{"quota-tag-selections", inPlan(`"selections":{"tags":{` + repeatJoin(10, `"s%d":{}`) + `}}`), nil},
		{"quota-tag-selections over 10", inPlan(`"selections":{"tags":` + "\n" + `{` + repeatJoin(11, `"s%d":{}`) + `}}`),
			[]found{{"quota-tag-selections", E, "plans.P.selections.tags", 2, 1}}},
		{"quota-tags-per-selection", inPlan(`"selections":{"tags":{"S":{"tag_value":{"@@assign":[` + repeatJoin(30, `"v%d"`) + `]}}}}`), nil},
		{"quota-tags-per-selection over 30", inPlan(`"selections":{"tags":{"S":{"tag_value":` + "\n" + `{"@@assign":[` + repeatJoin(31, `"v%d"`) + `]}}}}`),
			[]found{{"quota-tags-per-selection", E, "plans.P.selections.tags.S.tag_value", 2, 1}}},
		{"quota-recovery-point-tags", inRule(`"recovery_point_tags":{` + repeatJoin(10, `"t%d":{}`) + `}`), nil},
		{"quota-recovery-point-tags over 10", inRule(`"recovery_point_tags":` + "\n" + `{` + repeatJoin(11, `"t%d":{}`) + `}`),
			[]found{{"quota-recovery-point-tags", E, rulePath + ".recovery_point_tags", 2, 1}}},

		{"size", `{"plans":{` + repeatJoin(6, `"p%d":{"rules":{"r":{"target_backup_vault_name":{"@@assign":"`+strings.Repeat("v", 1500)+`"}}}}`) + `}}`, nil},
		{"size over 10,000", "\n" + `{"plans":{` + repeatJoin(7, `"p%d":{"rules":{"r":{"target_backup_vault_name":{"@@assign":"`+strings.Repeat("v", 1600)+`"}}}}`) + `}}`,
			[]found{{"size", E, "", 2, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := tt.want
			if want == nil {
				want = []found{}
			}
			got := issuesFound(Check(mustParse(t, tt.doc)))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Check issues (-want +got):\n%s\nmessages: %v", diff, Check(mustParse(t, tt.doc)))
			}
		})
	}
}

// TestAWSExamples: the published example policies pass, with only the
// warnings listed here, and the published examples that are wrong fail with
// exactly the rules their SOURCES.md names ("json": not JSON at all).
// The pages' printed effective policies are operator-free, so they are not
// policy documents; testdata/effective reproduces them from the rules.
func TestAWSExamples(t *testing.T) {
	t.Parallel()
	// issueRules are the distinct, sorted rules of the issues of severity
	// sev (nil when there are none).
	issueRules := func(issues []Issue, sev Severity) []string {
		var out []string
		for _, is := range issues {
			if is.Severity == sev && !slices.Contains(out, is.Rule) {
				out = append(out, is.Rule)
			}
		}
		slices.Sort(out)
		return out
	}
	// Distinct warning rules of each valid example; unlisted files have none.
	warnings := map[string][]string{
		"arch-121583f-syntax.json": {"archived-key", "copy-action-key"},
		"arch-90430a1-syntax.json": {"cold-storage-retention"},
		"cur-ex3-parent.json":      {"cold-storage-retention"},
		"cur-ex5-parent.json":      {"cold-storage-retention"},
		"ex1-archived-parent.json": {"archived-key"},
		// Example 4's parent, completed from Example 3's.
		"parent.json": {"cold-storage-retention"},
		// This project's own example: $region in copy actions.
		"daily-monthly.json": {"variable-placement"},
	}
	valid, _ := filepath.Glob("testdata/aws-examples/*.json")
	if len(valid) == 0 {
		t.Fatal("no examples in testdata/aws-examples")
	}
	// The syntax page prints Example 4's policies truncated; they are
	// completed, once, with the inheritance tests' data.
	valid = append(valid, "testdata/daily-monthly.json",
		"testdata/effective/backup-ex4-append-plans/parent.json",
		"testdata/effective/backup-ex4-append-plans/child.json")
	for _, name := range valid {
		root := mustParse(t, readFile(t, name))
		if err := Validate(root); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if diff := cmp.Diff(warnings[filepath.Base(name)], issueRules(Check(root), SeverityWarning)); diff != "" {
			t.Errorf("%s: warning rules (-want +got):\n%s", name, diff)
		}
	}
	// Distinct error rules of each wrong example.
	invalid := map[string][]string{
		"arch-121583f-ex2-child.json":                {"copy-vault-arn", "unknown-key"},
		"arch-121583f-ex3-parent.json":               {"copy-vault-arn", "unknown-key"},
		"arch-121583f-ex5-child.json":                {"unknown-key"},
		"arch-121583f-ex5-parent.json":               {"copy-vault-arn", "unknown-key"},
		"arch-90430a1-ex1-effective.json":            {"json"},
		"arch-90430a1-ex1-parent.json":               {"json"},
		"arch-90430a1-ex2-child.json":                {"json"},
		"arch-90430a1-ex2-effective.json":            {"json"},
		"arch-90430a1-ex2-parent.json":               {"json"},
		"arch-90430a1-ex3-parent.json":               {"json"},
		"arch-90430a1-ex5-child-to-delete-typo.json": {"unknown-key"},
		"arch-90430a1-ex5-effective.json":            {"json"},
		"arch-90430a1-ex5-parent.json":               {"json"},
		"arch-90430a1-syntax-verbatim.json":          {"json"},
		"cur-ex4-child-truncated.json":               {"json"},
		"cur-ex4-effective-truncated.json":           {"json"},
		"cur-ex4-parent-truncated.json":              {"json"},
		"ex2-archived-parent-to-delete-typo.json":    {"copy-vault-arn", "unknown-key"},
	}
	files, _ := filepath.Glob("testdata/aws-examples-invalid/*.json")
	if len(files) != len(invalid) {
		t.Fatalf("%d invalid examples on disk, %d expected", len(files), len(invalid))
	}
	for _, name := range files {
		want, ok := invalid[filepath.Base(name)]
		if !ok {
			t.Errorf("%s: not in the invalid table", name)
			continue
		}
		root, err := ParseJSON([]byte(readFile(t, name)))
		if err != nil {
			if diff := cmp.Diff(want, []string{"json"}); diff != "" {
				t.Errorf("%s: %v; error rules (-want +got):\n%s", name, err, diff)
			}
			continue
		}
		if diff := cmp.Diff(want, issueRules(Check(root), SeverityError)); diff != "" {
			t.Errorf("%s: error rules (-want +got):\n%s", name, diff)
		}
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
