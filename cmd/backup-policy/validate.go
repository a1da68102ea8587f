package main

import (
	"fmt"

	"github.com/backup-as-code/orgbackup/pkg/policysource"
)

const validateExample = `Checks each FILE: a JSON backup policy, or a CloudFormation template whose
Custom::BackupOrgPolicy, Custom::OrgPolicy and AWS::Organizations::Policy
resources are rendered exactly as the policy manager renders them
(Variables, PolicyRegions) and validated: properties, the backup policy
syntax (errors and warnings), the size limit. Each problem is reported at
the file's line and column.

Example:
  backup-policy validate examples/policies/daily-35.json
  backup-policy validate cfn/org-policies.yaml \
    --parameter TargetOuIds=ou-a1b2-prod0001 --parameter TargetRegions=us-east-1,eu-west-1 \
    --parameter CentralVaultArn=arn:aws:backup:us-east-1:111111111111:backup-vault:central \
    --parameter OrganizationId=o-a1b2c3d4e5`

func runValidate(c *cli, args []string) int {
	fs, o := newFlagSet(c, "validate [flags] FILE...", validateExample+"\n"+jsonSchemaHelp)
	files, ok, code := parse(fs, args)
	if !ok {
		return code
	}
	if !o.checkFormat(c) {
		return exitInput
	}
	if len(files) == 0 {
		fmt.Fprintln(c.stderr, "backup-policy validate: name at least one FILE")
		fs.Usage()
		return exitInput
	}
	r := &report{}
	policies := 0
	for _, path := range files {
		f, err := policysource.Read(path, o.options())
		if err != nil {
			return c.inputError(err)
		}
		for _, p := range f.Policies {
			policies++
			for _, pr := range p.Problems {
				r.add(fromProblem(pr))
			}
		}
		for _, s := range f.Skipped {
			r.Skipped = append(r.Skipped, fromSkipped(s))
		}
	}
	if o.format == "json" {
		if err := r.writeJSON(c.stdout); err != nil {
			return c.inputError(err)
		}
		return r.exit(o.strict)
	}
	c.writeFindings(c.stdout, r)
	fmt.Fprintf(c.stdout, "%s, %s in %s (%s)\n", plural(r.Errors, "error"), plural(r.Warnings, "warning"), plural(len(files), "file"), policyCount(policies))
	return r.exit(o.strict)
}
