package awstag_test

import (
	"testing"

	"github.com/backup-as-code/orgbackup/pkg/awstag"
)

func TestReserved(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]bool{
		"aws:cloudformation:stack-name": true,
		"AWS:createdBy":                 true,
		"Aws:x":                         true,
		"aws:":                          true,
		"aws":                           false,
		"team":                          false,
		"my-aws:key":                    false,
		"":                              false,
		"ä":                             false,
	} {
		if got := awstag.Reserved(key); got != want {
			t.Errorf("Reserved(%q) = %v, want %v", key, got, want)
		}
	}
}
