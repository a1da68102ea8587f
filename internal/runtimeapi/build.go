package runtimeapi

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Build compiles a function's main package into outDir/bootstrap for this
// machine, with the flags of the Lambda build (no RPC entry point, no cgo,
// trimmed paths).
func Build(ctx context.Context, importPath, outDir string) (string, error) {
	out := filepath.Join(outDir, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, importPath)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %w\n%s", importPath, err, msg)
	}
	return out, nil
}
