package backuppolicy_test

import (
	"fmt"

	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
)

func ExampleRender() {
	content := `{
	  "plans": {
	    "daily": {
	      "rules": {"nightly": {"target_backup_vault_name": {"@@assign": "$vault"}}}
	    }
	  }
	}`
	root, err := backuppolicy.Render(content, backuppolicy.RenderOptions{
		Variables: []backuppolicy.Variable{{Placeholder: "$vault", Value: "org-vault"}},
		Regions:   []string{"us-east-1"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(backuppolicy.Validate(root))
	fmt.Println(string(root.Minify()))
	// Output:
	// <nil>
	// {"plans":{"daily":{"rules":{"nightly":{"target_backup_vault_name":{"@@assign":"org-vault"}}},"regions":{"@@append":["us-east-1"]}}}}
}

func ExampleValidate() {
	root, _ := backuppolicy.ParseJSON([]byte(`{"plans": {"daily": {"rules": {"nightly": {
	  "lifecycle": {"delete_after_days": {"@@append": "35"}}}}}}}`))
	fmt.Println(backuppolicy.Validate(root))
	// Output:
	// plans.daily.rules.nightly.lifecycle.delete_after_days: @@append applies only to lists; use @@assign here (line 2, column 40)
}

// The effective policy of an account under an OU whose policy adds a
// Region to the root's plan.
func ExampleEffective() {
	root, _ := backuppolicy.ParseJSON([]byte(`{"plans": {"Daily": {"regions": {"@@assign": ["us-east-1"]}}}}`))
	ou, _ := backuppolicy.ParseJSON([]byte(`{"plans": {"daily": {"regions": {"@@append": ["eu-west-1"]}}}}`))
	res, err := backuppolicy.Effective("BACKUP_POLICY", []backuppolicy.Level{
		{Target: "r-a1b2", Policies: []backuppolicy.Attached{{Name: "root.json", Doc: root}}},
		{Target: "ou-a1b2-prod0001", Policies: []backuppolicy.Attached{{Name: "prod.json", Doc: ou}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(res.Policy.Minify()))
	// Output: {"plans":{"daily":{"regions":["us-east-1","eu-west-1"]}}}
}
