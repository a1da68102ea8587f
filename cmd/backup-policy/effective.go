package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
	"github.com/backup-as-code/orgbackup/pkg/policysource"
)

const effectiveExample = `Prints the effective policy of an account (or OU): the policies attached to
the root, each OU on its path and the account, merged with the inheritance
rules of management policies (@@assign, @@append, @@remove, child control
operators, attachment order within a node). Operators a child was not
allowed, which AWS ignores, are listed after the document, and for backup
policies what makes an account's effective policy invalid (exit 1; for an
OU only a note); on stderr with --format json, which prints exactly the
effective document on stdout.

Each NODE is the comma-separated policy files attached to one node, in
attachment order, from the root down; FILE or TEMPLATE#LogicalId. Or
--org names an organization file and --account the account or OU (with
--org, --account is also the AWS::AccountId of templates).

Example:
  backup-policy effective examples/policies/root-daily.json examples/policies/sandbox-short-retention.json
  backup-policy effective --org examples/org.yaml --account 333333333333 --format json`

// policies reads policy references, each file once.
type policies struct {
	opts  policysource.Options
	files map[string]*policysource.File
}

func (p *policies) load(path, logicalID string) (*policysource.Policy, error) {
	f, ok := p.files[path]
	if !ok {
		var err error
		if f, err = policysource.Read(path, p.opts); err != nil {
			return nil, err
		}
		p.files[path] = f
	}
	pol, err := f.Policy(logicalID)
	if err != nil {
		return nil, err
	}
	if pol.Root == nil {
		return nil, fmt.Errorf("%s: the policy does not render: %s", refName(path, logicalID), firstProblem(pol))
	}
	return pol, nil
}

func firstProblem(p *policysource.Policy) string {
	for _, pr := range p.Problems {
		return fmt.Sprintf("%s:%d:%d: %s", pr.File, pr.Line, pr.Column, pr.Message)
	}
	return "unknown reason"
}

func refName(path, id string) string {
	if id == "" {
		return path
	}
	return path + "#" + id
}

// effectiveOf merges the policies of a path of nodes.
func (p *policies) effectiveOf(policyType string, path []*orgNode) (backuppolicy.EffectiveResult, error) {
	var levels []backuppolicy.Level
	for _, n := range path {
		lvl := backuppolicy.Level{Target: n.ID}
		for _, ref := range n.Policies {
			pol, err := p.load(ref.Path, ref.LogicalID)
			if err != nil {
				return backuppolicy.EffectiveResult{}, fmt.Errorf("policy %s of %s: %w", ref.Raw, n.ID, err)
			}
			if pol.PolicyType != policyType {
				continue // another type's policy: not part of this one's inheritance
			}
			lvl.Policies = append(lvl.Policies, backuppolicy.Attached{Name: refName(ref.Path, ref.LogicalID), Doc: pol.Root})
		}
		levels = append(levels, lvl)
	}
	return backuppolicy.Effective(policyType, levels)
}

func runEffective(c *cli, args []string) int {
	fs, o := newFlagSet(c, "effective [flags] NODE...", effectiveExample)
	policyType := fs.String("type", "BACKUP_POLICY", "policy type: BACKUP_POLICY, TAG_POLICY or AISERVICES_OPT_OUT_POLICY")
	org := fs.String("org", "", "organization file (instead of NODE arguments)")
	nodes, ok, code := parse(fs, args)
	if !ok {
		return code
	}
	if !o.checkFormat(c) {
		return exitInput
	}
	var path []*orgNode
	switch {
	case *org != "" && len(nodes) > 0:
		fmt.Fprintln(c.stderr, "backup-policy effective: give either --org with --account or NODE arguments, not both")
		return exitInput
	case *org != "":
		root, err := loadOrg(*org)
		if err != nil {
			return c.inputError(err)
		}
		// --account is the template flag (AWS::AccountId) and, with
		// --org, the account whose policy is computed.
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "account" })
		account := &o.account
		if !set {
			fmt.Fprintln(c.stderr, "backup-policy effective: --org needs --account ID")
			return exitInput
		}
		if path = root.find(*account); path == nil {
			fmt.Fprintf(c.stderr, "backup-policy effective: %s is not an account or OU of %s\n", *account, *org)
			return exitInput
		}
	case len(nodes) == 0:
		fmt.Fprintln(c.stderr, "backup-policy effective: name the policies of each node (NODE...), or --org and --account")
		fs.Usage()
		return exitInput
	default:
		for i, arg := range nodes {
			n := &orgNode{ID: fmt.Sprintf("node %d", i+1)}
			for _, f := range strings.Split(arg, ",") {
				file, id, _ := strings.Cut(f, "#")
				n.Policies = append(n.Policies, policyRef{Path: file, LogicalID: id, Raw: f})
			}
			path = append(path, n)
		}
	}
	// JSON policy files do not name their type: they are of the type
	// asked for.
	opts := o.options()
	opts.JSONPolicyType = *policyType
	p := &policies{opts: opts, files: map[string]*policysource.File{}}
	res, err := p.effectiveOf(*policyType, path)
	if err != nil {
		return c.inputError(err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, res.Policy.Minify(), "", "  "); err != nil {
		return c.inputError(err)
	}
	fmt.Fprintln(c.stdout, buf.String())
	notes := c.stdout
	if o.format == "json" {
		notes = c.stderr
	}
	for _, ig := range res.Ignored {
		op := ig.Operator
		if op == "" {
			op = "key"
		}
		fmt.Fprintf(notes, "ignored: %s in %s (attached to %s) at %s: %s\n", op, ig.Policy, ig.Target, ig.Path, ig.Reason)
	}
	// What AWS would report as an invalid effective policy in this
	// account: incomplete plans, and the lifecycle rules validate only
	// warns about on single documents.
	// Only an account has an effective policy AWS checks
	// (DescribeEffectivePolicy: an OU or root "as the target is not
	// supported"); for an OU, the policies below it may still complete
	// the plans, so its gaps are notes, not findings.
	if *policyType != "BACKUP_POLICY" {
		return exitClean
	}
	forAccount := *org == "" || accountID.MatchString(path[len(path)-1].ID)
	issues := backuppolicy.CheckEffective(res.Policy)
	for _, is := range issues {
		if forAccount {
			fmt.Fprintf(notes, "invalid: %s: %s (%s)\n", is.Path, is.Message, is.Rule)
		} else {
			msg, _, _ := strings.Cut(is.Message, "; AWS reports")
			fmt.Fprintf(notes, "note: an account with no policies of its own would inherit this as invalid: %s: %s (%s)\n", is.Path, msg, is.Rule)
		}
	}
	if len(issues) > 0 && forAccount {
		return exitFindings
	}
	return exitClean
}
