package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/backup-as-code/orgbackup/pkg/policysource"
)

const renderExample = `Prints the policy document exactly as the policy manager sends it to
Organizations: Variables replaced, PolicyRegions applied, minified. A
template with several policies needs --resource. A policy with an error is
not printed; its problems are, as validate prints them.

Example:
  backup-policy render cfn/org-policies.yaml --resource DailyBackupPolicy \
    --parameter TargetOuIds=ou-a1b2-prod0001 --parameter TargetRegions=us-east-1 \
    --parameter CentralVaultArn=arn:aws:backup:us-east-1:111111111111:backup-vault:central \
    --parameter OrganizationId=o-a1b2c3d4e5 --indent`

func runRender(c *cli, args []string) int {
	fs, o := newFlagSet(c, "render [flags] FILE", renderExample)
	resource := fs.String("resource", "", "logical ID of the policy resource in a template")
	indent := fs.Bool("indent", false, "indent the document for reading (what is sent is minified)")
	files, ok, code := parse(fs, args)
	if !ok {
		return code
	}
	if len(files) != 1 {
		fmt.Fprintln(c.stderr, "backup-policy render: name exactly one FILE")
		fs.Usage()
		return exitInput
	}
	if !o.checkFormat(c) {
		return exitInput
	}
	f, err := policysource.Read(files[0], o.options())
	if err != nil {
		return c.inputError(err)
	}
	p, err := f.Policy(*resource)
	if err != nil {
		return c.inputError(err)
	}
	r := &report{}
	for _, pr := range p.Problems {
		r.add(fromProblem(pr))
	}
	if p.Document == "" || r.exit(o.strict) != exitClean {
		if o.format == "json" {
			_ = r.writeJSON(c.stderr)
		} else {
			c.writeFindings(c.stderr, r)
		}
		return exitFindings
	}
	if len(r.Findings) > 0 {
		c.writeFindings(c.stderr, r)
	}
	out := []byte(p.Document)
	if *indent {
		var buf bytes.Buffer
		if err := json.Indent(&buf, out, "", "  "); err != nil {
			return c.inputError(err)
		}
		out = buf.Bytes()
	}
	fmt.Fprintln(c.stdout, string(out))
	return exitClean
}
