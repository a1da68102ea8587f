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
	awsarn "github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	rgta "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	rgtatypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
)

// backupAPI is the part of AWS Backup the re-applier reads.
type backupAPI interface {
	DescribeRestoreJob(context.Context, *backup.DescribeRestoreJobInput, ...func(*backup.Options)) (*backup.DescribeRestoreJobOutput, error)
	backup.ListTagsAPIClient
	backup.ListRestoreJobsAPIClient
}

// taggingAPI is the part of the Resource Groups Tagging API it uses.
type taggingAPI interface {
	rgta.GetResourcesAPIClient
	TagResources(context.Context, *rgta.TagResourcesInput, ...func(*rgta.Options)) (*rgta.TagResourcesOutput, error)
}

// Reapplier re-applies tags to restored resources.
type Reapplier struct {
	backupClient backupAPI
	tagging      taggingAPI
	// instances reads the volumes of restored instances.
	instances ec2.DescribeInstancesAPIClient
	config    Config
	// region is the function's Region: the Tagging API reads and writes
	// only resources of its own account and Region.
	region     string
	baseLogger *slog.Logger
	// metricsOut receives the EMF records (stdout in Lambda).
	metricsOut io.Writer
	metrics    metricCounts
}

// New wires a Reapplier to AWS with cfg's clients.
func New(cfg aws.Config, c Config, logger *slog.Logger, metricsOut io.Writer) *Reapplier {
	return &Reapplier{
		backupClient: backup.NewFromConfig(cfg), tagging: rgta.NewFromConfig(cfg),
		instances: instanceDescriber(ec2.NewFromConfig(cfg).DescribeInstances),
		config:    c, region: cfg.Region, baseLogger: logger, metricsOut: metricsOut,
	}
}

// jobResult is what became of one restore job.
type jobResult string

// Results.
const (
	// resultTagged: tags were written (or, in a dry run, would be).
	resultTagged jobResult = "tagged"
	// resultUnchanged: the resource already had every tag it should.
	resultUnchanged jobResult = "unchanged"
	// resultIgnored: the job is not COMPLETED.
	resultIgnored jobResult = "ignored"
	// resultUnsupported: the restored resource is of a type the Resource
	// Groups Tagging API cannot tag (Timestream, VMware VMs...). Not a
	// failure: retrying would change nothing, and nothing went wrong.
	resultUnsupported jobResult = "unsupported"
	// resultFailed: a permanent failure (resource gone, access denied);
	// retrying would not help.
	resultFailed jobResult = "failed"
	// resultRetry: a transient failure; the invocation returns an error so
	// Lambda retries and finally dead-letters the event.
	resultRetry jobResult = "retry"
)

// jobOutcome is the structured record of one job.
type jobOutcome struct {
	RestoreJobID       string
	ResourceType       string
	CreatedResourceARN string
	Result             jobResult
	// Reason explains failures and notable conditions.
	Reason string
	// tagMerge is the restored resource's.
	Merge tagMerge
	// Volumes are the restored volumes of an EC2 instance restore.
	Volumes []volumeOutcome
	DryRun  bool
}

// tagsApplied counts the tags written on every resource of the job.
func (o jobOutcome) tagsApplied() int {
	n := len(o.Merge.Write)
	for _, v := range o.Volumes {
		n += len(v.Merge.Write)
	}
	return n
}

// tagsSkipped counts the tags not written on every resource of the job.
func (o jobOutcome) tagsSkipped() int {
	n := o.Merge.skipped()
	for _, v := range o.Volumes {
		n += v.Merge.skipped()
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
func (r *Reapplier) process(ctx context.Context, job RestoreJob, describe, dryRun bool) jobOutcome {
	o := jobOutcome{RestoreJobID: job.ID, ResourceType: job.ResourceType, CreatedResourceARN: job.CreatedResourceARN, DryRun: dryRun}
	if job.Status != "COMPLETED" {
		return o.with(resultIgnored, fmt.Sprintf("restore job is %s, not COMPLETED", orUnknown(job.Status)))
	}
	if describe {
		var err error
		if job, err = r.describeRestoreJob(ctx, job.ID); err != nil {
			return o.failure(err)
		}
		o.ResourceType, o.CreatedResourceARN = job.ResourceType, job.CreatedResourceARN
		if job.Status != "COMPLETED" {
			return o.with(resultIgnored, fmt.Sprintf("restore job is %s, not COMPLETED", orUnknown(job.Status)))
		}
	}
	if job.IsParent {
		// DescribeRestoreJob, IsParent: "This is a boolean value indicating
		// whether the restore job is a parent (composite) restore job."
		return o.with(resultUnsupported, fmt.Sprintf("composite restore: the parent job of a %s restore restores nothing itself; its child jobs are tagged one by one", orUnknown(job.ResourceType)))
	}
	created, err := parseARN(job.CreatedResourceARN)
	if err != nil {
		return o.with(resultFailed, "the restore job names no restored resource: "+err.Error())
	}
	if !taggable(created) {
		return o.with(resultUnsupported, fmt.Sprintf("unsupported resource type: the Resource Groups Tagging API cannot tag %s resources (%s)", orUnknown(job.ResourceType), created.Service))
	}
	if !r.inScope(created, created) {
		return o.with(resultFailed, fmt.Sprintf("restored resource %s is not in this function's Region %s", job.CreatedResourceARN, r.region))
	}
	account := job.Account
	if account == "" {
		account = created.AccountID
	}
	var notes []string

	// An in-place restore (an EFS item restore, an S3 restore into the
	// source bucket) leaves the resource that is the source: its current
	// tags are the newest word, and the recovery point's copy must not
	// bring back tags removed since the backup.
	inPlace := job.SourceResourceARN == job.CreatedResourceARN
	source, err := parseARN(job.SourceResourceARN)
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
	rpTags, rpKind, rpNotes, err := r.recoveryPoint(ctx, job.RecoveryPointARN, rpKind, account, created, reads)
	if err != nil {
		return o.failure(err)
	}
	notes = append(notes, rpNotes...)
	if rpKind == rpNone && !inPlace {
		notes = append(notes, "the restore job names no recovery point; source tags only")
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
	o.Merge = mergeTags(r.config, sourceTags, rpTags, existing, job.RecoveryPointARN)
	if inst != nil {
		o.Volumes = inst.merge(r.config, reads, sourceTags, rpTags, job.RecoveryPointARN)
		if n := inst.unmatched(); n > 0 {
			notes = append(notes, fmt.Sprintf("%d restored volumes have no source volume on their device; they get the instance's tags", n))
		}
	}
	if n := len(o.Merge.LeftOut); n > 0 {
		notes = append(notes, fmt.Sprintf("%d tags left out at the %d-tag limit", n, maxTags))
	}
	o.Reason = strings.Join(notes, "; ")
	return r.write(ctx, o, dryRun)
}

// describeRestoreJob reads a job from AWS Backup: an event's detail is a
// best-effort snapshot of it.
func (r *Reapplier) describeRestoreJob(ctx context.Context, id string) (RestoreJob, error) {
	out, err := r.backupClient.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String(id)})
	if err != nil {
		return RestoreJob{}, fmt.Errorf("describing restore job %s: %w", id, awsclient.Short(err))
	}
	return RestoreJob{
		ID: id, Status: string(out.Status), ResourceType: aws.ToString(out.ResourceType),
		RecoveryPointARN: aws.ToString(out.RecoveryPointArn), SourceResourceARN: aws.ToString(out.SourceResourceArn),
		CreatedResourceARN: aws.ToString(out.CreatedResourceArn), Account: aws.ToString(out.AccountId),
		IsParent: out.IsParent,
	}, nil
}

// recoveryPoint decides where the recovery point's tags come from: read now
// with backup:ListTags (an arn:aws:backup recovery point), or added to the
// job's GetResources call (kind stays rpResource; the tags are picked from
// reads later), or nowhere, with a note saying why.
func (r *Reapplier) recoveryPoint(ctx context.Context, rpARN string, kind recoveryPointKind, account string, created awsarn.ARN, reads *tagReads) (tags map[string]string, _ recoveryPointKind, notes []string, err error) {
	tags = map[string]string{}
	switch kind {
	case rpBackup:
		t, note, err := r.recoveryPointTags(ctx, rpARN)
		if err != nil {
			return nil, kind, nil, err
		}
		tags = t
		if note != "" {
			notes = append(notes, note)
		}
	case rpResource:
		rp, _ := parseARN(qualified(rpARN, account))
		if r.inScope(rp, created) {
			reads.add(rpARN)
		} else {
			kind = rpUnknown
			notes = append(notes, "recovery point is in another account or Region; its tags cannot be read")
		}
	case rpUnknown:
		notes = append(notes, fmt.Sprintf("recovery point %q is not an ARN; its tags cannot be read", rpARN))
	}
	return tags, kind, notes, nil
}

// write tags the restored resource and its volumes with what the merges
// decided, unless there is nothing to write or this is a dry run.
func (r *Reapplier) write(ctx context.Context, o jobOutcome, dryRun bool) jobOutcome {
	if o.tagsApplied() == 0 {
		return o.with(resultUnchanged, o.Reason)
	}
	if dryRun {
		return o.with(resultTagged, o.Reason)
	}
	writes := []resourceTags{{o.CreatedResourceARN, o.Merge.Write}}
	for _, v := range o.Volumes {
		writes = append(writes, resourceTags{v.ARN, v.Merge.Write})
	}
	if err := r.tag(ctx, writes); err != nil {
		return o.failure(err)
	}
	return o.with(resultTagged, o.Reason)
}

func (o jobOutcome) with(res jobResult, reason string) jobOutcome {
	o.Result, o.Reason = res, reason
	return o
}

// failure classifies an error: transient ones are retried by Lambda,
// permanent ones are recorded.
func (o jobOutcome) failure(err error) jobOutcome {
	if transient(err) {
		return o.with(resultRetry, err.Error())
	}
	return o.with(resultFailed, err.Error())
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// inScope reports whether the Tagging API, called in r.region by the
// account of ref (the restored resource), can see a resource.
func (r *Reapplier) inScope(a, ref awsarn.ARN) bool {
	return (a.Region == "" || a.Region == r.region) && (a.AccountID == "" || ref.AccountID == "" || a.AccountID == ref.AccountID)
}

// recoveryPointTags reads every tag of an arn:aws:backup recovery point.
// One that no longer exists (expired) has no tags to give, and one whose
// tags cannot be read (access denied...) only loses its part of the merge:
// both are notes, not failures. Transient errors are returned, to retry.
func (r *Reapplier) recoveryPointTags(ctx context.Context, arn string) (tags map[string]string, note string, err error) {
	tags = map[string]string{}
	pages := backup.NewListTagsPaginator(r.backupClient, &backup.ListTagsInput{ResourceArn: aws.String(arn)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		switch {
		case awsclient.IsNotFound(err):
			return map[string]string{}, "recovery point no longer exists; its tags are unknown", nil
		case transient(err):
			return nil, "", fmt.Errorf("listing tags of recovery point %s: %w", arn, awsclient.Short(err))
		case err != nil:
			return map[string]string{}, fmt.Sprintf("tags of recovery point %s cannot be read: %v", arn, awsclient.Short(err)), nil
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
		out, err := r.tagging.GetResources(ctx, &rgta.GetResourcesInput{ResourceARNList: chunk})
		if err != nil {
			return fmt.Errorf("reading tags of %s: %w", strings.Join(chunk, ", "), awsclient.Short(err))
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
				out, err := r.tagging.TagResources(ctx, &rgta.TagResourcesInput{ResourceARNList: arns, Tags: batch})
				if err != nil {
					return fmt.Errorf("tagging %s: %w", strings.Join(arns, ", "), awsclient.Short(err))
				}
				for _, arn := range arns {
					if f, ok := out.FailedResourcesMap[arn]; ok {
						return &tagFailure{ARN: arn, Info: f}
					}
				}
			}
		}
	}
	return nil
}

// tagFailure is a resource TagResources reported in FailedResourcesMap.
type tagFailure struct {
	ARN  string
	Info rgtatypes.FailureInfo
}

func (f *tagFailure) Error() string {
	return fmt.Sprintf("tagging %s failed: %s (%d): %s", f.ARN, f.Info.ErrorCode, f.Info.StatusCode, aws.ToString(f.Info.ErrorMessage))
}

// log writes the structured record of an outcome.
func (r *Reapplier) log(ctx context.Context, o jobOutcome) {
	level := slog.LevelInfo
	switch o.Result {
	case resultFailed, resultUnsupported:
		level = slog.LevelWarn
	case resultRetry:
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

// instanceDescriber holds the EC2 client as its one method value, never as
// a *ec2.Client the program can reach. The X-Ray SDK links in protobuf,
// whose use of reflect.Value.MethodByName makes the Go linker keep every
// exported method of every type that stays reachable: a reachable
// *ec2.Client would link all of EC2's ~2,400 operations (a 42.6 MB
// bootstrap instead of 18.3 MB, linux/arm64 stripped).
type instanceDescriber func(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)

func (f instanceDescriber) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return f(ctx, in, opts...)
}
