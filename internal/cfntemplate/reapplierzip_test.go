package cfntemplate_test

import (
	"archive/zip"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReapplierZipReproducible: the member re-applier's zip is the same bytes
// on every build of the same source, whatever the files' mtimes, so its
// content-addressed key (tag-reapplier/<sha256>.zip) changes only with the
// code and the StackSet updates the functions only then.
func TestReapplierZipReproducible(t *testing.T) {
	if _, err := exec.LookPath("zip"); err != nil {
		t.Skip("needs zip (Info-ZIP), as the CodeBuild image has")
	}
	script, err := filepath.Abs(filepath.Join(root, "buildspecs", "reapplier-zip.sh"))
	if err != nil {
		t.Fatal(err)
	}
	build := func(dir string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, script, dir).Output()
		if err != nil {
			t.Fatalf("reapplier-zip.sh: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	first, second := t.TempDir(), t.TempDir()
	key := build(first)
	if !regexp.MustCompile(`^tag-reapplier/[0-9a-f]{64}\.zip$`).MatchString(key) {
		t.Fatalf("key %q is not tag-reapplier/<sha256>.zip (stacksets.yaml's TagReapplierCodeKey pattern)", key)
	}
	// A new mtime on the sources changes nothing Go or the zip records.
	main := filepath.Join(root, "functions", "tag-reapplier", "main.go")
	info, err := os.Stat(main)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(main, time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chtimes(main, info.ModTime(), info.ModTime()) })
	if again := build(second); again != key {
		t.Errorf("second build's key %s, first %s: the zip is not reproducible", again, key)
	}

	zr, err := zip.OpenReader(filepath.Join(first, strings.TrimPrefix(key, "tag-reapplier/")))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
		t.Fatalf("zip holds %d files (first %q), want only bootstrap (provided.al2023 runs it)", len(zr.File), zr.File[0].Name)
	}
	if f := zr.File[0]; f.Mode().Perm() != 0o755 || f.Modified.UTC().Year() != 1980 {
		t.Errorf("bootstrap mode %v modified %v, want 0755 and 1980-01-01", f.Mode().Perm(), f.Modified)
	}
}
