package runtimeapi

import (
	"context"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLambdaFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, makefile string
		want           []string
		wantErr        bool
	}{
		{"quoted ldflags", "X := 1\nLAMBDA_FLAGS  := -tags lambda.norpc -trimpath -ldflags \"-s -w\"\n", []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w"}, false},
		{"tabs and empty quotes", "LAMBDA_FLAGS:=\t-a\t\"\"  -b\n", []string{"-a", "", "-b"}, false},
		{"other variable of the same prefix", "LAMBDA_FLAGS_X := -x\n", nil, true},
		{"unbalanced quote", "LAMBDA_FLAGS := -ldflags \"-s\n", nil, true},
		{"make reference", "LAMBDA_FLAGS := $(TAGS)\n", nil, true},
		{"missing", "GO ?= go\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := lambdaFlags([]byte(tt.makefile))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("flags (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBuildUsesTheLambdaFlags reads back the build settings Go records in
// the binary: what the tests run is built like what Lambda runs.
func TestBuildUsesTheLambdaFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bin, err := Build(ctx, "github.com/backup-as-code/orgbackup/internal/runtimeapi/testdata/echofn", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range info.Settings {
		switch s.Key {
		case "-tags", "-trimpath", "CGO_ENABLED":
			got[s.Key] = s.Value
		}
	}
	want := map[string]string{"-tags": "lambda.norpc", "-trimpath": "true", "CGO_ENABLED": "0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("build settings (-want +got):\n%s", diff)
	}
	// With -trimpath Go does not record -ldflags; -s -w show as an ELF
	// binary without symbol table and DWARF.
	if runtime.GOOS != "linux" {
		return
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Symbols(); !errors.Is(err, elf.ErrNoSymbols) {
		t.Errorf("the binary has a symbol table (%v): built without -ldflags -s", err)
	}
	if f.Section(".debug_info") != nil {
		t.Error("the binary has DWARF: built without -ldflags -w")
	}
}
