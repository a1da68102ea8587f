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
	Config  Config
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
	// ResultFailed: a permanent failure (unsupported type, resource gone,
	// access denied); retrying would not help.
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
	Merge  Merge
	DryRun bool
}

// process runs the pipeline for one job. Describe, when set, reads the job
// from AWS Backup first (an event carries a best-effort snapshot of it);
// backfill already has it from ListRestoreJobs. The calls are: at most one
// DescribeRestoreJob, ListTags on the recovery point, one GetResources for
// the source and restored resources, one TagResources: a constant number,
// whatever the number of vaults.
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
		return o.with(ResultFailed, fmt.Sprintf("unsupported resource type: the Resource Groups Tagging API cannot tag %s resources (%s)", orUnknown(job.ResourceType), created.Service))
	}
	if !r.inScope(created, created) {
		return o.with(ResultFailed, fmt.Sprintf("restored resource %s is not in this function's Region %s", job.CreatedResourceARN, r.Region))
	}

	rpTags, rpGone, err := r.recoveryPointTags(ctx, job.RecoveryPointARN)
	if err != nil {
		return o.failure(err)
	}
	arns := []string{job.CreatedResourceARN}
	source, err := ParseARN(job.SourceResourceARN)
	readSource := err == nil && r.inScope(source, created) && job.SourceResourceARN != job.CreatedResourceARN
	if readSource {
		arns = append(arns, job.SourceResourceARN)
	}
	current, err := r.currentTags(ctx, arns)
	if err != nil {
		return o.failure(err)
	}
	var notes []string
	if rpGone {
		notes = append(notes, "recovery point no longer exists; its tags are unknown")
	}
	sourceTags, sourceFound := current[job.SourceResourceARN]
	switch {
	case !readSource && job.SourceResourceARN != "":
		notes = append(notes, "source resource is in another account or Region; recovery point tags only")
	case readSource && !sourceFound:
		notes = append(notes, "source resource no longer exists or has no tags; recovery point tags only")
	}
	o.Merge = MergeTags(r.Config, sourceTags, rpTags, current[job.CreatedResourceARN], job.RecoveryPointARN)
	if len(o.Merge.LeftOut) > 0 {
		notes = append(notes, fmt.Sprintf("%d tags left out at the %d-tag limit", len(o.Merge.LeftOut), MaxTags))
	}
	o.Reason = strings.Join(notes, "; ")
	if len(o.Merge.Write) == 0 {
		return o.with(ResultUnchanged, o.Reason)
	}
	if dryRun {
		return o.with(ResultTagged, o.Reason)
	}
	if err := r.tag(ctx, job.CreatedResourceARN, o.Merge.Write); err != nil {
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

// recoveryPointTags reads every tag of a recovery point. A recovery point
// that no longer exists (expired) has no tags to give; that is not an error.
func (r *Reapplier) recoveryPointTags(ctx context.Context, arn string) (tags map[string]string, gone bool, err error) {
	tags = map[string]string{}
	if arn == "" {
		return tags, true, nil
	}
	pages := backup.NewListTagsPaginator(r.Backup, &backup.ListTagsInput{ResourceArn: aws.String(arn)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if isNotFound(err) {
			return map[string]string{}, true, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("listing tags of recovery point %s: %w", arn, err)
		}
		maps.Copy(tags, page.Tags)
	}
	return tags, false, nil
}

// currentTags reads the tags of up to two resources in one GetResources
// call. Resources without tags, or gone, are absent from the result.
func (r *Reapplier) currentTags(ctx context.Context, arns []string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	pages := rgta.NewGetResourcesPaginator(r.Tagging, &rgta.GetResourcesInput{ResourceARNList: arns})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading tags of %s: %w", strings.Join(arns, ", "), err)
		}
		for _, m := range page.ResourceTagMappingList {
			tags := map[string]string{}
			for _, t := range m.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			out[aws.ToString(m.ResourceARN)] = tags
		}
	}
	return out, nil
}

// Limits of TagResources (API reference).
const (
	maxARNsPerCall = 20
	maxTagsPerCall = 50
)

// tag writes tags with TagResources, in calls within the API's limits.
// A resource reported in FailedResourcesMap fails the write: with a 5xx
// status transiently, otherwise permanently.
func (r *Reapplier) tag(ctx context.Context, arn string, tags map[string]string) error {
	keys := slices.Sorted(maps.Keys(tags))
	for chunk := range slices.Chunk(keys, maxTagsPerCall) {
		batch := make(map[string]string, len(chunk))
		for _, k := range chunk {
			batch[k] = tags[k]
		}
		out, err := r.Tagging.TagResources(ctx, &rgta.TagResourcesInput{ResourceARNList: []string{arn}, Tags: batch})
		if err != nil {
			return fmt.Errorf("tagging %s: %w", arn, err)
		}
		if f, ok := out.FailedResourcesMap[arn]; ok {
			return &TagFailure{ARN: arn, Info: f}
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
	case ResultFailed:
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
	r.logger(ctx).LogAttrs(ctx, level, "restore job processed", attrs...)
}
