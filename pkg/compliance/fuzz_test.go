package compliance

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
)

// every control Evaluate checks, scoped and unscoped.
var fuzzControls = []Control{
	{Name: PlanMinFrequencyAndRetention},
	{Name: PlanMinFrequencyAndRetention, Parameters: map[string]string{"requiredFrequencyUnit": "hours", "requiredFrequencyValue": "12"},
		Scope: Scope{Tags: map[string]string{"tier": "gold"}}},
	{Name: RecoveryPointMinimumRetention},
	{Name: RecoveryPointMinimumRetention, Scope: Scope{ResourceTypes: []string{"EBS"}, ResourceIDs: []string{"vol-1"}}},
	{Name: ProtectedByBackupPlan},
	{Name: ProtectedByBackupPlan, Scope: Scope{ResourceTypes: []string{"RDS", "S3"}, Tags: map[string]string{"backup": ""}}},
	{Name: ProtectedByCrossRegion, Parameters: map[string]string{"crossRegionList": "us-west-2"}},
	{Name: ProtectedByCrossRegion},
	{Name: ProtectedByCrossAccount, Parameters: map[string]string{"crossAccountList": "111122223333"}},
	{Name: ProtectedByCrossAccount, Scope: Scope{Tags: map[string]string{"backup": "daily"}}},
}

func FuzzEvaluate(f *testing.F) {
	for _, name := range []string{"compliant.json", "noncompliant.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"plans": {"p": {"rules": {"r": {"schedule_expression": 5, "lifecycle": {"delete_after_days": []}, "copy_actions": {"x": 1}}},
		"selections": {"tags": {"t": "x"}, "resources": {"r": {"resource_types": "*", "conditions": {"string_like": {"c": []}}}}}}}}`))
	f.Add([]byte(`{"plans": []}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := backuppolicy.ParseJSON(data)
		if err != nil {
			return
		}
		a := Evaluate("123456789012", n, fuzzControls)
		b := Evaluate("123456789012", n, fuzzControls)
		if len(a) != len(b) {
			t.Fatalf("two evaluations differ: %d and %d findings", len(a), len(b))
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("two evaluations differ at %d: %+v, %+v", i, a[i], b[i])
			}
			if a[i].Message == "" || a[i].Control == "" {
				t.Fatalf("finding without a message or control: %+v", a[i])
			}
		}
	})
}

func FuzzReadFramework(f *testing.F) {
	for _, name := range []string{"framework.yaml", "frameworks.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("controls:\n  - name: X\n    scope: {tags: {a: b}}\n"))
	f.Add([]byte("Resources:\n  F:\n    Type: AWS::Backup::Framework\n    Properties:\n      FrameworkControls: !If [C, [], []]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(t.TempDir(), "f.yaml")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		controls, err := ReadFramework(file, map[string]string{"Environment": "prod", "AWS::Region": "us-east-1"})
		if err != nil {
			return
		}
		for _, c := range controls {
			if c.Name == "" || c.Source == "" {
				t.Fatalf("control without a name or source: %+v", c)
			}
		}
		// What ReadFramework accepts, Evaluate evaluates without a
		// "cannot be evaluated" finding.
		for _, fd := range Evaluate("123456789012", nil, controls) {
			if fd.Expected == "" {
				t.Fatalf("%+v", fd)
			}
		}
	})
}
