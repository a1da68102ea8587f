package runtimeapi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Build compiles a function's main package into outDir/bootstrap for this
// machine, with the flags of the Lambda build: LAMBDA_FLAGS of the
// repository's Makefile, the one place they are written (`make build`,
// `sam build` and `make local` use them too), and no cgo.
func Build(ctx context.Context, importPath, outDir string) (string, error) {
	makefile, err := os.ReadFile(repositoryMakefile())
	if err != nil {
		return "", fmt.Errorf("reading the Lambda build flags: %w", err)
	}
	flags, err := lambdaFlags(makefile)
	if err != nil {
		return "", err
	}
	out := filepath.Join(outDir, "bootstrap")
	args := append(append([]string{"build"}, flags...), "-o", out, importPath)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %w\n%s", importPath, err, msg)
	}
	return out, nil
}

// repositoryMakefile is the Makefile at the root of this source tree.
func repositoryMakefile() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "Makefile")
}

// lambdaFlags returns the words of the Makefile's LAMBDA_FLAGS as the shell
// splits them in a recipe: on blanks, with double quotes grouping.
func lambdaFlags(makefile []byte) ([]string, error) {
	sc := bufio.NewScanner(bytes.NewReader(makefile))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":=")
		if !ok || strings.TrimSpace(name) != "LAMBDA_FLAGS" {
			continue
		}
		if strings.ContainsAny(value, `$'\`) {
			return nil, fmt.Errorf("LAMBDA_FLAGS of the Makefile (%q): only plain words and double quotes are understood here", strings.TrimSpace(value))
		}
		var words []string
		var word strings.Builder
		inWord, quoted := false, false
		for _, r := range value {
			switch {
			case r == '"':
				quoted, inWord = !quoted, true
			case (r == ' ' || r == '\t') && !quoted:
				if inWord {
					words = append(words, word.String())
					word.Reset()
					inWord = false
				}
			default:
				word.WriteRune(r)
				inWord = true
			}
		}
		if quoted {
			return nil, fmt.Errorf("LAMBDA_FLAGS of the Makefile (%q): unbalanced double quote", strings.TrimSpace(value))
		}
		if inWord {
			words = append(words, word.String())
		}
		return words, nil
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the Makefile: %w", err)
	}
	return nil, errors.New("the Makefile defines no LAMBDA_FLAGS")
}
