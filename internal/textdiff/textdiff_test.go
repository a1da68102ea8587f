package textdiff

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUnified(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, a, b, want string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"one line changed", "a\nb\nc\n", "a\nB\nc\n", "--- old\n+++ new\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"added at the end", "a\n", "a\nb\n", "--- old\n+++ new\n@@ -1 +1,2 @@\n a\n+b\n"},
		{"from nothing", "", "a\n", "--- old\n+++ new\n@@ -0,0 +1 @@\n+a\n"},
		{"two hunks far apart", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "X\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\nY\n",
			"--- old\n+++ new\n@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+Y\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, Unified("old", "new", tt.a, tt.b)); diff != "" {
				t.Errorf("Unified (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUnifiedAppliesWithPatch: the output is a patch that turns a into b,
// checked with patch(1) where it is installed.
func TestUnifiedAppliesWithPatch(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("patch"); err != nil {
		t.Skip("patch(1) not installed")
	}
	a := "{\n  \"plans\": {\n    \"daily\": {\n      \"regions\": [\"us-east-1\"]\n    }\n  }\n}\n"
	b := "{\n  \"plans\": {\n    \"daily\": {\n      \"regions\": [\"us-east-1\", \"eu-west-1\"]\n    },\n    \"weekly\": {}\n  }\n}\n"
	dir := t.TempDir()
	if err := writeFile(dir+"/doc.json", a); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("patch", "-s", dir+"/doc.json")
	cmd.Stdin = strings.NewReader(Unified("doc.json", "doc.json", a, b))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("patch: %v: %s", err, out)
	}
	got, err := readFile(dir + "/doc.json")
	if err != nil {
		t.Fatal(err)
	}
	if got != b {
		t.Errorf("patched document:\n%s\nwant:\n%s", got, b)
	}
}

func writeFile(name, s string) error { return os.WriteFile(name, []byte(s), 0o600) }

func readFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}
