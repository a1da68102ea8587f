package tagreapply_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
)

// TestMain sets X-Ray up as the function's main does: the harness loads a
// traced configuration, as in production, and outside Lambda the X-Ray SDK
// then ignores calls made without a segment.
func TestMain(m *testing.M) {
	if err := awsclient.ConfigureTracing(nil, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
