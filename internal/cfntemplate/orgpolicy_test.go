package cfntemplate_test

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/cfntemplate"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
)

const orgPolicyType = "Custom::BackupOrgPolicy"

// orgPolicyProblems decodes every Custom::BackupOrgPolicy of tpl with the
// policy manager's own decoder, as CloudFormation would send its properties
// in a deployment with the parameters' defaults. Problems about properties
// known only at deploy time are dropped: nothing can check those before.
// n is the number of resources decoded.
func orgPolicyProblems(t *testing.T, tpl *cfntemplate.Template) (n int, problems []string) {
	t.Helper()
	d := cfntemplate.Deployment{Pseudo: stack("backup-org-policies", "1c2fa620-982a-11e3-aff7-50e2416294e0")}
	for _, r := range tpl.Resources() {
		if r.Type != orgPolicyType {
			continue
		}
		n++
		props, deferred := tpl.RequestProperties(r, d)
		for name, why := range deferred {
			t.Logf("%s %s: %s is known only at deploy time (%v)", tpl.Name, r.LogicalID, name, why)
		}
		_, err := orgpolicy.DecodeProperties(props, orgpolicy.Defaults{})
		var pe *orgpolicy.PropertyError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("%s %s: %v", tpl.Name, r.LogicalID, err)
		}
		for _, p := range problemsOf(pe) {
			name := regexp.MustCompile(`^\w+`).FindString(p)
			if _, later := deferred[name]; !later {
				problems = append(problems, r.LogicalID+": "+p)
			}
		}
	}
	return n, problems
}

func problemsOf(pe *orgpolicy.PropertyError) []string {
	if pe == nil {
		return nil
	}
	return pe.Problems
}

// TestOrgPolicyFixture: the check finds a misspelt property and a bad value,
// resolves parameters, pseudo parameters and Fn::Sub, sends scalars as
// strings, and leaves what only a deployment knows (the bucket a resource of
// the stack names, the imported ServiceToken) unchecked.
func TestOrgPolicyFixture(t *testing.T) {
	t.Parallel()
	tpl := load(t, "testdata/org-policies.yaml")
	n, problems := orgPolicyProblems(t, tpl)
	want := []string{
		`Misspelt: PolicyTarget: unknown property; did you mean PolicyTargets? allowed: PolicyName, PolicyDescription, PolicyType, PolicyContent, Variables, PolicyRegions, PolicyRegionsOperator, PolicyTargets, OrgManagementAccount, OrgAdminRoleName, ExternalId, Tags, UpdateToken, AdoptExistingPolicy, EnablePolicyType`,
		`Misspelt: PolicyRegions[0]: "us-east-1x" is not a Region code such as us-east-1`,
	}
	if diff := cmp.Diff(want, problems); n != 3 || diff != "" {
		t.Errorf("%d resources; problems (-want +got):\n%s", n, diff)
	}

	r, _ := tpl.Resource("Daily")
	props, deferred := tpl.RequestProperties(r, cfntemplate.Deployment{Pseudo: stack("s", "u")})
	if got := slices.Sorted(maps.Keys(deferred)); !cmp.Equal(got, []string{"PolicyContent", "ServiceToken"}) {
		t.Errorf("deferred %v, want PolicyContent (a bucket of the stack) and ServiceToken (imported)", got)
	}
	if got := jsonOf(props); got != `{"AdoptExistingPolicy":"true","PolicyName":"s-daily","PolicyTargets":["ou-a1b2-prod0001","ou-a1b2-dev00001"],"ServiceTimeout":"960"}` {
		t.Errorf("request properties %s", got)
	}
}

// TestOrgPolicyResourcesDecode: every Custom::BackupOrgPolicy of the
// project's templates and of the README's examples is one the policy
// manager accepts (a misspelt property or a target ID of the wrong form
// would otherwise fail only at deployment, in CloudFormation's events).
func TestOrgPolicyResourcesDecode(t *testing.T) {
	t.Parallel()
	tpls := allTemplates(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	examples := 0
	for i, block := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		if !strings.Contains(block[1], orgPolicyType) {
			continue
		}
		examples++
		tpl, err := cfntemplate.Parse(fmt.Sprintf("README.md YAML block %d", i+1), []byte(block[1]))
		if err != nil {
			t.Fatal(err)
		}
		tpls = append(tpls, tpl)
	}
	decoded := 0
	for _, tpl := range tpls {
		n, problems := orgPolicyProblems(t, tpl)
		decoded += n
		for _, p := range problems {
			t.Errorf("%s: %s", tpl.Name, p)
		}
	}
	// The README's examples are the ones there are today; each names the
	// type, so each must have been decoded.
	if examples == 0 || decoded < examples {
		t.Errorf("decoded %d resources; the README alone has %d examples", decoded, examples)
	}
}
