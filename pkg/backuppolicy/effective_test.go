package backuppolicy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func loadPolicy(t testing.TB, path string) *Node {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := ParseJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return n
}

func parseLevels(t testing.TB, levels ...[]string) []Level {
	t.Helper()
	var out []Level
	for i, files := range levels {
		lvl := Level{Target: []string{"r-root", "ou-1", "ou-2", "111111111111"}[min(i, 3)]}
		for _, f := range files {
			lvl.Policies = append(lvl.Policies, Attached{Name: f, Doc: loadPolicy(t, f)})
		}
		out = append(out, lvl)
	}
	return out
}

func decoded(t testing.TB, n *Node) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(n.Minify(), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// checkExample merges the policy files of levels and compares the result
// with the effective policy in file and the ignored operators with
// wantIgnored.
func checkExample(t *testing.T, policyType, file string, levels [][]string, wantIgnored []string) EffectiveResult {
	t.Helper()
	res, err := Effective(policyType, parseLevels(t, levels...))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(decoded(t, loadPolicy(t, file)), decoded(t, res.Policy)); diff != "" {
		t.Errorf("effective policy (-want +got):\n%s", diff)
	}
	checkIgnored(t, res, wantIgnored)
	return res
}

// checkIgnored compares the ignored operators, as "path operator".
func checkIgnored(t *testing.T, res EffectiveResult, want []string) {
	t.Helper()
	var got []string
	for _, ig := range res.Ignored {
		got = append(got, ig.Path+" "+ig.Operator)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ignored operators (-want +got):\n%s", diff)
	}
}

// TestEffectiveUserGuideExamples reproduces the tag policy inheritance
// examples of the Organizations User Guide ("Policy inheritance
// examples"); testdata/effective/SOURCES.md says where each comes from and
// where the expected output deviates from the printed one, and why.
func TestEffectiveUserGuideExamples(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "effective")
	f := func(c, name string) string { return filepath.Join(dir, c, name) }
	tests := []struct {
		name        string
		levels      [][]string
		wantIgnored []string // Path + " " + Operator
	}{
		{"tag-ex1-assign", [][]string{{f("tag-ex1-assign", "A.json")}, {f("tag-ex1-assign", "B.json")}}, nil},
		{"tag-ex2-append", [][]string{{f("tag-ex2-append", "A.json")}, {f("tag-ex2-append", "C.json")}}, nil},
		{"tag-ex3-remove", [][]string{{f("tag-ex3-remove", "A.json")}, {f("tag-ex3-remove", "C.json")}, {f("tag-ex3-remove", "D.json")}}, nil},
		{"tag-ex4-restrict", [][]string{{f("tag-ex4-restrict", "E.json")}, {f("tag-ex4-restrict", "F.json")}}, []string{"tags.project.tag_key @@assign"}},
		{"tag-ex5-intersect", [][]string{{f("tag-ex5-intersect", "G.json"), f("tag-ex5-intersect", "H.json")}, {f("tag-ex5-intersect", "I.json"), f("tag-ex5-intersect", "J.json")}}, []string{"tags.project.tag_value @@remove"}},
		{"tag-ex6-order", [][]string{{f("tag-ex6-order", "J.json"), f("tag-ex6-order", "K.json")}}, []string{"tags.project.tag_key @@assign"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkExample(t, "TAG_POLICY", f(tt.name, "effective.json"), tt.levels, tt.wantIgnored)
		})
	}
}

// TestEffectiveBackupSyntaxExamples reproduces the inheritance examples
// of the Organizations User Guide page "Backup policy syntax and
// examples" (2 to 5), with the outputs the documented rules give;
// testdata/effective/SOURCES.md lists where the printed outputs differ
// and why.
func TestEffectiveBackupSyntaxExamples(t *testing.T) {
	t.Parallel()
	f := func(c, name string) string { return filepath.Join("testdata", "effective", c, name) }
	// The inputs printed on the page are stored once, with the examples
	// the validator must accept.
	page := func(name string) string { return filepath.Join("testdata", "aws-examples", name) }
	tests := []struct {
		name        string
		levels      [][]string
		wantIgnored []string // Path + " " + Operator
		// wantInvalid: CheckEffective's issues, as "path rule".
		wantInvalid []string
	}{
		{"backup-ex2-merge", [][]string{{page("cur-ex2-parent.json")}, {page("cur-ex2-child.json")}}, nil, nil},
		// Every change of Example 5's child and the new plan of Example
		// 2's child are ignored under Example 3's locked parent.
		{"backup-ex3-locked", [][]string{{page("cur-ex3-parent.json")}, {page("cur-ex5-child.json"), page("cur-ex2-child.json")}}, append(slices.Clone(ex5ChildIgnored), "plans.Monthly_Backup_Plan "), []string{copyColdTooShort}},
		// Example 4: @@append on plans lets the child add a plan; Example
		// 5's child still cannot change the parent's plan.
		{"backup-ex4-append-plans", [][]string{{f("backup-ex4-append-plans", "parent.json")}, {f("backup-ex4-append-plans", "child.json"), page("cur-ex5-child.json")}}, ex5ChildIgnored, []string{copyColdTooShort}},
		{"backup-ex5-override", [][]string{{page("cur-ex5-parent.json")}, {page("cur-ex5-child.json")}}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := checkExample(t, "BACKUP_POLICY", f(tt.name, "effective.json"), tt.levels, tt.wantIgnored)
			if diff := cmp.Diff(tt.wantInvalid, invalidIn(res.Policy)); diff != "" {
				t.Errorf("CheckEffective (-want +got):\n%s", diff)
			}
		})
	}
	// Example 5's parent alone deletes at 2 days what it moves to cold
	// storage at 180: Check only warns (the child fixes it), but an
	// account that inherits the parent alone has an invalid plan.
	res, err := Effective("BACKUP_POLICY", parseLevels(t, []string{page("cur-ex5-parent.json")}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"plans.pii_backup_plan.rules.hourly.lifecycle.delete_after_days cold-storage-retention"}, invalidIn(res.Policy)); diff != "" {
		t.Errorf("Example 5 parent alone, CheckEffective (-want +got):\n%s", diff)
	}
}

// ex5ChildIgnored: every assignment of Example 5's child, under a parent
// that locks the plan.
var ex5ChildIgnored = []string{
	"plans.PII_Backup_Plan.regions @@assign",
	"plans.PII_Backup_Plan.rules.Hourly.schedule_expression @@assign",
	"plans.PII_Backup_Plan.rules.Hourly.start_backup_window_minutes @@assign",
	"plans.PII_Backup_Plan.rules.Hourly.target_backup_vault_name @@assign",
	"plans.PII_Backup_Plan.rules.Hourly.lifecycle.move_to_cold_storage_after_days @@assign",
	"plans.PII_Backup_Plan.rules.Hourly.lifecycle.delete_after_days @@assign",
	"plans.PII_Backup_Plan.rules.Hourly.lifecycle.opt_in_to_archive_for_supported_resources @@assign",
}

// copyColdTooShort: Example 3's parent keeps its copies 28 days and moves
// them to cold storage at 180, as printed.
const copyColdTooShort = "plans.pii_backup_plan.rules.hourly.copy_actions.arn:aws:backup:us-east-1:$account:backup-vault:secondary_vault.lifecycle.delete_after_days cold-storage-retention"

func invalidIn(effective *Node) []string {
	var out []string
	for _, is := range CheckEffective(effective) {
		out = append(out, is.Path+" "+is.Rule)
	}
	return out
}

func TestEffectiveRefusesValueBesideOperator(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "effective", "tag-ex3-remove-verbatim")
	_, err := Effective("TAG_POLICY", parseLevels(t, []string{filepath.Join(dir, "A.json")}, []string{filepath.Join(dir, "C.json")}, []string{filepath.Join(dir, "D.json")}))
	if err == nil || !strings.Contains(err.Error(), "tags.costcenter.tag_value") {
		t.Fatalf("error = %v, want one naming tags.costcenter.tag_value", err)
	}
}

const parentBackup = `{"plans": {"Daily": {
  "@@operators_allowed_for_child_policies": ["@@all"],
  "regions": {"@@assign": ["us-east-1"]},
  "rules": {"Nightly": {
    "schedule_expression": {"@@assign": "cron(0 5 ? * * *)"},
    "target_backup_vault_name": {"@@assign": "main"},
    "lifecycle": {"delete_after_days": {"@@assign": "35"}}}},
  "selections": {"tags": {"Daily": {
    "iam_role_arn": {"@@assign": "arn:aws:iam::$account:role/Backup"},
    "tag_key": {"@@assign": "backup"},
    "tag_value": {"@@assign": ["daily"]}}}}}}}`

func TestEffectiveBackup(t *testing.T) {
	t.Parallel()
	locked := strings.Replace(parentBackup, `["@@all"]`, `["@@none"]`, 1)
	appendOnly := `{"plans": {"@@operators_allowed_for_child_policies": ["@@append"]}}`
	tests := []struct {
		name        string
		levels      [][]string
		want        string
		wantIgnored []string
	}{{
		name:   "child appends a Region and overrides retention",
		levels: [][]string{{parentBackup}, {`{"plans": {"daily": {"regions": {"@@append": ["eu-west-1"]}, "rules": {"nightly": {"lifecycle": {"delete_after_days": {"@@assign": 90}}}}}}}`}},
		want: `{"plans": {"daily": {"regions": ["us-east-1", "eu-west-1"], "rules": {"nightly": {"schedule_expression": "cron(0 5 ? * * *)", "target_backup_vault_name": "main", "lifecycle": {"delete_after_days": 90}}},
		  "selections": {"tags": {"daily": {"iam_role_arn": "arn:aws:iam::$account:role/Backup", "tag_key": "backup", "tag_value": ["daily"]}}}}}}`,
	}, {
		name:        "a locked plan ignores the child's changes",
		levels:      [][]string{{locked}, {`{"plans": {"Daily": {"regions": {"@@assign": ["eu-west-1"]}, "rules": {"Nightly": {"lifecycle": {"delete_after_days": {"@@assign": "7"}}}}}}}`}},
		want:        `{"plans": {"daily": {"regions": ["us-east-1"], "rules": {"nightly": {"schedule_expression": "cron(0 5 ? * * *)", "target_backup_vault_name": "main", "lifecycle": {"delete_after_days": "35"}}}, "selections": {"tags": {"daily": {"iam_role_arn": "arn:aws:iam::$account:role/Backup", "tag_key": "backup", "tag_value": ["daily"]}}}}}}`,
		wantIgnored: []string{"plans.Daily.regions @@assign", "plans.Daily.rules.Nightly.lifecycle.delete_after_days @@assign"},
	}, {
		name:        "@@append on plans: children add plans but do not change the parent's",
		levels:      [][]string{{parentBackup, appendOnly}, {`{"plans": {"Weekly": {"regions": {"@@assign": ["us-east-1"]}}, "Daily": {"regions": {"@@assign": ["eu-west-1"]}}}}`}},
		want:        `{"plans": {"daily": {"regions": ["us-east-1"], "rules": {"nightly": {"schedule_expression": "cron(0 5 ? * * *)", "target_backup_vault_name": "main", "lifecycle": {"delete_after_days": "35"}}}, "selections": {"tags": {"daily": {"iam_role_arn": "arn:aws:iam::$account:role/Backup", "tag_key": "backup", "tag_value": ["daily"]}}}}, "weekly": {"regions": ["us-east-1"]}}}`,
		wantIgnored: []string{"plans.Daily.regions @@assign"},
	}, {
		name:        "same node: the first attached @@assign wins",
		levels:      [][]string{{`{"plans": {"P": {"regions": {"@@assign": ["us-east-1"]}}}}`, `{"plans": {"P": {"regions": {"@@assign": ["eu-west-1"]}}}}`}},
		want:        `{"plans": {"p": {"regions": ["us-east-1"]}}}`,
		wantIgnored: []string{"plans.P.regions @@assign"},
	}, {
		name: "a lock without a value binds every level below, not only the next",
		levels: [][]string{
			{`{"plans": {"P": {"regions": {"@@operators_allowed_for_child_policies": ["@@none"]}}}}`},
			{`{"plans": {"P": {"regions": {"@@assign": ["eu-west-1"]}}}}`},
			{`{"plans": {"P": {"regions": {"@@assign": ["us-west-2"]}}}}`},
		},
		want:        `{}`,
		wantIgnored: []string{"plans.P.regions @@assign", "plans.P.regions @@assign"},
	}, {
		name:   "@@remove emptying a list drops it",
		levels: [][]string{{`{"plans": {"P": {"regions": {"@@assign": ["us-east-1"]}, "rules": {"R": {"target_backup_vault_name": {"@@assign": "v"}}}}}}`}, {`{"plans": {"P": {"regions": {"@@remove": ["us-east-1"]}}}}`}},
		want:   `{"plans": {"p": {"rules": {"r": {"target_backup_vault_name": "v"}}}}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var levels []Level
			for i, docs := range tt.levels {
				lvl := Level{Target: []string{"r-root", "ou-1", "111111111111"}[i]}
				for j, d := range docs {
					n, err := ParseJSON([]byte(d))
					if err != nil {
						t.Fatal(err)
					}
					lvl.Policies = append(lvl.Policies, Attached{Name: string(rune('a' + j)), Doc: n})
				}
				levels = append(levels, lvl)
			}
			res, err := Effective("BACKUP_POLICY", levels)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ParseJSON([]byte(tt.want))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(decoded(t, want), decoded(t, res.Policy)); diff != "" {
				t.Errorf("effective policy (-want +got):\n%s", diff)
			}
			checkIgnored(t, res, tt.wantIgnored)
		})
	}
}

func TestEffectiveTypes(t *testing.T) {
	t.Parallel()
	doc, _ := ParseJSON([]byte(`{"services": {"default": {"opt_out_policy": {"@@append": ["optOut"]}}}}`))
	if _, err := Effective("AISERVICES_OPT_OUT_POLICY", []Level{{Target: "r-root", Policies: []Attached{{Name: "a", Doc: doc}}}}); err == nil || !strings.Contains(err.Error(), "allow only @@assign") {
		t.Errorf("AI opt-out @@append: error = %v, want one saying only @@assign", err)
	}
	if _, err := Effective("SERVICE_CONTROL_POLICY", nil); err == nil || !strings.Contains(err.Error(), "allowed: BACKUP_POLICY") {
		t.Errorf("SCP: error = %v, want the allowed types", err)
	}
}

func TestCheckEffective(t *testing.T) {
	t.Parallel()
	full := `{"plans": {"p": {"regions": ["us-east-1"], "rules": {"r": {"schedule_expression": "cron(0 5 ? * * *)", "target_backup_vault_name": "v"}}, "selections": {"tags": {"s": {"iam_role_arn": "arn:aws:iam::$account:role/B", "tag_key": "k", "tag_value": ["v"]}}}}}}`
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"complete", full, nil},
		{"no backup policy", `{}`, nil},
		{"no regions", strings.Replace(full, `"regions": ["us-east-1"], `, "", 1), []string{"plans.p regions"}},
		{"rule without a vault", strings.Replace(full, `, "target_backup_vault_name": "v"`, "", 1), []string{"plans.p.rules.r target_backup_vault_name"}},
		{"no selection", strings.Replace(full, `"tags": {"s": {"iam_role_arn": "arn:aws:iam::$account:role/B", "tag_key": "k", "tag_value": ["v"]}}`, "", 1), []string{"plans.p selections (tags or resources)"}},
		{"selection without a role", strings.Replace(full, `"iam_role_arn": "arn:aws:iam::$account:role/B", `, "", 1), []string{"plans.p.selections.tags.s iam_role_arn"}},
		{"cold storage kept 90 days", strings.Replace(full, `"target_backup_vault_name": "v"`, `"target_backup_vault_name": "v", "lifecycle": {"move_to_cold_storage_after_days": "30", "delete_after_days": 120}`, 1), nil},
		{"cold storage kept under 90 days", strings.Replace(full, `"target_backup_vault_name": "v"`, `"target_backup_vault_name": "v", "lifecycle": {"move_to_cold_storage_after_days": "180", "delete_after_days": "2"}`, 1),
			[]string{"plans.p.rules.r.lifecycle.delete_after_days cold-storage-retention"}},
		{"copy action cold storage under 90 days", strings.Replace(full, `"target_backup_vault_name": "v"`, `"target_backup_vault_name": "v", "copy_actions": {"arn:aws:backup:us-east-1:$account:backup-vault:c": {"lifecycle": {"move_to_cold_storage_after_days": "28", "delete_after_days": "100"}}}`, 1),
			[]string{"plans.p.rules.r.copy_actions.arn:aws:backup:us-east-1:$account:backup-vault:c.lifecycle.delete_after_days cold-storage-retention"}},
		{"continuous within 35 days", strings.Replace(full, `"target_backup_vault_name": "v"`, `"target_backup_vault_name": "v", "enable_continuous_backup": true, "lifecycle": {"delete_after_days": "35"}`, 1), nil},
		{"continuous over 35 days and cold", strings.Replace(full, `"target_backup_vault_name": "v"`, `"target_backup_vault_name": "v", "enable_continuous_backup": "true", "lifecycle": {"move_to_cold_storage_after_days": "1", "delete_after_days": "365"}`, 1),
			[]string{"plans.p.rules.r.lifecycle.delete_after_days continuous-backup", "plans.p.rules.r.lifecycle.move_to_cold_storage_after_days continuous-backup"}},
		{"tags and resources selections", strings.Replace(full, `"selections": {`, `"selections": {"resources": {"all": {"iam_role_arn": "arn:aws:iam::$account:role/B", "resource_types": ["arn:aws:ec2:*:*:volume/*"]}}, `, 1),
			[]string{"plans.p.selections selection-kind"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := ParseJSON([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, is := range CheckEffective(n) {
				if is.Severity != SeverityError {
					t.Errorf("issue %v: want an error", is)
				}
				if is.Rule != "effective-incomplete" {
					got = append(got, is.Path+" "+is.Rule)
					continue
				}
				got = append(got, is.Path+" "+strings.TrimPrefix(strings.SplitN(is.Message, ";", 2)[0], "the effective policy has no "))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("issues (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzEffective(f *testing.F) {
	f.Add([]byte(parentBackup), []byte(`{"plans": {"daily": {"regions": {"@@append": ["eu-west-1"]}}}}`))
	f.Add([]byte(`{"tags": {"a": {"tag_key": {"@@assign": "A", "@@operators_allowed_for_child_policies": ["@@none"]}}}}`), []byte(`{"tags": {"A": {"tag_key": {"@@assign": "b"}}}}`))
	f.Fuzz(func(t *testing.T, parent, child []byte) {
		p, err1 := ParseJSON(parent)
		c, err2 := ParseJSON(child)
		if err1 != nil || err2 != nil {
			return
		}
		for _, typ := range []string{"BACKUP_POLICY", "TAG_POLICY"} {
			res, err := Effective(typ, []Level{{Target: "r", Policies: []Attached{{Name: "p", Doc: p}}}, {Target: "a", Policies: []Attached{{Name: "c", Doc: c}}}})
			if err != nil {
				continue
			}
			if strings.Contains(string(res.Policy.Minify()), `"@@`) {
				t.Fatalf("effective policy keeps an operator: %s", res.Policy.Minify())
			}
			_ = CheckEffective(res.Policy)
		}
	})
}
