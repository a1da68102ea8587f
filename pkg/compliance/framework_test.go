package compliance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The framework the solution deploys.
const auditFramework = "../../cfn/audit-framework.yaml"

func TestReadFrameworkAuditTemplate(t *testing.T) {
	t.Parallel()
	src := func(line string) string { return auditFramework + ":" + line + " (Framework)" }
	// The frequency control evaluates the daily plan only (the monthly
	// plan would fail it), by the tag cfn/org-policies.yaml sets.
	dailyPlans := Scope{Tags: map[string]string{"backup-as-code-frequency": "daily"}}
	all := []Control{
		{Name: ProtectedByBackupPlan, Source: src("132")},
		{Name: PlanMinFrequencyAndRetention, Source: src("136"), Parameters: map[string]string{
			"requiredFrequencyUnit": "days", "requiredFrequencyValue": "1", "requiredRetentionDays": "35",
		}, Scope: dailyPlans},
		{Name: RecoveryPointEncrypted, Source: src("156")},
		{Name: RecoveryPointDeletionDisabled, Source: src("160")},
		{Name: RecoveryPointMinimumRetention, Source: src("164"), Parameters: map[string]string{"requiredRetentionDays": "35"}},
		{Name: ProtectedByCrossRegion, Source: src("171"), Parameters: map[string]string{"crossRegionList": "us-west-2"}},
		{Name: ProtectedByCrossAccount, Source: src("178"), Parameters: map[string]string{"crossAccountList": "111122223333"}},
	}
	base := map[string]string{"CrossRegionList": "us-west-2", "CrossAccountList": "111122223333", "AWS::Region": "us-east-1"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	hourly := append([]Control(nil), all...)
	hourly[1] = Control{Name: PlanMinFrequencyAndRetention, Source: src("136"), Parameters: map[string]string{
		"requiredFrequencyUnit": "hours", "requiredFrequencyValue": "12", "requiredRetentionDays": "90",
	}, Scope: dailyPlans}
	// RequiredRetentionDays serves both retention controls.
	hourly[4] = Control{Name: RecoveryPointMinimumRetention, Source: src("164"), Parameters: map[string]string{"requiredRetentionDays": "90"}}
	tests := []struct {
		name   string
		params map[string]string
		want   []Control
	}{
		{"defaults", base, all},
		// The template leaves the cross-Region control out in the Region
		// the copies go to.
		{"in the destination Region", with("AWS::Region", "us-west-2"), append(append([]Control(nil), all[:5]...), all[6])},
		{"a control disabled", with("EnableRecoveryPointEncrypted", "false"), append(append([]Control(nil), all[:2]...), all[3:]...)},
		{"parameters override defaults", with("RequiredFrequencyUnit", "hours", "RequiredFrequencyValue", "12", "RequiredRetentionDays", "90"), hourly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadFramework(auditFramework, tt.params)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ReadFramework (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadFrameworkAuditTemplateNeedsValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		params map[string]string
		want   string
	}{
		{"no CrossRegionList", map[string]string{"CrossAccountList": "111122223333", "AWS::Region": "us-east-1"}, "parameter CrossRegionList: the parameter has no default"},
		{"no Region", map[string]string{"CrossRegionList": "us-west-2", "CrossAccountList": "111122223333"}, "ref to AWS::Region"},
		{"hours beyond 24", map[string]string{"CrossRegionList": "us-west-2", "CrossAccountList": "111122223333", "AWS::Region": "us-east-1",
			"RequiredFrequencyUnit": "hours", "RequiredFrequencyValue": "30"}, "audit-framework.yaml:136 (Framework): BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK: parameter requiredFrequencyValue: 30 hours (at most 24)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadFramework(auditFramework, tt.params)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadFramework error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestReadFrameworkTemplateWithTwoFrameworks(t *testing.T) {
	t.Parallel()
	const file = "testdata/frameworks.yaml"
	baseline := []Control{
		{Name: RecoveryPointMinimumRetention, Source: file + ":18 (Baseline)", Parameters: map[string]string{"requiredRetentionDays": "35"},
			Scope: Scope{ResourceTypes: []string{"EBS", "EFS"}}},
		{Name: ProtectedByBackupPlan, Source: file + ":24 (Baseline)", Scope: Scope{Tags: map[string]string{"backup": "daily"}}},
	}
	prod := append(append([]Control(nil), baseline...),
		Control{Name: ProtectedByCrossRegion, Source: file + ":34 (Production)", Parameters: map[string]string{"crossRegionList": "eu-west-1"}},
		Control{Name: RecoveryPointEncrypted, Source: file + ":38 (Production)"},
	)
	tests := []struct {
		name   string
		params map[string]string
		want   []Control
	}{
		{"the condition false", nil, baseline},
		{"the condition true", map[string]string{"Environment": "prod", "AWS::Region": "eu-west-1"}, prod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadFramework(file, tt.params)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ReadFramework (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadFrameworkFile(t *testing.T) {
	t.Parallel()
	const file = "testdata/framework.yaml"
	want := []Control{
		{Name: ProtectedByBackupPlan, Source: file + ":6"},
		{Name: ProtectedByBackupPlan, Source: file + ":7", Scope: Scope{ResourceTypes: []string{"EBS", "RDS"}}},
		{Name: PlanMinFrequencyAndRetention, Source: file + ":10", Parameters: map[string]string{
			"requiredFrequencyUnit": "days", "requiredFrequencyValue": "1", "requiredRetentionDays": "35",
		}},
		{Name: RecoveryPointEncrypted, Source: file + ":15"},
		{Name: RecoveryPointMinimumRetention, Source: file + ":16", Parameters: map[string]string{"requiredRetentionDays": "35"}},
		{Name: ProtectedByCrossRegion, Source: file + ":19", Parameters: map[string]string{"crossRegionList": "us-west-2"}},
		{Name: ProtectedByCrossAccount, Source: file + ":22", Parameters: map[string]string{"crossAccountList": "111122223333"},
			Scope: Scope{Tags: map[string]string{"backup": "daily"}}},
	}
	// Template parameters do not apply to this format.
	got, err := ReadFramework(file, map[string]string{"Unused": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadFramework (-want +got):\n%s", diff)
	}
}

func TestReadFrameworkErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, content, want string }{
		{"not YAML", "controls: [", "reading framework"},
		{"a list", "- name: X\n", "want a mapping with controls"},
		{"neither format", "frameworks: []\n", "want a top-level controls list"},
		{"unknown top-level key", "controls: []\nversion: 1\n", `unknown key "version" (want controls)`},
		{"controls not a list", "controls: {}\n", ":1: controls: want a list"},
		{"unknown control key", "controls:\n  - name: X\n    params: {}\n", `:2: controls[0]: unknown key "params" (want name, parameters, scope)`},
		{"no name", "controls:\n  - parameters: {}\n", ":2: controls[0]: name: want a control name"},
		{"parameters a list", "controls:\n  - name: X\n    parameters: [a]\n", ":3: controls[0]: parameters: want a mapping"},
		{"unknown scope key", "controls:\n  - name: X\n    scope: {types: [EBS]}\n", `scope: unknown key "types" (want resourceTypes, resourceIds, tags)`},
		{"scope types not a list", "controls:\n  - name: X\n    scope: {resourceTypes: EBS}\n", "scope.resourceTypes: want a list of strings"},
		{"unknown resource type", "controls:\n  - name: BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN\n    scope: {resourceTypes: [EBSS]}\n",
			`:2: BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN: scope resource type "EBSS": unknown (want one of Aurora,`},
		{"two tags", "controls:\n  - name: BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN\n    scope: {tags: {a: b, c: d}}\n", "scope tags: 2 pairs, at most one is allowed"},
		{"unknown parameter", "controls:\n  - name: BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK\n    parameters: {retentionDays: 35}\n",
			"parameter retentionDays: unknown (want requiredRetentionDays)"},
		{"parameter of a control without", "controls:\n  - name: BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN\n    parameters: {x: 1}\n",
			"parameter x: the control takes no parameters"},
		{"retention not a number", "controls:\n  - name: BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK\n    parameters: {requiredRetentionDays: a month}\n",
			`parameter requiredRetentionDays: "a month" is not a whole number of at least 1`},
		{"retention zero", "controls:\n  - name: BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK\n    parameters: {requiredRetentionDays: 0}\n",
			`parameter requiredRetentionDays: "0" is not a whole number of at least 1`},
		{"unit weeks", "controls:\n  - name: BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK\n    parameters: {requiredFrequencyUnit: weeks}\n",
			`parameter requiredFrequencyUnit: "weeks" (want hours or days)`},
		{"32 days", "controls:\n  - name: BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK\n    parameters: {requiredFrequencyValue: 32}\n",
			"parameter requiredFrequencyValue: 32 days (at most 31)"},
		{"bad Region", "controls:\n  - name: BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION\n    parameters: {crossRegionList: 'us-west-2,Oregon'}\n",
			`parameter crossRegionList: "Oregon" is not a Region code such as us-west-2`},
		{"six accounts", "controls:\n  - name: BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT\n    parameters: {crossAccountList: '111111111111,222222222222,333333333333,444444444444,555555555555,666666666666'}\n",
			"parameter crossAccountList: 6 accounts (at most 5)"},
		{"bad account", "controls:\n  - name: BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT\n    parameters: {crossAccountList: '1234'}\n",
			`parameter crossAccountList: "1234" is not a 12-digit account ID`},
		{"template without a framework", "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n", "no AWS::Backup::Framework resource"},
		{"template control without a name", "Resources:\n  F:\n    Type: AWS::Backup::Framework\n    Properties:\n      FrameworkControls:\n        - ControlScope: {}\n",
			":6 (F): FrameworkControls[0]: ControlName: want a string"},
		{"template unknown scope key", "Resources:\n  F:\n    Type: AWS::Backup::Framework\n    Properties:\n      FrameworkControls:\n        - ControlName: X\n          ControlScope: {ResourceTypes: [EBS]}\n",
			"ControlScope.ResourceTypes: unknown key"},
		{"template parameter twice", "Resources:\n  F:\n    Type: AWS::Backup::Framework\n    Properties:\n      FrameworkControls:\n        - ControlName: X\n          ControlInputParameters:\n            - {ParameterName: a, ParameterValue: '1'}\n            - {ParameterName: a, ParameterValue: '2'}\n",
			"ControlInputParameters: a given twice"},
		{"template resource reference", "Resources:\n  F:\n    Type: AWS::Backup::Framework\n    Properties:\n      FrameworkControls:\n        - ControlName: !Ref Bucket\n",
			":6 (F): FrameworkControls[0]: ControlName: ref to Bucket"},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		file := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".yaml")
		if err := os.WriteFile(file, []byte(tt.content), 0o600); err != nil {
			t.Fatal(i, err)
		}
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadFramework(file, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadFramework error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := ReadFramework(filepath.Join(dir, "missing.yaml"), nil); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("ReadFramework of a missing file: error = %v", err)
	}
}

func TestEvaluable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		evaluable bool
		why       string
	}{
		{ProtectedByBackupPlan, true, ""},
		{PlanMinFrequencyAndRetention, true, ""},
		{RecoveryPointMinimumRetention, true, ""},
		{ProtectedByCrossRegion, true, ""},
		{ProtectedByCrossAccount, true, ""},
		{RecoveryPointEncrypted, false, "recovery points"},
		{RecoveryPointDeletionDisabled, false, "access policies"},
		{LastRecoveryPointCreated, false, "recovery points"},
		{ProtectedByVaultLock, false, "Vault Lock"},
		{RestoreTimeMeetsTarget, false, "restore jobs"},
		{"SOMETHING_NEW", false, "not a control this tool knows"},
	}
	for _, tt := range tests {
		if got := Evaluable(tt.name); got != tt.evaluable {
			t.Errorf("Evaluable(%s) = %v, want %v", tt.name, got, tt.evaluable)
		}
		if got := WhyNotEvaluable(tt.name); (tt.why == "") != (got == "") || !strings.Contains(got, tt.why) {
			t.Errorf("WhyNotEvaluable(%s) = %q, want it to contain %q", tt.name, got, tt.why)
		}
	}
}

// TestCrossRegionListEveryPartition: the Region codes of every partition
// are accepted, not only two-letter prefixes (AWS European Sovereign
// Cloud's eusc-de-east-1), through the same Region check as the policies.
func TestCrossRegionListEveryPartition(t *testing.T) {
	t.Parallel()
	for _, region := range []string{"eusc-de-east-1", "us-gov-west-1", "cn-northwest-1", "ap-southeast-7"} {
		c := Control{Name: ProtectedByCrossRegion, Parameters: map[string]string{"crossRegionList": region}}
		if err := checkControl(c); err != nil {
			t.Errorf("crossRegionList %s: %v", region, err)
		}
	}
}
