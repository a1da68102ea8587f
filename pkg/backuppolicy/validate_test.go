package backuppolicy

import (
	"os"
	"strings"
	"testing"
)

func mustParse(t *testing.T, s string) *Node {
	t.Helper()
	n, err := ParseJSON([]byte(s))
	if err != nil {
		t.Fatalf("ParseJSON: %v", err)
	}
	return n
}

func TestValidateAcceptsDocumentedSyntax(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/daily-monthly.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(mustParse(t, string(data))); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for name, doc := range map[string]string{
		"resources selection with conditions": `{"plans":{"P":{"selections":{"resources":{"all-ebs":{
			"iam_role_arn":{"@@assign":"arn:aws:iam::$account:role/R"},
			"resource_types":{"@@assign":["arn:aws:ec2:*:*:volume/*"]},
			"not_resource_types":{"@@assign":["arn:aws:ec2:*:*:volume/vol-1"]},
			"conditions":{"string_equals":{"env":{"condition_key":{"@@assign":"aws:ResourceTag/env"},"condition_value":{"@@assign":"prod"}}}}}}}}}}`,
		"partial child policy appending regions": `{"plans":{"P":{"regions":{"@@append":["ap-south-1"]}}}}`,
		"child control on a leaf only":           `{"plans":{"P":{"regions":{"@@operators_allowed_for_child_policies":["@@append","@@remove"]}}}}`,
		// target_backup_vault_arn is optional; the key stands for it.
		"child policy changing only an inherited copy action's lifecycle": `{"plans":{"P":{"rules":{"R":{"copy_actions":{
			"arn:aws:backup:us-east-1:333333333333:backup-vault:central":{"lifecycle":{"delete_after_days":{"@@assign":"90"}}}}}}}}}`,
		"advanced settings and scans": `{"plans":{"P":{"advanced_backup_settings":{"ec2":{"windows_vss":{"@@assign":"enabled"}}},
			"scan_settings":{"GUARDDUTY":{"resource_types":{"@@assign":["EBS"]},"scanner_role_arn":{"@@assign":"arn:aws:iam::$account:role/S"}}},
			"rules":{"R":{"scan_actions":{"GUARDDUTY":{"scan_mode":{"@@assign":"INCREMENTAL_SCAN"}}},"index_actions":{"resource_types":{"@@assign":["EBS"]}},
			"enable_continuous_backup":{"@@assign":false},"recovery_point_tags":{"owner":{"tag_key":{"@@assign":"owner"},"tag_value":{"@@assign":"platform"}}}}}}}}`,
	} {
		if err := Validate(mustParse(t, doc)); err != nil {
			t.Errorf("%s: Validate: %v", name, err)
		}
	}
}

func TestValidateReportsWhereAndWhat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []string // substrings of the error, in order
	}{
		{
			name: "not an object",
			doc:  `["plans"]`,
			want: []string{`must be a JSON object with a top-level "plans" key, not a list`},
		},
		{
			name: "unknown top-level key",
			doc:  `{"plans":{},"plan":{}}`,
			want: []string{`unknown key "plan"; allowed: plans (line 1, column 13)`},
		},
		{
			name: "misspelled rule key",
			doc:  "{\"plans\":{\"Daily\":{\"rules\":{\"Nightly\":{\n\"lifecyle\":{}}}}}}",
			want: []string{`plans.Daily.rules.Nightly: unknown key "lifecyle"; allowed: complete_backup_window_minutes, copy_actions, enable_continuous_backup, index_actions, lifecycle,`, "(line 2, column 1)"},
		},
		{
			name: "value without operator",
			doc:  `{"plans":{"Daily":{"regions":["us-east-1"]}}}`,
			want: []string{`plans.Daily.regions: set values through an operator: {"@@assign": ["us-east-1"]}`},
		},
		{
			name: "append on a single value",
			doc:  `{"plans":{"Daily":{"rules":{"R":{"schedule_expression":{"@@append":"cron(0 5 ? * * *)"}}}}}}`,
			want: []string{`plans.Daily.rules.R.schedule_expression: @@append applies only to lists; use @@assign here`},
		},
		{
			name: "unknown operator",
			doc:  `{"plans":{"Daily":{"regions":{"@@replace":["us-east-1"]}}}}`,
			want: []string{`plans.Daily.regions: unexpected key "@@replace"`},
		},
		{
			name: "operator on a section",
			doc:  `{"plans":{"Daily":{"rules":{"@@assign":{}}}}}`,
			want: []string{`plans.Daily.rules: @@assign cannot set a whole section; set the keys inside it`},
		},
		{
			name: "bad child control operator",
			doc:  `{"plans":{"@@operators_allowed_for_child_policies":["@@none","@@assign"]}}`,
			want: []string{`plans.@@operators_allowed_for_child_policies: @@none must be the only element`},
		},
		{
			name: "copy action key differs from its vault ARN",
			doc: `{"plans":{"P":{"rules":{"R":{"copy_actions":{"central":{
				"target_backup_vault_arn":{"@@assign":"arn:aws:backup:us-east-1:333333333333:backup-vault:central"}}}}}}}}`,
			want: []string{`plans.P.rules.R.copy_actions.central: the copy action's key must be the ARN of its vault, "arn:aws:backup:us-east-1:333333333333:backup-vault:central"`},
		},
		{
			name: "copy action without a vault ARN needs an ARN as its key",
			doc:  `{"plans":{"P":{"rules":{"R":{"copy_actions":{"central":{"lifecycle":{"delete_after_days":{"@@assign":"35"}}}}}}}}}`,
			want: []string{`plans.P.rules.R.copy_actions.central: without target_backup_vault_arn the key is used as the vault's ARN, so it must be one`},
		},
		{
			name: "timezone is a plan setting",
			doc:  `{"plans":{"P":{"rules":{"R":{"schedule_expression_timezone":{"@@assign":"Europe/Paris"}}}}}}`,
			want: []string{`schedule_expression_timezone is an AWS Backup plan setting`},
		},
		{
			name: "list elements must be strings",
			doc:  `{"plans":{"P":{"regions":{"@@assign":["us-east-1", 5]}}}}`,
			want: []string{`plans.P.regions.@@assign: list elements must be strings, not a number`},
		},
		{
			name: "every problem is reported in text order",
			doc:  "{\"plans\":{\"P\":{\n\"regionz\":{},\n\"rules\":{\"R\":{\"lifecycle\":{\"delete_after\":{}}}}}}}",
			want: []string{"2 problems: ", `plans.P: unknown key "regionz"`, `plans.P.rules.R.lifecycle: unknown key "delete_after"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(mustParse(t, tt.doc))
			if err == nil {
				t.Fatal("Validate accepted an invalid policy")
			}
			rest := err.Error()
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error %q\nlacks (in order) %q", err, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	content := `{"plans":{"P":{"regions":{"@@assign":["us-east-1"],"@@operators_allowed_for_child_policies":["@@append"]},
		"rules":{"R":{"target_backup_vault_name":{"@@assign":"$vault"},
		"copy_actions":{"$vault_arn":{"target_backup_vault_arn":{"@@assign":"$vault_arn"}}}}}},
		"Q":{"rules":{}}}}`
	root, err := Render(content, RenderOptions{
		Variables: []Variable{
			{Placeholder: "$vault", Value: "org-vault"},
			{Placeholder: "$vault_arn", Value: "arn:aws:backup:$region:333333333333:backup-vault:$vault"},
		},
		Regions: []string{"eu-west-1", "eu-central-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"plans":{"P":{"regions":{"@@append":["eu-west-1","eu-central-1"],"@@operators_allowed_for_child_policies":["@@append"]},` +
		`"rules":{"R":{"target_backup_vault_name":{"@@assign":"org-vault"},` +
		`"copy_actions":{"arn:aws:backup:$region:333333333333:backup-vault:$vault":{"target_backup_vault_arn":{"@@assign":"arn:aws:backup:$region:333333333333:backup-vault:$vault"}}}}}},` +
		`"Q":{"rules":{},"regions":{"@@append":["eu-west-1","eu-central-1"]}}}}`
	if got := string(root.Minify()); got != want {
		t.Errorf("Render =\n%s\nwant\n%s", got, want)
	}
	if err := Validate(root); err != nil {
		t.Errorf("rendered policy does not validate: %v", err)
	}

	assign, err := Render(`{"plans":{"P":{}}}`, RenderOptions{Regions: []string{"us-east-1"}, RegionsOperator: OpAssign})
	if err != nil || string(assign.Minify()) != `{"plans":{"P":{"regions":{"@@assign":["us-east-1"]}}}}` {
		t.Errorf("Render with @@assign = %s, %v", assign.Minify(), err)
	}
	if _, err := Render(`{"plans":{"P":{}}}`, RenderOptions{Regions: []string{"us-east-1"}, RegionsOperator: "@@remove"}); err == nil {
		t.Error("Render accepted @@remove as the regions operator")
	}
	if _, err := Render(`{"plans":"x"}`, RenderOptions{Regions: []string{"us-east-1"}}); err == nil || !strings.Contains(err.Error(), "plans: must be an object") {
		t.Errorf("Render into a non-object plans: %v", err)
	}
	_, err = Render(`{"a": "$v"}`, RenderOptions{Variables: []Variable{{Placeholder: "$v", Value: `x"y`}}})
	if err == nil || !strings.Contains(err.Error(), "after variable substitution") {
		t.Errorf("a variable that breaks the JSON: %v", err)
	}
}

func TestCheckSize(t *testing.T) {
	t.Parallel()
	at := []byte(`{"plans":{"P":{"x":"` + strings.Repeat("é", 10000-len(`{"plans":{"P":{"x":""}}}`)) + `"}}}`)
	if Chars(at) != 10000 {
		t.Fatalf("fixture is %d chars", Chars(at))
	}
	if err := CheckSize(at, "BACKUP_POLICY"); err != nil {
		t.Errorf("10,000 characters rejected: %v", err)
	}
	over := append([]byte(`{"a":1,`), at[1:]...)
	if err := CheckSize(over, "BACKUP_POLICY"); err == nil || !strings.Contains(err.Error(), "10006 characters even minified; AWS Organizations allows at most 10000") {
		t.Errorf("CheckSize over the limit: %v", err)
	}
	if err := CheckSize(over, "SOME_NEW_POLICY"); err != nil {
		t.Errorf("unknown types have no limit here: %v", err)
	}
}

func FuzzRenderValidate(f *testing.F) {
	data, _ := os.ReadFile("testdata/daily-monthly.json")
	f.Add(string(data), "$account", "111111111111", "us-east-1")
	f.Add(`{"plans":{"P":{"regions":{"@@assign":[1]}}}}`, "", "", "")
	f.Fuzz(func(t *testing.T, content, placeholder, value, region string) {
		root, err := Render(content, RenderOptions{Variables: []Variable{{placeholder, value}}, Regions: []string{region}})
		if err != nil {
			return
		}
		_ = Validate(root)
		_ = CheckSize(root.Minify(), "BACKUP_POLICY")
	})
}
