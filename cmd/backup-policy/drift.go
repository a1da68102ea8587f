package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
)

const driftExample = `Compares the Custom::BackupOrgPolicy resources a template declares for a
deployed stack with the policies the organization holds, matched by the
ownership tags the policy manager sets (stack ID and logical ID). Per
resource: in-sync, content-drift (a unified diff), targets-drift (attached
or detached out of band), tags-drift, missing (deleted out of band). Per
organization: orphaned policies, those whose tags name this stack and a
logical ID the template no longer declares, or a stack that no longer
exists. Read-only: no write call is ever made.
Exit status: 0 in sync, 1 drift or orphans, 2 error.

Example:
  backup-policy drift --template cfn/org-policies.yaml --stack backup-org-policies`

const planExample = `Says what deploying the template to the stack would make the policy
manager write, per Custom::BackupOrgPolicy resource: create; update (each
UpdatePolicy with its content diff, TagResource, UntagResource,
AttachPolicy, DetachPolicy, in the order the function makes them);
replace and why; delete; no-change; not-sent (the properties are
unchanged, so CloudFormation sends no request and drift stays); retain
(removed, with DeletionPolicy Retain: no Delete is sent); refused (a
changed ServiceToken, which CloudFormation does not update). The same
planner the function executes computes it. A stack that does not exist
yet: every resource is a create. Read-only.
Exit status: 0 nothing to write, 1 changes, 2 error or a deploy
CloudFormation would refuse.

Example:
  backup-policy plan --template cfn/org-policies.yaml --stack backup-org-policies \
    --parameter Retention=35`

func runDrift(c *cli, args []string) int {
	return c.stackCommand(args, "drift --template FILE --stack NAME|ARN [flags]", driftExample, false)
}

func runPlan(c *cli, args []string) int {
	return c.stackCommand(args, "plan --template FILE --stack NAME|ARN [flags]", planExample, true)
}

func (c *cli) stackCommand(args []string, usage, example string, plan bool) int {
	fs, o := newFlagSet(c, usage, example+"\n"+stackFlagsHelp)
	s := addStackFlags(fs)
	rest, ok, code := parse(fs, args)
	if !ok {
		return code
	}
	if !o.checkFormat(c) {
		return exitInput
	}
	name, _, _ := strings.Cut(usage, " ")
	if s.template == "" || s.stack == "" || len(rest) > 0 {
		fmt.Fprintf(c.stderr, "backup-policy %s: needs --template and --stack, and no other arguments\n", name)
		fs.Usage()
		return exitInput
	}
	ctx := context.Background()
	t, err := c.openStack(ctx, s, o, fs, plan)
	if err != nil {
		return c.inputError(err)
	}
	c.noteLeftOut(t)
	if plan {
		return c.plan(ctx, t, o.format)
	}
	return c.drift(ctx, t, o.format)
}

// orphan is a policy of this project whose resource is gone.
type orphan struct {
	orgpolicy.OwnedPolicy
	Reason string `json:"reason"`
}

// driftOutput is drift's --format json document.
type driftOutput struct {
	StackID   string                    `json:"stack_id"`
	Resources []orgpolicy.ResourceDrift `json:"resources"`
	Orphaned  []orphan                  `json:"orphaned"`
	// Unchecked are policies of stacks in other accounts or Regions,
	// which this account's CloudFormation cannot see.
	Unchecked []orgpolicy.OwnedPolicy `json:"unchecked"`
	Drifted   int                     `json:"drifted"`
}

func (c *cli) drift(ctx context.Context, t *stackTarget, format string) int {
	rep, err := t.resource.Drift(ctx, t.id, t.declared, t.ro)
	if err != nil {
		return c.inputError(err)
	}
	check, err := orgpolicy.Orphans(ctx, t.cf, t.account, t.region, rep.OtherStacks)
	if err != nil {
		return c.inputError(err)
	}
	out := driftOutput{StackID: t.id, Resources: rep.Resources, Orphaned: []orphan{}, Unchecked: check.Unchecked}
	if out.Resources == nil {
		out.Resources = []orgpolicy.ResourceDrift{}
	}
	if out.Unchecked == nil {
		out.Unchecked = []orgpolicy.OwnedPolicy{}
	}
	for _, p := range rep.Undeclared {
		out.Orphaned = append(out.Orphaned, orphan{p, "the template no longer declares " + p.LogicalID})
	}
	for _, p := range check.Orphaned {
		out.Orphaned = append(out.Orphaned, orphan{p, "its stack no longer exists"})
	}
	for _, r := range rep.Resources {
		if !slices.Equal(r.Kinds, []orgpolicy.DriftKind{orgpolicy.DriftInSync}) {
			out.Drifted++
		}
	}
	if format == "json" {
		if err := writeJSON(c.stdout, out); err != nil {
			return c.inputError(err)
		}
	} else {
		c.writeDrift(c.stdout, t, out)
	}
	if out.Drifted > 0 || len(out.Orphaned) > 0 {
		return exitFindings
	}
	return exitClean
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func kinds(ks []orgpolicy.DriftKind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func (c *cli) writeDrift(w io.Writer, t *stackTarget, out driftOutput) {
	fmt.Fprintf(w, "stack %s (%s)\n", t.name, t.id)
	if len(out.Resources) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RESOURCE\tPOLICY\tDRIFT")
		for _, r := range out.Resources {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.LogicalID, dash(r.PolicyID), kinds(r.Kinds))
		}
		tw.Flush()
	}
	for _, r := range out.Resources {
		if r.NameChange != nil {
			fmt.Fprintf(w, "\n%s: name %q in the organization, %q in the template\n", r.LogicalID, r.NameChange[0], r.NameChange[1])
		}
		if r.DescriptionChange != nil {
			fmt.Fprintf(w, "\n%s: description %q in the organization, %q in the template\n", r.LogicalID, r.DescriptionChange[0], r.DescriptionChange[1])
		}
		if r.ContentDiff != "" {
			fmt.Fprintf(w, "\n%s: content-drift\n%s", r.LogicalID, indent(r.ContentDiff, "  "))
		}
		if len(r.AttachedOutOfBand) > 0 {
			fmt.Fprintf(w, "\n%s: attached out of band to %s\n", r.LogicalID, strings.Join(r.AttachedOutOfBand, ", "))
		}
		if len(r.DetachedOutOfBand) > 0 {
			fmt.Fprintf(w, "\n%s: detached out of band from %s\n", r.LogicalID, strings.Join(r.DetachedOutOfBand, ", "))
		}
		for _, k := range slices.Sorted(maps.Keys(r.TagsChanged)) {
			fmt.Fprintf(w, "\n%s: tag %s changed or removed out of band (template: %q)\n", r.LogicalID, k, r.TagsChanged[k])
		}
		for _, k := range r.TagsAdded {
			fmt.Fprintf(w, "\n%s: tag %s added out of band\n", r.LogicalID, k)
		}
		if slices.Contains(r.Kinds, orgpolicy.DriftMissing) {
			fmt.Fprintf(w, "\n%s: missing: no policy carries its ownership tags (deleted out of band); the next Update of the resource creates it again\n", r.LogicalID)
		}
	}
	if len(out.Orphaned) > 0 {
		fmt.Fprintln(w)
		for _, o := range out.Orphaned {
			fmt.Fprintf(w, "orphaned: %s %q (%s, stack %s, logical ID %s): %s\n", o.PolicyID, o.Name, o.Type, o.StackID, o.LogicalID, o.Reason)
		}
	}
	for _, u := range out.Unchecked {
		fmt.Fprintf(w, "unchecked: %s %q: stack %s is in another account or Region\n", u.PolicyID, u.Name, u.StackID)
	}
	fmt.Fprintf(w, "\n%s: %d in sync, %d drifted; %s\n", plural(len(out.Resources), "resource"), len(out.Resources)-out.Drifted, out.Drifted, orphanCount(len(out.Orphaned)))
}

func orphanCount(n int) string {
	if n == 1 {
		return "1 orphaned policy"
	}
	return fmt.Sprintf("%d orphaned policies", n)
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}

// planOutput is plan's --format json document.
type planOutput struct {
	// StackID is empty for a stack that does not exist yet.
	StackID   string                   `json:"stack_id"`
	Resources []orgpolicy.ResourcePlan `json:"resources"`
	Writes    int                      `json:"writes"`
}

func (c *cli) plan(ctx context.Context, t *stackTarget, format string) int {
	var deployed []orgpolicy.Declared
	if t.id != "" {
		var err error
		if deployed, err = t.deployed(ctx); err != nil {
			return c.inputError(err)
		}
	}
	for _, k := range t.resolved {
		if _, given := t.flagParams[k]; !given {
			fmt.Fprintf(c.stderr, "warning: SSM parameter %s is planned with the value it resolved to at the last deploy; CloudFormation reads the current value when it deploys (give --parameter %s=VALUE if it changed)\n", k, k)
		}
	}
	plan, err := t.resource.Plan(ctx, t.id, t.declared, deployed, t.ro)
	if err != nil {
		return c.inputError(err)
	}
	out := planOutput{StackID: t.id, Resources: plan.Resources}
	if out.Resources == nil {
		out.Resources = []orgpolicy.ResourcePlan{}
	}
	for i := range out.Resources {
		if out.Resources[i].Steps == nil {
			out.Resources[i].Steps = []orgpolicy.Step{}
		}
		out.Writes += len(out.Resources[i].Steps)
	}
	if format == "json" {
		if err := writeJSON(c.stdout, out); err != nil {
			return c.inputError(err)
		}
	} else {
		c.writePlan(c.stdout, t, out)
	}
	if plan.Refused() {
		fmt.Fprintln(c.stderr, "backup-policy plan: CloudFormation would refuse this deploy (see the refused resources)")
		return exitInput
	}
	if plan.Changes() {
		return exitFindings
	}
	return exitClean
}

func (c *cli) writePlan(w io.Writer, t *stackTarget, out planOutput) {
	if t.id == "" {
		fmt.Fprintf(w, "stack %s does not exist yet: every resource is created\n", t.name)
	} else {
		fmt.Fprintf(w, "stack %s (%s)\n", t.name, t.id)
	}
	counts := map[orgpolicy.Action]int{}
	for _, r := range out.Resources {
		counts[r.Action]++
		head := r.LogicalID
		if r.PolicyID != "" {
			head += " (" + r.PolicyID + ")"
		}
		fmt.Fprintf(w, "\n%s: %s", head, r.Action)
		if r.Reason != "" {
			fmt.Fprintf(w, ": %s", r.Reason)
		}
		fmt.Fprintln(w)
		for _, s := range r.Steps {
			fmt.Fprintln(w, "  "+stepLine(s))
			switch {
			case s.Operation == orgpolicy.OpCreatePolicy:
				fmt.Fprint(w, indent(s.ContentDiff, "      "))
			case s.ContentDiff != "":
				fmt.Fprint(w, indent(s.ContentDiff, "      "))
			}
		}
	}
	var parts []string
	for _, a := range []orgpolicy.Action{orgpolicy.ActionCreate, orgpolicy.ActionUpdate, orgpolicy.ActionReplace, orgpolicy.ActionDelete, orgpolicy.ActionRetain, orgpolicy.ActionRefused, orgpolicy.ActionNoChange, orgpolicy.ActionNotSent} {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[a], a))
		}
	}
	summary := strings.Join(parts, ", ")
	if summary == "" {
		summary = "none"
	}
	fmt.Fprintf(w, "\n%s (%s); %s\n", plural(len(out.Resources), "resource"), summary, plural(out.Writes, "write"))
}

// stepLine is one write as people read it.
func stepLine(s orgpolicy.Step) string {
	id := s.PolicyID
	if id == "" {
		id = "(new policy)"
	}
	var b strings.Builder
	b.WriteString(s.Operation + " " + id)
	switch s.Operation {
	case orgpolicy.OpAttachPolicy, orgpolicy.OpDetachPolicy:
		b.WriteString(" " + s.Target)
	case orgpolicy.OpCreatePolicy:
		fmt.Fprintf(&b, " %q", s.Name[1])
	}
	if s.Operation == orgpolicy.OpUpdatePolicy {
		if s.Name != nil {
			fmt.Fprintf(&b, ": name %q -> %q", s.Name[0], s.Name[1])
		}
		if s.Description != nil {
			fmt.Fprintf(&b, ": description %q -> %q", s.Description[0], s.Description[1])
		}
		if s.ContentDiff != "" {
			b.WriteString(": content")
		}
	}
	if len(s.Tags) > 0 {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(s.Tags)) {
			kv = append(kv, k+"="+s.Tags[k])
		}
		b.WriteString(" tags " + strings.Join(kv, ", "))
	}
	if len(s.TagKeys) > 0 {
		b.WriteString(" " + strings.Join(s.TagKeys, ", "))
	}
	if s.Cleanup {
		b.WriteString(" (after the stack update, in CloudFormation's cleanup)")
	}
	return b.String()
}
