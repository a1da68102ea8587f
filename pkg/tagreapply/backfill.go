package tagreapply

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
	"github.com/backup-as-code/orgbackup/pkg/invocation"
)

// BackfillSummary is what one backfill invocation did.
type BackfillSummary struct {
	// Processed counts jobs with a final outcome (tagged, unchanged,
	// unsupported or failed permanently).
	Processed int `json:"processed"`
	Tagged    int `json:"tagged"`
	Unchanged int `json:"unchanged"`
	Failed    int `json:"failed"`
	// Unsupported counts jobs whose restored type the Tagging API cannot
	// tag; they are not failures.
	Unsupported int `json:"unsupported"`
	// Retry counts jobs that failed transiently; a later backfill
	// processes them again.
	Retry  int  `json:"retry"`
	DryRun bool `json:"dryRun"`
	// Complete is true when every job was reached; otherwise NextToken
	// continues where this invocation stopped.
	Complete  bool   `json:"complete"`
	NextToken string `json:"nextToken,omitempty"`
	// Error is why listing stopped, if it did.
	Error string `json:"error,omitempty"`
	// FailedJobs names up to 50 jobs that failed.
	FailedJobs []string `json:"failedJobs,omitempty"`
}

const maxFailedJobsListed = 50

// position is where a backfill stopped: the page (by the token that
// fetched it) and the jobs of that page already done. Pages are processed
// in order, so that is enough to continue without repeating work.
type position struct {
	V     int       `json:"v"`
	Since time.Time `json:"since"`
	Page  string    `json:"page,omitempty"`
	Done  []int     `json:"done,omitempty"`
}

func (p position) token() string {
	data, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(data)
}

func decodePosition(token string) (position, error) {
	var p position
	data, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil {
		err = json.Unmarshal(data, &p)
	}
	if err != nil || p.V != 1 {
		return position{}, fmt.Errorf("Backfill.NextToken: not a token a backfill returned")
	}
	return p, nil
}

// Backfill processes the completed restore jobs created after req.Since,
// page by page, with at most Config.BackfillConcurrency jobs at a time. It
// stops dispatching before the invocation's deadline and returns a token
// that continues from there. In a dry run it reads and merges but writes
// nothing.
func (r *Reapplier) Backfill(ctx context.Context, req BackfillRequest) (BackfillSummary, error) {
	pos, err := startPosition(req)
	if err != nil {
		return BackfillSummary{}, err
	}
	run := r.newBackfillRun(ctx, req.DryRun)
	defer run.cancel()

	in := &backup.ListRestoreJobsInput{ByStatus: types.RestoreJobStatusCompleted}
	if !pos.Since.IsZero() {
		in.ByCreatedAfter = aws.Time(pos.Since)
	}
	if pos.Page != "" {
		in.NextToken = aws.String(pos.Page)
	}
	pages := backup.NewListRestoreJobsPaginator(r.backupClient, in)
	for pages.HasMorePages() {
		if run.pastStop() {
			return run.stoppedAt(pos), nil
		}
		page, err := pages.NextPage(run.jobCtx)
		if err != nil {
			run.sum.Error = fmt.Sprintf("listing restore jobs: %v", awsclient.Short(err))
			r.logger(ctx).Error("backfill stopped", "error", run.sum.Error)
			return run.stoppedAt(pos), nil
		}
		var stopped bool
		if pos.Done, stopped = run.page(page.RestoreJobs, pos.Done); stopped {
			return run.stoppedAt(pos), nil
		}
		pos.Page, pos.Done = aws.ToString(page.NextToken), nil
	}
	sum := run.sum
	sum.Complete = true
	r.logger(ctx).Info("backfill complete", "processed", sum.Processed, "tagged", sum.Tagged, "failed", sum.Failed, "unsupported", sum.Unsupported, "retry", sum.Retry, "dryRun", sum.DryRun)
	return sum, nil
}

// startPosition is where a backfill request starts: at its NextToken, or
// at the first page of the jobs created after Since.
func startPosition(req BackfillRequest) (position, error) {
	if req.NextToken == "" {
		return position{V: 1, Since: req.Since}, nil
	}
	p, err := decodePosition(req.NextToken)
	if err != nil {
		return position{}, err
	}
	if !req.Since.IsZero() && !req.Since.Equal(p.Since) {
		return position{}, fmt.Errorf("Backfill.Since: %s differs from the %s the NextToken was issued for", req.Since.Format(time.RFC3339), p.Since.Format(time.RFC3339))
	}
	return p, nil
}

// backfillRun is one backfill invocation: its deadlines and its summary.
type backfillRun struct {
	r *Reapplier
	// ctx carries the invocation's logger; jobCtx ends the jobs' AWS calls.
	ctx, jobCtx context.Context
	cancel      context.CancelFunc
	// stopAt is when dispatching stops; zero without a deadline.
	stopAt time.Time
	dryRun bool

	mu  sync.Mutex // guards sum, written by the workers
	sum BackfillSummary
}

// newBackfillRun sets the backfill's deadlines: dispatching new jobs stops
// invocation.Margin before the invocation's deadline, and jobs in flight are
// cut at a third of that margin, so the summary goes out before the
// invocation ends.
func (r *Reapplier) newBackfillRun(ctx context.Context, dryRun bool) *backfillRun {
	run := &backfillRun{r: r, ctx: ctx, dryRun: dryRun, sum: BackfillSummary{DryRun: dryRun}}
	deadline, ok := ctx.Deadline()
	if !ok {
		run.jobCtx, run.cancel = context.WithCancel(ctx)
		return run
	}
	margin := invocation.Margin(deadline, invocation.DefaultMargin)
	run.stopAt = deadline.Add(-margin)
	run.jobCtx, run.cancel = context.WithDeadline(ctx, deadline.Add(-margin/3))
	return run
}

func (run *backfillRun) pastStop() bool {
	return !run.stopAt.IsZero() && time.Now().After(run.stopAt)
}

// stoppedAt is the summary of a backfill that stopped at pos, with the
// token that continues from there.
func (run *backfillRun) stoppedAt(pos position) BackfillSummary {
	sum := run.sum
	sum.NextToken = pos.token()
	return sum
}

// page processes the jobs of one page not yet done and returns the indices
// done after it, and whether it stopped at the dispatch deadline before
// reaching every job. A job that fails transiently is not done: if the page
// is continued later it is tried again, and either way the summary names it.
func (run *backfillRun) page(jobs []types.RestoreJobsListMember, done []int) (_ []int, stopped bool) {
	doneSet := map[int]bool{} // guarded by run.mu
	for _, i := range done {
		doneSet[i] = true
	}
	skip := maps.Clone(doneSet)
	sem := make(chan struct{}, max(1, run.r.config.BackfillConcurrency))
	var stop <-chan time.Time // nil without a deadline: never fires
	if !run.stopAt.IsZero() {
		timer := time.NewTimer(time.Until(run.stopAt))
		defer timer.Stop()
		stop = timer.C
	}
	var wg sync.WaitGroup
dispatch:
	for i, m := range jobs {
		if skip[i] {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-stop:
			stopped = true
			break dispatch
		}
		if run.pastStop() {
			<-sem
			stopped = true
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			o := run.r.process(run.jobCtx, jobFromList(m), false, run.dryRun)
			run.r.log(run.ctx, o)
			run.r.metrics.record(o)
			run.mu.Lock()
			defer run.mu.Unlock()
			if run.sum.count(o) {
				doneSet[i] = true
			}
		}()
	}
	wg.Wait()
	out := slices.Sorted(maps.Keys(doneSet))
	return out, stopped
}

// count adds a job's outcome to the summary and tells whether the job is
// done: every outcome but a transient failure, which a continuation tries
// again.
func (s *BackfillSummary) count(o jobOutcome) (done bool) {
	switch o.Result {
	case resultRetry:
		s.Retry++
		s.listFailed(o.RestoreJobID)
		return false
	case resultTagged:
		s.Tagged++
	case resultUnchanged, resultIgnored:
		s.Unchanged++
	case resultUnsupported:
		s.Unsupported++
	case resultFailed:
		s.Failed++
		s.listFailed(o.RestoreJobID)
	}
	s.Processed++
	return true
}

func (s *BackfillSummary) listFailed(jobID string) {
	if len(s.FailedJobs) < maxFailedJobsListed {
		s.FailedJobs = append(s.FailedJobs, jobID)
	}
}

func jobFromList(m types.RestoreJobsListMember) RestoreJob {
	return RestoreJob{
		ID: aws.ToString(m.RestoreJobId), Status: string(m.Status), ResourceType: aws.ToString(m.ResourceType),
		RecoveryPointARN: aws.ToString(m.RecoveryPointArn), SourceResourceARN: aws.ToString(m.SourceResourceArn),
		CreatedResourceARN: aws.ToString(m.CreatedResourceArn), Account: aws.ToString(m.AccountId),
		IsParent: m.IsParent,
	}
}
