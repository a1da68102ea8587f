// Command backup-policy checks AWS Organizations backup policies before
// they are deployed: it validates policy files and the policies of
// CloudFormation templates, renders them as the policy manager sends them,
// computes the effective policy of an account across the OU tree, and
// checks every account's effective policy against the organization's
// AWS Backup Audit Manager controls. Run `backup-policy help`.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
