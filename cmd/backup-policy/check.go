package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
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
points or vaults cannot be checked offline and are listed as such. A
framework is deployed per Region: a template is read for every Region the
plans run in (AWS::Region), so a control it leaves out in a Region is not
checked there; --region checks one Region only.

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
	p := &policies{opts: o.options(), files: map[string]*policysource.File{}}
	accounts := root.accounts()
	effective := make([]*backuppolicy.Node, len(accounts))
	var regions []string
	for i, acc := range accounts {
		res, err := p.effectiveOf("BACKUP_POLICY", root.find(acc.ID))
		if err != nil {
			return c.inputError(err)
		}
		effective[i] = res.Policy
		regions = append(regions, compliance.PlanRegions(res.Policy)...)
	}
	// A framework is deployed in each Region and evaluates that Region's
	// resources; a template may leave a control out in some Regions (the
	// solution's cross-Region control, where the copies go). So it is read
	// for every Region the plans run in, unless --region names one.
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "region" })
	slices.Sort(regions)
	regions = slices.Compact(regions)
	if explicit || len(regions) == 0 {
		regions = []string{o.region}
	}
	controls, err := readFrameworkIn(*framework, o, regions)
	if err != nil {
		return c.inputError(err)
	}
	r := &report{}
	for _, ctl := range controls {
		if !compliance.Evaluable(ctl.Name) {
			r.NotEvaluated = append(r.NotEvaluated, ctl.Name+": "+compliance.WhyNotEvaluable(ctl.Name))
		}
	}
	for i, acc := range accounts {
		for _, is := range backuppolicy.CheckEffective(effective[i]) {
			r.add(finding{File: *org, Account: acc.ID, Path: is.Path, Rule: is.Rule, Severity: is.Severity.String(), Message: is.Message})
		}
		for _, f := range compliance.Evaluate(acc.ID, effective[i], controls) {
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

// readFrameworkIn reads the framework's controls in each of regions
// (AWS::Region), each control once, with the Regions that have it (nil
// when all do).
func readFrameworkIn(path string, o *common, regions []string) ([]compliance.Control, error) {
	var out []compliance.Control
	index := map[string]int{}
	for _, region := range regions {
		params := map[string]string{"AWS::Region": region, "AWS::AccountId": o.account, "AWS::Partition": o.partition, "AWS::StackName": o.stack}
		maps.Copy(params, o.params)
		controls, err := compliance.ReadFramework(path, params)
		if err != nil {
			return nil, err
		}
		for _, ctl := range controls {
			i, ok := index[ctl.Name]
			if !ok {
				i = len(out)
				index[ctl.Name] = i
				out = append(out, ctl)
			}
			out[i].Regions = append(out[i].Regions, region)
		}
	}
	for i := range out {
		if len(out[i].Regions) == len(regions) {
			out[i].Regions = nil
		}
	}
	return out, nil
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
