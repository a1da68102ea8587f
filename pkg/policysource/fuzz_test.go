package policysource_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/backup-as-code/orgbackup/pkg/policysource"
)

// FuzzRead: any file, template or policy, is read without a panic, and
// every problem it reports has a file.
func FuzzRead(f *testing.F) {
	for _, seed := range []string{"testdata/templates.yaml", "testdata/typo.json"} {
		data, err := os.ReadFile(seed)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(filepath.Ext(seed), data)
	}
	f.Add(".yaml", []byte("Resources:\n  P:\n    Type: Custom::BackupOrgPolicy\n    Properties:\n      PolicyName: p\n      PolicyContent: |\n        {\"plans\": {\n"))
	f.Add(".json", []byte(`{"plans": {"p": {"regions": {"@@assign": ["us-east-1"]}}}}`))
	f.Fuzz(func(t *testing.T, ext string, data []byte) {
		if ext != ".json" && ext != ".yaml" {
			ext = ".yaml"
		}
		path := filepath.Join(t.TempDir(), "f"+ext)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		file, err := policysource.Read(path, policysource.Options{})
		if err != nil {
			return
		}
		for _, p := range file.Policies {
			for _, pr := range p.Problems {
				if pr.File != path || pr.Line < 0 || pr.Column < 0 {
					t.Errorf("problem %+v", pr)
				}
			}
		}
	})
}
