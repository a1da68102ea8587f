package tagreapply

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	rgta "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	rgtatypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"
)

// BackupAPI is the part of AWS Backup the re-applier reads.
type BackupAPI interface {
	DescribeRestoreJob(context.Context, *backup.DescribeRestoreJobInput, ...func(*backup.Options)) (*backup.DescribeRestoreJobOutput, error)
	backup.ListTagsAPIClient
	backup.ListRestoreJobsAPIClient
}

// TaggingAPI is the part of the Resource Groups Tagging API it uses.
type TaggingAPI interface {
	rgta.GetResourcesAPIClient
	TagResources(context.Context, *rgta.TagResourcesInput, ...func(*rgta.Options)) (*rgta.TagResourcesOutput, error)
}

// Reapplier re-applies tags to restored resources.
type Reapplier struct {
	Backup  BackupAPI
	Tagging TaggingAPI
	// EC2 reads the volumes of restored instances.
	EC2    ec2.DescribeInstancesAPIClient
	Config Config
	// Region is the function's Region: the Tagging API reads and writes
	// only resources of its own account and Region.
	Region string
	Logger *slog.Logger
	// MetricsOut receives the EMF records (stdout in Lambda).
	MetricsOut io.Writer
	Metrics    Metrics
}

// New wires a Reapplier to AWS with cfg's clients.
func New(cfg aws.Config, c Config, logger *slog.Logger, metricsOut io.Writer) *Reapplier {
	return &Reapplier{
		Backup: backup.NewFromConfig(cfg), Tagging: rgta.NewFromConfig(cfg),
		EC2:    describeInstances(ec2.NewFromConfig(cfg).DescribeInstances),
		Config: c, Region: cfg.Region, Logger: logger, MetricsOut: metricsOut,
	}
}

// Result is what became of one restore job.
type Result string

// Results.
const (
	// ResultTagged: tags were written (or, in a dry run, would be).
	ResultTagged Result = "tagged"
	// ResultUnchanged: the resource already had every tag it should.
	ResultUnchanged Result = "unchanged"
	// ResultIgnored: the job is not COMPLETED.
	ResultIgnored Result = "ignored"
	// ResultUnsupported: the restored resource is of a type the Resource
	// Groups Tagging API cannot tag (Timestream, VMware VMs...). Not a
	// failure: retrying would change nothing, and nothing went wrong.
	ResultUnsupported Result = "unsupported"
	// ResultFailed: a permanent failure (resource gone, access denied);
	// retrying would not help.
	ResultFailed Result = "failed"
	// ResultRetry: a transient failure; the invocation returns an error so
	// Lambda retries and finally dead-letters the event.
	ResultRetry Result = "retry"
)

// Outcome is the structured record of one job.
type Outcome struct {
	RestoreJobID       string
	ResourceType       string
	CreatedResourceARN string
	Result             Result
	// Reason explains failures and notable conditions.
	Reason string
	// Merge is the restored resource's.
	Merge Merge
	// Volumes are the restored volumes of an EC2 instance restore.
	Volumes []VolumeOutcome
	DryRun  bool
}

// TagsApplied counts the tags written on every resource of the job.
func (o Outcome) TagsApplied() int {
	n := len(o.Merge.Write)
	for _, v := range o.Volumes {
		n += len(v.Merge.Write)
	}
	return n
}

// TagsSkipped counts the tags not written on every resource of the job.
func (o Outcome) TagsSkipped() int {
	n := o.Merge.Skipped()
	for _, v := range o.Volumes {
		n += v.Merge.Skipped()
	}
	return n
}

// process runs the pipeline for one job. Describe, when set, reads the job
// from AWS Backup first (an event carries a best-effort snapshot of it);
// backfill already has it from ListRestoreJobs. The calls are: at most one
// DescribeRestoreJob; backup:ListTags only for an arn:aws:backup recovery
// point; for an EC2 instance, one DescribeInstances; one GetResources for
// the source and restored resources and any other recovery point (and an
// instance's volumes; one per 100 ARNs); TagResources per distinct set of
// tags to write: a constant number, whatever the number of vaults.
func (r *Reapplier) process(ctx context.Context, job RestoreJob, describe, dryRun bool) Outcome {
	o := Outcome{RestoreJobID: job.ID, ResourceType: job.ResourceType, CreatedResourceARN: job.CreatedResourceARN, DryRun: dryRun}
	if job.Status != "COMPLETED" {
		return o.with(ResultIgnored, fmt.Sprintf("restore job is %s, not COMPLETED", orUnknown(job.Status)))
	}
	if describe {
		out, err := r.Backup.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String(job.ID)})
		if err != nil {
			return o.failure(fmt.Errorf("describing restore job %s: %w", job.ID, err))
		}
		job = RestoreJob{
			ID: job.ID, Status: string(out.Status), ResourceType: aws.ToString(out.ResourceType),
			RecoveryPointARN: aws.ToString(out.RecoveryPointArn), SourceResourceARN: aws.ToString(out.SourceResourceArn),
			CreatedResourceARN: aws.ToString(out.CreatedResourceArn), Account: aws.ToString(out.AccountId),
		}
		o.ResourceType, o.CreatedResourceARN = job.ResourceType, job.CreatedResourceARN
		if job.Status != "COMPLETED" {
			return o.with(ResultIgnored, fmt.Sprintf("restore job is %s, not COMPLETED", orUnknown(job.Status)))
		}
	}
	created, err := ParseARN(job.CreatedResourceARN)
	if err != nil {
		return o.with(ResultFailed, "the restore job names no restored resource: "+err.Error())
	}
	if !taggable(created) {
		return o.with(ResultUnsupported, fmt.Sprintf("unsupported resource type: the Resource Groups Tagging API cannot tag %s resources (%s)", orUnknown(job.ResourceType), created.Service))
	}
	if !r.inScope(created, created) {
		return o.with(ResultFailed, fmt.Sprintf("restored resource %s is not in this function's Region %s", job.CreatedResourceARN, r.Region))
	}
	account := job.Account
	if account == "" {
		account = created.Account
	}
	var notes []string

	// An in-place restore (an EFS item restore, an S3 restore into the
	// source bucket) leaves the resource that is the source: its current
	// tags are the newest word, and the recovery point's copy must not
	// bring back tags removed since the backup.
	inPlace := job.SourceResourceARN == job.CreatedResourceARN
	source, err := ParseARN(job.SourceResourceARN)
	readSource := err == nil && r.inScope(source, created) && !inPlace
	if !readSource && !inPlace && job.SourceResourceARN != "" {
		notes = append(notes, "source resource is in another account or Region; recovery point tags only")
	}

	reads := newTagReads(account)
	reads.add(job.CreatedResourceARN)
	if readSource {
		reads.add(job.SourceResourceARN)
	}
	rpKind := classifyRecoveryPoint(job.RecoveryPointARN)
	if inPlace {
		rpKind = rpNone
		notes = append(notes, "in-place restore: the resource keeps its current tags, recovery point tags are not re-added")
	}
	rpTags := map[string]string{}
	switch rpKind {
	case rpBackup:
		tags, note, err := r.recoveryPointTags(ctx, job.RecoveryPointARN)
		if err != nil {
			return o.failure(err)
		}
		rpTags = tags
		if note != "" {
			notes = append(notes, note)
		}
	case rpResource:
		rp, _ := ParseARN(qualified(job.RecoveryPointARN, account))
		if r.inScope(rp, created) {
			reads.add(job.RecoveryPointARN)
		} else {
			rpKind = rpUnknown
			notes = append(notes, "recovery point is in another account or Region; its tags cannot be read")
		}
	case rpUnknown:
		notes = append(notes, fmt.Sprintf("recovery point %q is not an ARN; its tags cannot be read", job.RecoveryPointARN))
	case rpNone:
		if !inPlace {
			notes = append(notes, "the restore job names no recovery point; source tags only")
		}
	}

	var inst *instanceRestore
	if isInstance(created) {
		inst, err = r.describeInstances(ctx, created, source, readSource)
		if err != nil {
			return o.failure(err)
		}
		inst.addReads(reads)
	}
	if err := r.currentTags(ctx, reads); err != nil {
		return o.failure(err)
	}
	if rpKind == rpResource {
		if tags, ok := reads.tags(job.RecoveryPointARN); ok {
			rpTags = tags
		} else {
			notes = append(notes, "recovery point has no tags or no longer exists")
		}
	}
	sourceTags, sourceFound := reads.tags(job.SourceResourceARN)
	if readSource && !sourceFound {
		notes = append(notes, "source resource no longer exists or has no tags; recovery point tags only")
	}
	existing, _ := reads.tags(job.CreatedResourceARN)
	if inPlace {
		sourceTags, rpTags = existing, nil
	}
	o.Merge = MergeTags(r.Config, sourceTags, rpTags, existing, job.RecoveryPointARN)
	if inst != nil {
		o.Volumes = inst.merge(r.Config, reads, sourceTags, rpTags, job.RecoveryPointARN)
		if n := inst.unmatched(); n > 0 {
			notes = append(notes, fmt.Sprintf("%d restored volumes have no source volume on their device; they get the instance's tags", n))
		}
	}
	if n := len(o.Merge.LeftOut); n > 0 {
		notes = append(notes, fmt.Sprintf("%d tags left out at the %d-tag limit", n, MaxTags))
	}
	o.Reason = strings.Join(notes, "; ")
	writes := []resourceTags{{job.CreatedResourceARN, o.Merge.Write}}
	for _, v := range o.Volumes {
		writes = append(writes, resourceTags{v.ARN, v.Merge.Write})
	}
	if o.TagsApplied() == 0 {
		return o.with(ResultUnchanged, o.Reason)
	}
	if dryRun {
		return o.with(ResultTagged, o.Reason)
	}
	if err := r.tag(ctx, writes); err != nil {
		return o.failure(err)
	}
	return o.with(ResultTagged, o.Reason)
}

func (o Outcome) with(res Result, reason string) Outcome {
	o.Result, o.Reason = res, reason
	return o
}

// failure classifies an error: transient ones are retried by Lambda,
// permanent ones are recorded.
func (o Outcome) failure(err error) Outcome {
	if Transient(err) {
		return o.with(ResultRetry, err.Error())
	}
	return o.with(ResultFailed, err.Error())
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// inScope reports whether the Tagging API, called in r.Region by the
// account of ref (the restored resource), can see a resource.
func (r *Reapplier) inScope(a, ref ARN) bool {
	return (a.Region == "" || a.Region == r.Region) && (a.Account == "" || ref.Account == "" || a.Account == ref.Account)
}

// recoveryPointTags reads every tag of an arn:aws:backup recovery point.
// One that no longer exists (expired) has no tags to give, and one whose
// tags cannot be read (access denied...) only loses its part of the merge:
// both are notes, not failures. Transient errors are returned, to retry.
func (r *Reapplier) recoveryPointTags(ctx context.Context, arn string) (tags map[string]string, note string, err error) {
	tags = map[string]string{}
	pages := backup.NewListTagsPaginator(r.Backup, &backup.ListTagsInput{ResourceArn: aws.String(arn)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		switch {
		case isNotFound(err):
			return map[string]string{}, "recovery point no longer exists; its tags are unknown", nil
		case Transient(err):
			return nil, "", fmt.Errorf("listing tags of recovery point %s: %w", arn, err)
		case err != nil:
			return map[string]string{}, fmt.Sprintf("tags of recovery point %s cannot be read: %v", arn, err), nil
		}
		maps.Copy(tags, page.Tags)
	}
	return tags, "", nil
}

// tagReads are the resources whose tags one job reads, asked for in the
// account-qualified form the Tagging API names resources with.
type tagReads struct {
	account string
	arns    []string
	found   map[string]map[string]string
}

func newTagReads(account string) *tagReads {
	return &tagReads{account: account, found: map[string]map[string]string{}}
}

func (t *tagReads) add(arn string) {
	if q := qualified(arn, t.account); !slices.Contains(t.arns, q) {
		t.arns = append(t.arns, q)
	}
}

// tags returns a resource's tags, matching the answer in either form;
// ok is false for a resource that is gone or never had tags.
func (t *tagReads) tags(arn string) (map[string]string, bool) {
	if arn == "" {
		return nil, false
	}
	tags, ok := t.found[qualified(arn, t.account)]
	return tags, ok
}

// maxARNsPerRead is the most ARNs GetResources takes in ResourceARNList
// (Resource Groups Tagging API reference, GetResources).
const maxARNsPerRead = 100

// currentTags reads the tags of every resource in t, in one GetResources
// call per 100 ARNs. Resources without tags, or gone, are absent from the
// result. No paginator: a request with ResourceARNList cannot carry
// PaginationToken, ResourcesPerPage or TagsPerPage (InvalidParameterException;
// Resource Groups Tagging API reference, GetResources), so its one answer
// is the whole answer.
func (r *Reapplier) currentTags(ctx context.Context, t *tagReads) error {
	for chunk := range slices.Chunk(t.arns, maxARNsPerRead) {
		out, err := r.Tagging.GetResources(ctx, &rgta.GetResourcesInput{ResourceARNList: chunk})
		if err != nil {
			return fmt.Errorf("reading tags of %s: %w", strings.Join(chunk, ", "), err)
		}
		for _, m := range out.ResourceTagMappingList {
			tags := map[string]string{}
			for _, tg := range m.Tags {
				tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			t.found[qualified(aws.ToString(m.ResourceARN), t.account)] = tags
		}
	}
	return nil
}

// Limits of TagResources (API reference).
const (
	maxARNsPerCall = 20
	maxTagsPerCall = 50
)

// resourceTags are tags to write on one resource.
type resourceTags struct {
	arn  string
	tags map[string]string
}

// tag writes tags with TagResources, in calls within the API's limits:
// resources getting the same tags share calls (an instance and its volumes
// often do). A resource reported in FailedResourcesMap fails the write:
// with a 5xx status transiently, otherwise permanently.
func (r *Reapplier) tag(ctx context.Context, writes []resourceTags) error {
	type group struct {
		tags map[string]string
		arns []string
	}
	var groups []*group
	for _, w := range writes {
		if len(w.tags) == 0 {
			continue
		}
		i := slices.IndexFunc(groups, func(g *group) bool { return maps.Equal(g.tags, w.tags) })
		if i < 0 {
			groups = append(groups, &group{tags: w.tags})
			i = len(groups) - 1
		}
		groups[i].arns = append(groups[i].arns, w.arn)
	}
	for _, g := range groups {
		keys := slices.Sorted(maps.Keys(g.tags))
		for arns := range slices.Chunk(g.arns, maxARNsPerCall) {
			for chunk := range slices.Chunk(keys, maxTagsPerCall) {
				batch := make(map[string]string, len(chunk))
				for _, k := range chunk {
					batch[k] = g.tags[k]
				}
				out, err := r.Tagging.TagResources(ctx, &rgta.TagResourcesInput{ResourceARNList: arns, Tags: batch})
				if err != nil {
					return fmt.Errorf("tagging %s: %w", strings.Join(arns, ", "), err)
				}
				for _, arn := range arns {
					if f, ok := out.FailedResourcesMap[arn]; ok {
						return &TagFailure{ARN: arn, Info: f}
					}
				}
			}
		}
	}
	return nil
}

// TagFailure is a resource TagResources reported in FailedResourcesMap.
type TagFailure struct {
	ARN  string
	Info rgtatypes.FailureInfo
}

func (f *TagFailure) Error() string {
	return fmt.Sprintf("tagging %s failed: %s (%d): %s", f.ARN, f.Info.ErrorCode, f.Info.StatusCode, aws.ToString(f.Info.ErrorMessage))
}

// log writes the structured record of an outcome.
func (r *Reapplier) log(ctx context.Context, o Outcome) {
	level := slog.LevelInfo
	switch o.Result {
	case ResultFailed, ResultUnsupported:
		level = slog.LevelWarn
	case ResultRetry:
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("restoreJobId", o.RestoreJobID),
		slog.String("resourceType", o.ResourceType),
		slog.String("createdResourceArn", o.CreatedResourceARN),
		slog.String("result", string(o.Result)),
		slog.Bool("dryRun", o.DryRun),
		slog.Any("tagsApplied", append([]string{}, slices.Sorted(maps.Keys(o.Merge.Write))...)),
	}
	if o.Reason != "" {
		attrs = append(attrs, slog.String("reason", o.Reason))
	}
	for name, keys := range map[string][]string{"tagsKept": o.Merge.Kept, "tagsExcluded": o.Merge.Excluded, "tagsLeftOut": o.Merge.LeftOut} {
		if len(keys) > 0 {
			attrs = append(attrs, slog.Any(name, keys))
		}
	}
	if len(o.Volumes) > 0 {
		vols := make([]map[string]any, 0, len(o.Volumes))
		for _, v := range o.Volumes {
			vols = append(vols, map[string]any{
				"arn": v.ARN, "deviceName": v.DeviceName, "tagsFrom": v.From,
				"tagsApplied": append([]string{}, slices.Sorted(maps.Keys(v.Merge.Write))...),
			})
		}
		attrs = append(attrs, slog.Any("volumes", vols))
	}
	r.logger(ctx).LogAttrs(ctx, level, "restore job processed", attrs...)
}

// describeInstances holds the EC2 client as its one method value, never as
// a *ec2.Client the program can reach. The X-Ray SDK links in protobuf,
// whose use of reflect.Value.MethodByName makes the Go linker keep every
// exported method of every type that stays reachable: a reachable
// *ec2.Client would link all of EC2's ~2,400 operations (a 42.6 MB
// bootstrap instead of 18.3 MB, linux/arm64 stripped).
type describeInstances func(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)

func (f describeInstances) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return f(ctx, in, opts...)
}
