package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/backup-as-code/orgbackup/pkg/policysource"
)

// Exit codes.
const (
	exitClean    = 0 // no finding (warnings allowed unless --strict)
	exitFindings = 1 // a policy has an error, or a warning with --strict
	exitInput    = 2 // usage error, or input that cannot be read
)

type command struct {
	name, args, summary string
	run                 func(c *cli, args []string) int
}

var commands = []command{
	{"validate", "FILE...", "check policy files and the policies of CloudFormation templates", runValidate},
	{"render", "FILE [--resource LOGICAL_ID]", "print a policy as the policy manager sends it to Organizations", runRender},
	{"effective", "NODE... | --org ORG.yaml --account ID", "print the effective policy of an account from the policies attached above it", runEffective},
	{"check", "--org ORG.yaml --framework FILE", "check every account's effective backup policy against Backup Audit Manager controls", runCheck},
	{"drift", "--template FILE --stack NAME|ARN", "compare a stack's policies with the organization: what changed outside CloudFormation (read-only)", runDrift},
	{"plan", "--template FILE --stack NAME|ARN", "what deploying a template to a stack would make the policy manager write (read-only)", runPlan},
}

// cli carries the output streams and whether stdout takes colour.
type cli struct {
	stdout, stderr io.Writer
	color          bool
	// awsOptions are added to the AWS configuration (tests: the emulator).
	awsOptions []func(*config.LoadOptions) error
}

func run(args []string, stdout, stderr io.Writer) int {
	return (&cli{stdout: stdout, stderr: stderr, color: colorOK(stdout)}).run(args)
}

func (c *cli) run(args []string) int {
	stdout, stderr := c.stdout, c.stderr
	if len(args) == 0 {
		c.usage(stderr)
		return exitInput
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return c.run([]string{args[1], "--help"})
		}
		c.usage(stdout)
		return exitClean
	}
	for _, cmd := range commands {
		if cmd.name == args[0] {
			return cmd.run(c, args[1:])
		}
	}
	fmt.Fprintf(stderr, "backup-policy: unknown command %q\n\n", args[0])
	c.usage(stderr)
	return exitInput
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: backup-policy COMMAND [flags] ARGS")
	fmt.Fprintln(w, "\nCommands:")
	for _, cmd := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintln(w, "\nRun `backup-policy COMMAND --help` for a command's flags and an example.")
	fmt.Fprintln(w, "Exit status: 0 clean (warnings allowed unless --strict), 1 findings, 2 usage or input error.")
}

// colorOK: colour only on a terminal, and never with NO_COLOR set
// (https://no-color.org).
func colorOK(w io.Writer) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// pairs is a repeatable K=V flag.
type pairs map[string]string

func (p pairs) String() string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func (p pairs) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", s)
	}
	p[k] = v
	return nil
}

// common are the flags of every command that reads templates, and the
// output flags.
type common struct {
	params, content            pairs
	region, account, partition string
	stack                      string
	format                     string
	strict                     bool
}

const templateFlagsHelp = `
Templates are evaluated for one deployment: parameter defaults, --parameter
overrides, the pseudo parameters below, Conditions (a policy resource whose
Condition is false is skipped and reported as skipped), Ref, Fn::Sub,
Fn::Join, Fn::If, Fn::Select, Fn::Split, Fn::ToJsonString. Values only a
deployment knows must be given, or the command exits 2 naming each one and
where it is needed:
  --parameter NAME=VALUE                 a parameter, also of an SSM type
                                         (AWS::SSM::Parameter::Value<...>),
                                         or a resource's Ref
  --parameter Resource.Attribute=VALUE   Fn::GetAtt
  --parameter ImportValue:EXPORT=VALUE   Fn::ImportValue of export EXPORT
  --parameter '{{resolve:ssm:/n}}=VALUE' a dynamic reference, as written
  --content-file s3://BUCKET/KEY=PATH    a PolicyContent stored in S3
A list value (targets, Regions) is comma-separated. ServiceToken is not
needed: the document does not depend on it.
`

func newFlagSet(c *cli, usage, example string) (*flag.FlagSet, *common) {
	name, _, _ := strings.Cut(usage, " ")
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	o := &common{params: pairs{}, content: pairs{}}
	// Every command reads templates, so every command takes their flags.
	fs.Var(o.params, "parameter", "template parameter or deploy-time `KEY=VALUE` (repeatable; see below)")
	fs.Var(o.content, "content-file", "local copy of an S3 PolicyContent: `s3://BUCKET/KEY=PATH` (repeatable)")
	fs.StringVar(&o.region, "region", policysource.DefaultRegion, "AWS::Region of the deployment")
	fs.StringVar(&o.account, "account", policysource.DefaultAccount, "AWS::AccountId of the deployment")
	fs.StringVar(&o.partition, "partition", policysource.DefaultPartition, "AWS::Partition of the deployment")
	fs.StringVar(&o.stack, "stack-name", policysource.DefaultStackName, "AWS::StackName of the deployment")
	fs.StringVar(&o.format, "format", "text", "output: text (for people) or json (for machines)")
	fs.BoolVar(&o.strict, "strict", false, "exit 1 on warnings too")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: backup-policy %s\n\n%s\n\nFlags:\n", usage, strings.TrimSpace(example))
		fs.PrintDefaults()
		fmt.Fprint(w, templateFlagsHelp)
		fmt.Fprint(w, exitHelp)
	}
	return fs, o
}

const exitHelp = `
Exit status: 0 clean (warnings are printed and still exit 0 unless
--strict), 1 findings, 2 usage or input error.
`

// parse parses flags and positional arguments in any order (the flag
// package alone stops at the first argument).
func parse(fs *flag.FlagSet, args []string) ([]string, bool, int) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, false, exitClean
			}
			return nil, false, exitInput
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, true, 0
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), true, 0
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func (o *common) options() policysource.Options {
	return policysource.Options{
		Parameters: o.params, Content: o.content,
		Region: o.region, Account: o.account, Partition: o.partition, StackName: o.stack,
	}
}

// checkFormat validates --format.
func (o *common) checkFormat(c *cli) bool {
	if o.format != "text" && o.format != "json" {
		fmt.Fprintf(c.stderr, "backup-policy: --format %q: allowed: text, json\n", o.format)
		return false
	}
	return true
}

// inputError prints an error reading input and returns exitInput.
func (c *cli) inputError(err error) int {
	var uv *policysource.UnknownValuesError
	if errors.As(err, &uv) {
		fmt.Fprintln(c.stderr, "backup-policy: values known only at deploy time are needed:")
		for _, v := range uv.Values {
			fmt.Fprintln(c.stderr, "  "+v.Error())
		}
		return exitInput
	}
	fmt.Fprintln(c.stderr, "backup-policy: "+err.Error())
	return exitInput
}
