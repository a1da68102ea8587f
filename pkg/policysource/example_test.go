package policysource_test

import (
	"fmt"

	"github.com/backup-as-code/orgbackup/pkg/policysource"
)

func ExampleRead() {
	f, err := policysource.Read("testdata/typo.json", policysource.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range f.Policies[0].Problems {
		fmt.Printf("%s:%d:%d: %s: %s\n", p.File, p.Line, p.Column, p.Severity, p.Path)
	}
	// Output:
	// testdata/typo.json:9:11: error: plans.daily.rules.nightly
}
