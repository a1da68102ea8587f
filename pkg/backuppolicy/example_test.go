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
