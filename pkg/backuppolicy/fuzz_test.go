package backuppolicy

import (
	"os"
	"path/filepath"
	"testing"
)

func addTestdataSeeds(f *testing.F) {
	f.Helper()
	files, _ := filepath.Glob("testdata/*.json")
	more, _ := filepath.Glob("testdata/aws-examples*/*.json")
	for _, name := range append(files, more...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(inRule(`"schedule_expression":{"@@assign":"cron(0 5 ? * 6#3 *)"}`)))
	f.Add([]byte(`{"plans":{"P":{"regions":{}}}}`))
}

// FuzzCheck: Check never panics, returns issues in text order, and
// Validate fails exactly when Check reports an error.
func FuzzCheck(f *testing.F) {
	addTestdataSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ParseJSON(data)
		if err != nil {
			return
		}
		issues := Check(n)
		hasErr := false
		for i, is := range issues {
			if i > 0 && issues[i-1].Pos.Offset > is.Pos.Offset {
				t.Fatalf("issues out of order: %v then %v", issues[i-1], is)
			}
			if is.Rule == "" {
				t.Fatalf("issue without a rule: %v", is)
			}
			hasErr = hasErr || is.Severity == SeverityError
		}
		if (Validate(n) != nil) != hasErr {
			t.Fatalf("Validate disagrees with Check: %v", issues)
		}
	})
}
