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

// backfillMargins: dispatching new jobs stops this fraction of the time left
// before the deadline (at most maxDispatchMargin), and jobs in flight are cut
// at a third of it, so the summary goes out before the invocation ends.
const (
	dispatchMarginFraction = 5
	maxDispatchMargin      = 10 * time.Second
)

// Backfill processes the completed restore jobs created after req.Since,
// page by page, with at most Config.BackfillConcurrency jobs at a time. It
// stops dispatching before the invocation's deadline and returns a token
// that continues from there. In a dry run it reads and merges but writes
// nothing.
func (r *Reapplier) Backfill(ctx context.Context, req BackfillRequest) (BackfillSummary, error) {
	pos := position{V: 1, Since: req.Since}
	if req.NextToken != "" {
		p, err := decodePosition(req.NextToken)
		if err != nil {
			return BackfillSummary{}, err
		}
		if !req.Since.IsZero() && !req.Since.Equal(p.Since) {
			return BackfillSummary{}, fmt.Errorf("Backfill.Since: %s differs from the %s the NextToken was issued for", req.Since.Format(time.RFC3339), p.Since.Format(time.RFC3339))
		}
		pos = p
	}
	stopAt, jobCtx, cancel := r.backfillDeadlines(ctx)
	defer cancel()

	sum := BackfillSummary{DryRun: req.DryRun}
	in := &backup.ListRestoreJobsInput{ByStatus: types.RestoreJobStatusCompleted}
	if !pos.Since.IsZero() {
		in.ByCreatedAfter = aws.Time(pos.Since)
	}
	if pos.Page != "" {
		in.NextToken = aws.String(pos.Page)
	}
	pageToken, done := pos.Page, pos.Done
	pages := backup.NewListRestoreJobsPaginator(r.Backup, in)
	for pages.HasMorePages() {
		if time.Now().After(stopAt) {
			sum.NextToken = position{V: 1, Since: pos.Since, Page: pageToken, Done: done}.token()
			return sum, nil
		}
		page, err := pages.NextPage(jobCtx)
		if err != nil {
			sum.Error = fmt.Sprintf("listing restore jobs: %v", err)
			sum.NextToken = position{V: 1, Since: pos.Since, Page: pageToken, Done: done}.token()
			r.logger(ctx).Error("backfill stopped", "error", sum.Error)
			return sum, nil
		}
		var stopped bool
		done, stopped = r.runPage(ctx, jobCtx, page.RestoreJobs, done, stopAt, req.DryRun, &sum)
		if stopped {
			sum.NextToken = position{V: 1, Since: pos.Since, Page: pageToken, Done: done}.token()
			return sum, nil
		}
		pageToken, done = aws.ToString(page.NextToken), nil
	}
	sum.Complete = true
	r.logger(ctx).Info("backfill complete", "processed", sum.Processed, "tagged", sum.Tagged, "failed", sum.Failed, "unsupported", sum.Unsupported, "retry", sum.Retry, "dryRun", sum.DryRun)
	return sum, nil
}

func (r *Reapplier) backfillDeadlines(ctx context.Context) (stopAt time.Time, jobCtx context.Context, cancel context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		c, cancel := context.WithCancel(ctx)
		return time.Now().Add(100 * 365 * 24 * time.Hour), c, cancel
	}
	margin := min(maxDispatchMargin, time.Until(deadline)/dispatchMarginFraction)
	jobCtx, cancel = context.WithDeadline(ctx, deadline.Add(-margin/3))
	return deadline.Add(-margin), jobCtx, cancel
}

// runPage processes the jobs of one page not yet done and returns the
// indices done after it, and whether it stopped at stopAt before reaching
// every job. A job that fails transiently is not done: if the page is
// continued later it is tried again, and either way the summary names it.
func (r *Reapplier) runPage(ctx, jobCtx context.Context, jobs []types.RestoreJobsListMember, done []int, stopAt time.Time, dryRun bool, sum *BackfillSummary) (_ []int, stopped bool) {
	var mu sync.Mutex // guards doneSet and sum, written by the workers
	doneSet := map[int]bool{}
	for _, i := range done {
		doneSet[i] = true
	}
	skip := maps.Clone(doneSet)
	sem := make(chan struct{}, max(1, r.Config.BackfillConcurrency))
	var wg sync.WaitGroup
	timer := time.NewTimer(time.Until(stopAt))
	defer timer.Stop()
dispatch:
	for i, m := range jobs {
		if skip[i] {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-timer.C:
			stopped = true
			break dispatch
		}
		if time.Now().After(stopAt) {
			<-sem
			stopped = true
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			o := r.process(jobCtx, jobFromList(m), false, dryRun)
			r.log(ctx, o)
			r.Metrics.record(o)
			mu.Lock()
			defer mu.Unlock()
			switch o.Result {
			case ResultRetry:
				sum.Retry++
				if len(sum.FailedJobs) < maxFailedJobsListed {
					sum.FailedJobs = append(sum.FailedJobs, o.RestoreJobID)
				}
				return
			case ResultTagged:
				sum.Tagged++
			case ResultUnchanged, ResultIgnored:
				sum.Unchanged++
			case ResultUnsupported:
				sum.Unsupported++
			case ResultFailed:
				sum.Failed++
				if len(sum.FailedJobs) < maxFailedJobsListed {
					sum.FailedJobs = append(sum.FailedJobs, o.RestoreJobID)
				}
			}
			sum.Processed++
			doneSet[i] = true
		}()
	}
	wg.Wait()
	out := make([]int, 0, len(doneSet))
	for i := range doneSet {
		out = append(out, i)
	}
	slices.Sort(out)
	return out, stopped
}

func jobFromList(m types.RestoreJobsListMember) RestoreJob {
	return RestoreJob{
		ID: aws.ToString(m.RestoreJobId), Status: string(m.Status), ResourceType: aws.ToString(m.ResourceType),
		RecoveryPointARN: aws.ToString(m.RecoveryPointArn), SourceResourceARN: aws.ToString(m.SourceResourceArn),
		CreatedResourceARN: aws.ToString(m.CreatedResourceArn), Account: aws.ToString(m.AccountId),
	}
}
