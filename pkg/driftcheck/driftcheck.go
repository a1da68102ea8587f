// Package driftcheck is the scheduled drift check: for each stack it is
// given, it reads the deployed template and parameter values from
// CloudFormation, compares the stack's Custom::BackupOrgPolicy resources
// with the organization (orgpolicy's Drift, read-only, through the reader
// role), finds orphaned policies, writes one CloudWatch EMF record of the
// counts per drift kind and, when anything drifted or a check failed,
// publishes a summary to an SNS topic.
package driftcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
	"github.com/backup-as-code/orgbackup/pkg/lambdalog"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
	"github.com/backup-as-code/orgbackup/pkg/policysource"
)

// CloudFormation is what the check reads of CloudFormation.
type CloudFormation interface {
	orgpolicy.StackDescriber
	GetTemplate(ctx context.Context, in *cloudformation.GetTemplateInput, optFns ...func(*cloudformation.Options)) (*cloudformation.GetTemplateOutput, error)
}

// Publisher sends the summary.
type Publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Checker runs the check.
type Checker struct {
	CloudFormation CloudFormation
	// Account and Region are the CloudFormation client's: stacks named in
	// ownership tags elsewhere cannot be looked up.
	Account, Region string
	Resource        *orgpolicy.Resource
	Read            orgpolicy.ReadOptions
	SNS             Publisher
	TopicARN        string
	// Metrics receives the EMF record; Namespace, FunctionName and
	// MetricLevel shape it (MetricLevel: lambdalog.MetricLevel).
	Metrics                              io.Writer
	Namespace, FunctionName, MetricLevel string
	Logger                               *slog.Logger
}

// Namespace is the CloudWatch namespace of the check's EMF metrics;
// template.yaml's PolicyDriftAlarm reads MetricFindings there.
const Namespace = "BackupAsCode/PolicyDrift"

// Metric names of the EMF record: one per drift kind, orphans, and checks
// that could not run.
const (
	MetricInSync       = "InSync"
	MetricContentDrift = "ContentDrift"
	MetricTargetsDrift = "TargetsDrift"
	MetricTagsDrift    = "TagsDrift"
	MetricMissing      = "Missing"
	MetricOrphaned     = "Orphaned"
	MetricCheckErrors  = "CheckErrors"
	// MetricFindings is the sum of every resource not in sync, orphans
	// and errors: what the alarm watches.
	MetricFindings = "Findings"
)

var metricOf = map[orgpolicy.DriftKind]string{
	orgpolicy.DriftInSync: MetricInSync, orgpolicy.DriftContent: MetricContentDrift,
	orgpolicy.DriftTargets: MetricTargetsDrift, orgpolicy.DriftTags: MetricTagsDrift, orgpolicy.DriftMissing: MetricMissing,
}

var metricNames = []string{MetricInSync, MetricContentDrift, MetricTargetsDrift, MetricTagsDrift, MetricMissing, MetricOrphaned, MetricCheckErrors, MetricFindings}

// StackResult is the drift of one stack.
type StackResult struct {
	Stack   string
	StackID string
	Report  orgpolicy.DriftReport
	// Err is why the stack could not be checked.
	Err error
}

// Orphan is a policy of this project whose resource is gone.
type Orphan struct {
	orgpolicy.OwnedPolicy
	Reason string
}

// Summary is what one run found.
type Summary struct {
	Stacks    []StackResult
	Orphaned  []Orphan
	Unchecked []orgpolicy.OwnedPolicy
	// OrphanErr is why the orphan check of other stacks failed.
	OrphanErr error
	Counts    map[string]int
}

// Run checks the stacks, writes the metrics and, when anything needs a
// look, publishes the summary. It fails only when the summary cannot be
// delivered: a stack that cannot be checked is a finding, counted and
// reported, not a reason to skip the others.
func (c *Checker) Run(ctx context.Context, stacks []string) (Summary, error) {
	s := Summary{Counts: map[string]int{}}
	for _, name := range metricNames {
		s.Counts[name] = 0
	}
	checked := map[string]bool{}
	var others []orgpolicy.OwnedPolicy
	for _, name := range stacks {
		r := c.stack(ctx, name)
		s.Stacks = append(s.Stacks, r)
		if r.Err != nil {
			s.Counts[MetricCheckErrors]++
			c.logger().Error("stack not checked", slog.String("stack", name), slog.String("error", r.Err.Error()))
			continue
		}
		checked[r.StackID] = true
		for _, res := range r.Report.Resources {
			for _, k := range res.Kinds {
				s.Counts[metricOf[k]]++
			}
		}
		for _, p := range r.Report.Undeclared {
			s.Orphaned = append(s.Orphaned, Orphan{p, "stack " + r.Stack + " no longer declares " + p.LogicalID})
		}
		others = append(others, r.Report.OtherStacks...)
	}
	// Each stack's listing shows the others' policies too: ask only about
	// stacks not checked here, each policy once.
	var ask []orgpolicy.OwnedPolicy
	for _, p := range others {
		if !checked[p.StackID] && !slices.ContainsFunc(ask, func(q orgpolicy.OwnedPolicy) bool { return q.PolicyID == p.PolicyID }) {
			ask = append(ask, p)
		}
	}
	oc, err := orgpolicy.Orphans(ctx, c.CloudFormation, c.Account, c.Region, ask)
	if err != nil {
		s.OrphanErr = err
		s.Counts[MetricCheckErrors]++
	}
	for _, p := range oc.Orphaned {
		s.Orphaned = append(s.Orphaned, Orphan{p, "its stack no longer exists"})
	}
	s.Unchecked = oc.Unchecked
	s.Counts[MetricOrphaned] = len(s.Orphaned)
	for _, r := range s.Stacks {
		for _, res := range r.Report.Resources {
			if !slices.Equal(res.Kinds, []orgpolicy.DriftKind{orgpolicy.DriftInSync}) {
				s.Counts[MetricFindings]++
			}
		}
	}
	s.Counts[MetricFindings] += len(s.Orphaned) + s.Counts[MetricCheckErrors]
	if err := c.writeMetrics(s, time.Now()); err != nil {
		return s, fmt.Errorf("writing metrics: %w", err)
	}
	c.logger().Info("drift check done", slog.Any("counts", s.Counts))
	if s.Counts[MetricFindings] == 0 {
		return s, nil
	}
	if _, err := c.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(c.TopicARN), Subject: aws.String(subject(s)), Message: aws.String(s.Text())}); err != nil {
		return s, fmt.Errorf("publishing the drift summary to %s: %w", c.TopicARN, awsclient.Short(err))
	}
	return s, nil
}

func (c *Checker) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// stack checks one stack: its unique ID and parameter values
// (DescribeStacks), its template as deployed (GetTemplate), then drift.
func (c *Checker) stack(ctx context.Context, name string) StackResult {
	r := StackResult{Stack: name}
	out, err := c.CloudFormation.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		r.Err = fmt.Errorf("describing stack %s: %w", name, awsclient.Short(err))
		return r
	}
	if len(out.Stacks) == 0 || out.Stacks[0].StackStatus == cftypes.StackStatusDeleteComplete {
		r.Err = fmt.Errorf("stack %s does not exist", name)
		return r
	}
	st := out.Stacks[0]
	r.StackID = aws.ToString(st.StackId)
	a, err := arn.Parse(r.StackID)
	if err != nil {
		r.Err = fmt.Errorf("stack ID %s: %w", r.StackID, err)
		return r
	}
	params := map[string]string{}
	for _, p := range st.Parameters {
		// An SSM-typed parameter's value is the parameter's name; the
		// template sees its ResolvedValue.
		v := aws.ToString(p.ResolvedValue)
		if v == "" {
			v = aws.ToString(p.ParameterValue)
		}
		params[aws.ToString(p.ParameterKey)] = v
	}
	tpl, err := c.CloudFormation.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String(r.StackID), TemplateStage: cftypes.TemplateStageOriginal})
	if err != nil {
		r.Err = fmt.Errorf("reading the template of stack %s: %w", name, awsclient.Short(err))
		return r
	}
	f, err := policysource.ReadTemplate("template of stack "+name, []byte(aws.ToString(tpl.TemplateBody)), policysource.Options{
		Parameters: params, ReadS3Later: true,
		Region: a.Region, Account: a.AccountID, Partition: a.Partition, StackName: aws.ToString(st.StackName), StackID: r.StackID,
	})
	if err != nil {
		r.Err = err
		return r
	}
	if other := f.OtherTransforms(); len(other) > 0 {
		r.Err = fmt.Errorf("stack %s: Transform %s is not expanded by the check, so its resources cannot be compared as deployed", name, strings.Join(other, ", "))
		return r
	}
	// DescribeStacks masks NoEcho values (AWS CloudFormation User Guide,
	// Parameters: NoEcho): rendered with the mask, a policy would drift.
	var masked []string
	for _, name := range f.NoEcho {
		if _, ok := params[name]; ok {
			masked = append(masked, name)
		}
	}
	if len(masked) > 0 {
		r.Err = fmt.Errorf("stack %s: NoEcho parameters %s: CloudFormation shows their values masked, so the check cannot render the template; check it with backup-policy drift --parameter NAME=VALUE", name, strings.Join(masked, ", "))
		return r
	}
	var declared []orgpolicy.Declared
	for _, p := range f.Policies {
		if p.ResourceType == policysource.TypeBackupOrgPolicy {
			declared = append(declared, orgpolicy.Declared{LogicalID: p.Resource, Properties: p.Properties})
		}
	}
	if r.Report, err = c.Resource.Drift(ctx, r.StackID, declared, c.Read); err != nil {
		r.Err = fmt.Errorf("stack %s: %w", name, err)
	}
	return r
}

// subject is the SNS subject: ASCII, one line, under 100 characters.
func subject(s Summary) string {
	return fmt.Sprintf("Backup policy drift: %d findings in %d stacks", s.Counts[MetricFindings], len(s.Stacks))
}

// Text is the summary as the topic's subscribers read it.
func (s Summary) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Backup policy drift check: %d findings.\n", s.Counts[MetricFindings])
	for _, r := range s.Stacks {
		fmt.Fprintf(&b, "\nStack %s", r.Stack)
		if r.StackID != "" {
			fmt.Fprintf(&b, " (%s)", r.StackID)
		}
		b.WriteString(":\n")
		if r.Err != nil {
			fmt.Fprintf(&b, "  not checked: %v\n", r.Err)
			continue
		}
		for _, res := range r.Report.Resources {
			kinds := make([]string, len(res.Kinds))
			for i, k := range res.Kinds {
				kinds[i] = string(k)
			}
			id := res.PolicyID
			if id == "" {
				id = "(no policy)"
			}
			fmt.Fprintf(&b, "  %s %s: %s\n", res.LogicalID, id, strings.Join(kinds, ", "))
			if len(res.AttachedOutOfBand) > 0 {
				fmt.Fprintf(&b, "    attached out of band to %s\n", strings.Join(res.AttachedOutOfBand, ", "))
			}
			if len(res.DetachedOutOfBand) > 0 {
				fmt.Fprintf(&b, "    detached out of band from %s\n", strings.Join(res.DetachedOutOfBand, ", "))
			}
			if len(res.TagsAdded) > 0 || len(res.TagsChanged) > 0 {
				fmt.Fprintf(&b, "    tags added %v, changed or removed %v\n", res.TagsAdded, slices.Sorted(maps.Keys(res.TagsChanged)))
			}
			if res.ContentDiff != "" {
				for _, l := range strings.SplitAfter(res.ContentDiff, "\n") {
					if l != "" {
						b.WriteString("    " + l)
					}
				}
			}
		}
	}
	for _, o := range s.Orphaned {
		fmt.Fprintf(&b, "\norphaned: %s %q (stack %s, logical ID %s): %s", o.PolicyID, o.Name, o.StackID, o.LogicalID, o.Reason)
	}
	if s.OrphanErr != nil {
		fmt.Fprintf(&b, "\norphan check failed: %v", s.OrphanErr)
	}
	for _, u := range s.Unchecked {
		fmt.Fprintf(&b, "\nunchecked: %s %q: stack %s is in another account or Region", u.PolicyID, u.Name, u.StackID)
	}
	b.WriteString("\n\nRun `backup-policy drift --template FILE --stack NAME` for the details, and `backup-policy plan` before the deploy that repairs it.\n")
	text := b.String()
	// SNS takes at most 256 KB; a summary that long is cut, and says so.
	const limit = 262144 - 64
	if len(text) > limit {
		text = strings.ToValidUTF8(text[:limit], "") + "\n[summary cut at 256 KB]\n"
	}
	return text
}

// writeMetrics writes one EMF record with every count, dimension
// FunctionName, as the policy manager's records are.
func (c *Checker) writeMetrics(s Summary, now time.Time) error {
	if c.Metrics == nil {
		return errors.New("no metrics writer")
	}
	defs := make([]map[string]string, len(metricNames))
	for i, n := range metricNames {
		defs[i] = map[string]string{"Name": n, "Unit": "Count"}
	}
	level := c.MetricLevel
	if level == "" {
		level = "INFO"
	}
	rec := map[string]any{
		"_aws": map[string]any{
			"Timestamp": now.UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace": c.Namespace, "Dimensions": [][]string{{"FunctionName"}}, "Metrics": defs,
			}},
		},
		lambdalog.TimestampKey: lambdalog.Timestamp(now),
		"level":                level,
		"FunctionName":         c.FunctionName,
	}
	for _, n := range metricNames {
		rec[n] = s.Counts[n]
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = c.Metrics.Write(append(line, '\n'))
	return err
}
