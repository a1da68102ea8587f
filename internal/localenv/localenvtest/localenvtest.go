// Package localenvtest holds the test helpers of the end-to-end tests: it
// builds the function binaries localenv runs and reads the sample events.
// It imports testing, so only tests import it (no binary links it).
package localenvtest

import (
	"context"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/backup-as-code/orgbackup/internal/runtimeapi"
)

const modulePath = "github.com/backup-as-code/orgbackup"

// BuildFunction builds functions/<name> for a test and returns the
// bootstrap's path. It skips the test in -short mode: building takes a
// while on a cold cache.
func BuildFunction(t testing.TB, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the function binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin, err := runtimeapi.Build(ctx, path.Join(modulePath, "functions", name), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// BuildCommand builds cmd/<name> for a test and returns the binary's
// path; like BuildFunction, it skips the test in -short mode.
func BuildCommand(t testing.TB, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, path.Join(modulePath, "cmd", name)).CombinedOutput(); err != nil {
		t.Fatalf("building cmd/%s: %v\n%s", name, err, out)
	}
	return bin
}

// EventsDir is the repository's events/ directory.
func EventsDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "events")
}

// SampleEvent reads events/<name>.
func SampleEvent(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(EventsDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
