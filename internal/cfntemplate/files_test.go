package cfntemplate_test

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/cfntemplate"
)

// missingFiles returns the files tpl names (FileReferences) that the
// repository at repo does not have.
func missingFiles(tpl *cfntemplate.Template, repo string) []string {
	var out []string
	for _, f := range tpl.FileReferences() {
		path := filepath.Join(repo, filepath.FromSlash(f.Path))
		if f.FromTemplateDir {
			path = filepath.Join(filepath.Dir(tpl.Name), filepath.FromSlash(f.Path))
		}
		if _, err := os.Stat(path); err != nil {
			out = append(out, f.Where+": "+f.Path)
		}
	}
	return out
}

// TestFileReferencesFixture: build specs, a pipeline's source-artifact
// paths, nested templates and StackSets' template files are found and checked; inline specs, values of
// intrinsic functions, URLs and build artifacts are not files of the
// repository.
func TestFileReferencesFixture(t *testing.T) {
	t.Parallel()
	tpl := load(t, "testdata/files.yaml")
	want := []cfntemplate.FileReference{
		{Where: "Audit Metadata.TemplateFile", Path: "internal/cfntemplate/testdata/good.yaml"},
		{Where: "Members Metadata.TemplateFile", Path: "cfn/members.yaml"},
		{Where: "Nested TemplateURL", Path: "../testdata/good.yaml", FromTemplateDir: true},
		{Where: "Package Source.BuildSpec", Path: "buildspecs/package.yml"},
		{Where: "Pipeline Stages[1].Actions[0].Configuration.Parameters", Path: "cfn/vaults-parameters.json"},
		{Where: "Pipeline Stages[1].Actions[0].Configuration.TemplatePath", Path: "cfn/vaults.yaml"},
		{Where: "Validate Source.BuildSpec", Path: "buildspecs/validate.yml"},
	}
	if diff := cmp.Diff(want, tpl.FileReferences()); diff != "" {
		t.Errorf("file references (-want +got):\n%s", diff)
	}
	wantMissing := []string{
		"Members Metadata.TemplateFile: cfn/members.yaml",
		"Package Source.BuildSpec: buildspecs/package.yml",
		"Pipeline Stages[1].Actions[0].Configuration.Parameters: cfn/vaults-parameters.json",
		"Pipeline Stages[1].Actions[0].Configuration.TemplatePath: cfn/vaults.yaml",
	}
	if diff := cmp.Diff(wantMissing, missingFiles(tpl, root)); diff != "" {
		t.Errorf("missing files (-want +got):\n%s", diff)
	}
}

// TestTemplatesNameExistingFiles: every file a template of the project
// names (a build spec, a StackSet's template, a nested stack) is in the
// repository.
func TestTemplatesNameExistingFiles(t *testing.T) {
	t.Parallel()
	for _, tpl := range allTemplates(t) {
		for _, m := range missingFiles(tpl, root) {
			t.Errorf("%s: %s is not in the repository", tpl.Name, m)
		}
	}
}

// ruleTarget matches a Makefile rule's targets: at the start of a line (a
// recipe starts with a tab), before a single colon that is not ":=".
var ruleTarget = regexp.MustCompile(`(?m)^([^\s#:=][^:=]*?)\s*::?(?:[^=]|$)`)

// makeTargets returns the explicit targets of a Makefile.
func makeTargets(makefile []byte) map[string]bool {
	out := map[string]bool{}
	for _, m := range ruleTarget.FindAllSubmatch(makefile, -1) {
		for _, target := range strings.Fields(string(m[1])) {
			out[target] = true
		}
	}
	return out
}

// makeCalls returns the targets the make commands of a buildspec's
// commands name (arguments that are neither options nor VAR=value).
func makeCalls(commands []string) []string {
	var out []string
	for _, c := range commands {
		f := strings.Fields(c)
		if len(f) == 0 || f[0] != "make" {
			continue
		}
		for _, arg := range f[1:] {
			if !strings.HasPrefix(arg, "-") && !strings.Contains(arg, "=") {
				out = append(out, arg)
			}
		}
	}
	return out
}

func TestMakeTargetsAndCalls(t *testing.T) {
	t.Parallel()
	targets := makeTargets([]byte("X := a:b\nall: x y\n\techo a: b\n.PHONY: all\nbuild-A build-B: FORCE\n$(DIR)/%/.stamp: tools/%.txt\n# c: d\n"))
	got := slices.Sorted(maps.Keys(targets))
	if want := []string{"$(DIR)/%/.stamp", ".PHONY", "all", "build-A", "build-B"}; !cmp.Equal(want, got) {
		t.Errorf("targets %v, want %v", got, want)
	}
	calls := makeCalls([]string{"make tools", "make -j2 fmt-check vet GOFLAGS=-x", "cfn_nag_scan make", "echo make x"})
	if want := []string{"tools", "fmt-check", "vet"}; !cmp.Equal(want, calls) {
		t.Errorf("calls %v, want %v", calls, want)
	}
}

// TestBuildspecsCallMakeTargets: every make target a buildspec runs is a
// target of the Makefile (CodeBuild would otherwise fail the phase with
// "No rule to make target" only in the pipeline).
func TestBuildspecsCallMakeTargets(t *testing.T) {
	t.Parallel()
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := makeTargets(makefile)
	specs, err := filepath.Glob(filepath.Join(root, "buildspecs", "*.yml"))
	if err != nil || len(specs) == 0 {
		t.Fatalf("no buildspecs (%v)", err)
	}
	called := 0
	for _, path := range specs {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := cfntemplate.Parse(path, data)
		if err != nil {
			t.Fatal(err)
		}
		phases, _ := spec.Doc["phases"].(map[string]any)
		for name, p := range phases {
			m, _ := p.(map[string]any)
			for _, target := range makeCalls(strs(m["commands"])) {
				called++
				if !targets[target] {
					t.Errorf("%s phase %s runs make %s; the Makefile has no such target", filepath.Base(path), name, target)
				}
			}
		}
	}
	if called == 0 {
		t.Error("the buildspecs run no make target")
	}
}

// TestLambdaCodeUri: the functions' CodeUri, lambda/, holds links to
// exactly what the binaries are built from. sam build hashes it to decide
// whether to rebuild: a source outside it would be missed (a stale build),
// and the tools, build outputs and .git inside it would be hashed on every
// build (1.3 GB, over a minute on a busy machine).
func TestLambdaCodeUri(t *testing.T) {
	t.Parallel()
	tpl := load(t, filepath.Join(root, "template.yaml"))
	if got := tpl.Section("Globals")["Function"].(map[string]any)["CodeUri"]; got != "lambda/" {
		t.Errorf("Globals.Function.CodeUri = %v, want lambda/", got)
	}
	dir := filepath.Join(root, "lambda")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]bool{}
	for _, e := range entries {
		if e.Name() == "Makefile" {
			continue
		}
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Errorf("lambda/%s is not a link into the repository", e.Name())
			continue
		}
		want := "../" + e.Name()
		if e.Name() == "Makefile.repo" {
			want = "../Makefile"
		}
		if target != want {
			t.Errorf("lambda/%s -> %s, want %s", e.Name(), target, want)
		}
		links[e.Name()] = true
	}
	for _, f := range []string{"go.mod", "go.sum", "Makefile.repo"} {
		if !links[f] {
			t.Errorf("lambda/ has no link to %s: changing it would not rebuild", f)
		}
	}
	// Every package of this module that a function imports is under a link.
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}", "./functions/...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(abs, d)
		if err != nil {
			t.Fatal(err)
		}
		top, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
		if !links[top] {
			t.Errorf("the functions import %s, which lambda/ does not link: sam build would not see it change", rel)
		}
	}
	for name := range links {
		if name != "go.mod" && name != "go.sum" && name != "Makefile.repo" && !strings.Contains(string(out), string(filepath.Separator)+name+string(filepath.Separator)) {
			t.Errorf("lambda/%s links what no function is built from: it only slows the hash", name)
		}
	}
}
