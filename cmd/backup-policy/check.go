package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
	"github.com/backup-as-code/orgbackup/pkg/compliance"
	"github.com/backup-as-code/orgbackup/pkg/policysource"
)

const checkExample = `Computes the effective backup policy of every account of an organization
file and checks it: that its plans are complete (AWS reports a plan without
rules, Regions, a selection, a schedule, a vault or a role as an invalid
effective policy), and that it meets the AWS Backup Audit Manager controls
of --framework: an AWS::Backup::Framework resource of a CloudFormation
template (evaluated with the template flags), or a YAML file of controls
(pkg/compliance documents the format). Controls that depend on recovery
points or vaults cannot be checked offline and are listed as such.

Example:
  backup-policy check --org examples/org.yaml --framework examples/framework.yaml
  backup-policy check --org org.yaml --framework cfn/audit-framework.yaml \
    --parameter OrganizationId=o-a1b2c3d4e5 --parameter CrossRegionList=us-west-2 \
    --parameter CrossAccountList=999999999999`

func runCheck(c *cli, args []string) int {
	fs, o := newFlagSet(c, "check --org ORG.yaml --framework TEMPLATE_OR_YAML [flags]", checkExample+"\n"+jsonSchemaHelp+checkSchemaHelp)
	org := fs.String("org", "", "organization file: which policies attach where, in order")
	framework := fs.String("framework", "", "the controls: a template with AWS::Backup::Framework, or a YAML file")
	rest, ok, code := parse(fs, args)
	if !ok {
		return code
	}
	if !o.checkFormat(c) {
		return exitInput
	}
	if *org == "" || *framework == "" || len(rest) > 0 {
		fmt.Fprintln(c.stderr, "backup-policy check: needs --org and --framework, and no other arguments")
		fs.Usage()
		return exitInput
	}
	root, err := loadOrg(*org)
	if err != nil {
		return c.inputError(err)
	}
	params := map[string]string{"AWS::Region": o.region, "AWS::AccountId": o.account, "AWS::Partition": o.partition, "AWS::StackName": o.stack}
	for k, v := range o.params {
		params[k] = v
	}
	controls, err := compliance.ReadFramework(*framework, params)
	if err != nil {
		return c.inputError(err)
	}
	r := &report{}
	for _, ctl := range controls {
		if !compliance.Evaluable(ctl.Name) {
			r.NotEvaluated = append(r.NotEvaluated, ctl.Name+": "+compliance.WhyNotEvaluable(ctl.Name))
		}
	}
	p := &policies{opts: o.options(), files: map[string]*policysource.File{}}
	accounts := root.accounts()
	for _, acc := range accounts {
		res, err := p.effectiveOf("BACKUP_POLICY", root.find(acc.ID))
		if err != nil {
			return c.inputError(err)
		}
		for _, is := range backuppolicy.CheckEffective(res.Policy) {
			r.add(finding{File: *org, Account: acc.ID, Path: is.Path, Rule: is.Rule, Severity: is.Severity.String(), Message: is.Message})
		}
		for _, f := range compliance.Evaluate(acc.ID, res.Policy, controls) {
			r.add(finding{File: *framework, Account: f.Target, Path: f.Path, Rule: "control", Severity: "error", Message: f.Message,
				Plan: f.Plan, BackupRule: f.Rule, Control: f.Control, Expected: f.Expected, Actual: f.Actual})
		}
	}
	if o.format == "json" {
		if err := r.writeJSON(c.stdout); err != nil {
			return c.inputError(err)
		}
		return r.exit(o.strict)
	}
	c.writeCheck(c.stdout, r)
	fmt.Fprintf(c.stdout, "%s in %s, %s checked\n", plural(r.Errors, "finding"), plural(len(accounts), "account"), plural(len(controls)-len(r.NotEvaluated), "control"))
	return r.exit(o.strict)
}

const checkSchemaHelp = `check's findings also carry "account", and for a control "plan",
"backup_rule", "control", "expected" and "actual" (rule "control"); the
report lists "not_evaluated" controls.
`

func (c *cli) writeCheck(w io.Writer, r *report) {
	if len(r.Findings) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCOUNT\tPLAN\tRULE\tCONTROL\tEXPECTED\tACTUAL\tMESSAGE")
		for _, f := range r.Findings {
			control := f.Control
			if control == "" {
				control = f.Rule
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Account, dash(f.Plan), dash(f.BackupRule), c.paint(control), dash(f.Expected), dash(f.Actual), f.Message)
		}
		tw.Flush()
	}
	for _, n := range r.NotEvaluated {
		fmt.Fprintln(w, "not checkable offline: "+n)
	}
}
