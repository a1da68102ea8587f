package localenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/backup-as-code/orgbackup/internal/logcapture"
	"github.com/backup-as-code/orgbackup/pkg/tagreapply"
)

// TagDemoOptions configure TagDemo.
type TagDemoOptions struct {
	Bootstrap string
	// EventsDir holds the restore-*.json and backfill.json samples.
	EventsDir string
	Out, Logs io.Writer
}

// tagStep is one input the tag-reapplier demo invokes the function with.
type tagStep struct {
	// path is the file; the report names it by its base name.
	path string
	// redelivery marks an event played a second time: it must change
	// nothing, as EventBridge delivers at least once.
	redelivery bool
}

// TagDemo runs the tag re-applier on the sample restore events and a
// backfill, printing the restored resources' tags before and after. The
// completed restore's event is played twice: the second time is the
// redelivery check.
func TagDemo(ctx context.Context, o TagDemoOptions) error {
	var steps []tagStep
	for _, name := range []string{"restore-created-state.json", "restore-running.json", "restore-completed.json"} {
		steps = append(steps, tagStep{path: filepath.Join(o.EventsDir, name)})
	}
	steps = append(steps,
		tagStep{path: filepath.Join(o.EventsDir, "restore-completed.json"), redelivery: true},
		tagStep{path: filepath.Join(o.EventsDir, "backfill.json")})
	return tagDemo(ctx, o, steps)
}

func tagDemo(ctx context.Context, o TagDemoOptions, steps []tagStep) error {
	var captured logcapture.Buffer
	env, err := StartTagReapplier(ctx, Options{Bootstrap: o.Bootstrap, Output: io.MultiWriter(o.Logs, &captured)})
	if err != nil {
		return err
	}
	defer env.Close()
	SeedRestores(env.AWS)
	w := o.Out
	sample := SampleRestores[0]
	fmt.Fprintf(w, "\nTag re-applier in member account %s, started as Lambda does.\n", acct)
	fmt.Fprintf(w, "Source volume %s: %s\n", sample.SourceARN, formatTags(env.tags(sample.SourceARN)))
	// AWS Backup names EBS snapshots without the account; the snapshot is
	// an EC2 resource whose tags the Tagging API serves, account-qualified.
	snapshot := strings.Replace(sample.RecoveryPointARN, "::", ":"+acct+":", 1)
	fmt.Fprintf(w, "Its recovery point %s, an EBS snapshot (tags read through the Tagging API as %s; backup:ListTags serves only arn:aws:backup recovery points): %s\n",
		sample.RecoveryPointARN, snapshot, formatTags(env.tags(snapshot)))
	fmt.Fprintf(w, "Restored volume %s, before: %s\n", sample.CreatedARN, formatTags(env.tags(sample.CreatedARN)))

	lastRequest := ""
	sdkCalls := 0
	for _, step := range steps {
		name := filepath.Base(step.path)
		payload, err := os.ReadFile(step.path)
		if err != nil {
			return err
		}
		req, err := tagreapply.DecodeRequest(payload)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		// restored is the resource the event's restore job created, whose
		// tags the report shows before and after.
		restored := ""
		if req.Event != nil {
			restored = req.Event.Detail.CreatedResourceARN
			if i := slices.IndexFunc(SampleRestores, func(r SampleRestore) bool { return r.JobID == req.Event.Detail.RestoreJobID }); i >= 0 {
				restored = SampleRestores[i].CreatedARN
			}
		}
		tagsBefore := env.tags(restored)
		env.AWS.ResetCalls()
		res, err := env.Function.Invoke(ctx, payload, 60*time.Second)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if res.Error != nil {
			return fmt.Errorf("%s: the function failed: %w", name, res.Error)
		}
		sdkCalls += env.sdkCalls()
		lastRequest = res.RequestID
		if step.redelivery {
			fmt.Fprintf(w, "\n=== %s again: the redelivery check\n", name)
			fmt.Fprintf(w, "EventBridge delivers an event at least once; the same event a second time must write nothing and leave the tags as they are.\n")
		} else {
			fmt.Fprintf(w, "\n=== %s\n", name)
		}
		fmt.Fprintf(w, "AWS calls: %s\n", env.callSummary())
		if req.Backfill != nil {
			var sum map[string]any
			_ = json.Unmarshal(res.Payload, &sum)
			out, _ := json.Marshal(sum)
			fmt.Fprintf(w, "Backfill summary: %s\n", out)
			for _, r := range SampleRestores[1:] {
				fmt.Fprintf(w, "  %-9s %s: %s\n", r.ResourceType, r.CreatedARN, formatTags(env.tags(r.CreatedARN)))
			}
			continue
		}
		for _, c := range env.AWS.CallsTo("tagging") {
			if c.Operation == "GetResources" {
				fmt.Fprintf(w, "Tags read with tag:GetResources: %s\n", strings.ReplaceAll(c.Target, ",", ", "))
			}
		}
		rec, err := captured.Wait(ctx, func(r map[string]any) bool {
			return r["msg"] == "restore job processed" && r["awsRequestId"] == res.RequestID
		})
		if err != nil {
			return fmt.Errorf("%s: no record of the job in the function's log: %w", name, err)
		}
		fmt.Fprintf(w, "Result: %v", rec["result"])
		if r, ok := rec["reason"]; ok {
			fmt.Fprintf(w, " (%v)", r)
		}
		fmt.Fprintln(w)
		for _, k := range []string{"tagsApplied", "tagsKept", "tagsExcluded", "tagsLeftOut"} {
			if v, ok := rec[k]; ok {
				fmt.Fprintf(w, "  %s: %v\n", k, v)
			}
		}
		switch restored {
		case "":
		case sample.CreatedARN:
			fmt.Fprintf(w, "Restored volume now: %s\n", formatTags(env.tags(restored)))
		default:
			fmt.Fprintf(w, "Restored resource %s now: %s\n", restored, formatTags(env.tags(restored)))
		}
		if step.redelivery {
			writes := 0
			for _, c := range env.AWS.CallsTo("tagging") {
				if c.Operation == "TagResources" {
					writes++
				}
			}
			if writes > 0 || !maps.Equal(tagsBefore, env.tags(restored)) {
				return fmt.Errorf("%s: redelivery check failed: %d tag:TagResources calls, tags %s before and %s after", name, writes, formatTags(tagsBefore), formatTags(env.tags(restored)))
			}
			fmt.Fprintf(w, "Redelivery check passed: no tag:TagResources call, and the tags are as the first delivery left them.\n")
		}
	}
	// The last invocation's metrics are the last thing the function writes,
	// all its records in one write (pkg/tagreapply): once one has arrived,
	// every record has.
	if _, err := captured.Wait(ctx, func(r map[string]any) bool { _, ok := r["_aws"]; return ok && r["awsRequestId"] == lastRequest }); err != nil {
		return fmt.Errorf("no metrics from the last invocation: %w", err)
	}
	recs, _ := captured.Records()
	emf := 0
	for _, r := range recs {
		if _, ok := r["_aws"]; ok {
			emf++
		}
	}
	fmt.Fprintf(w, "\nThe re-applier wrote %d CloudWatch Embedded Metric Format %s.\n", emf, plural(emf, "record", "records"))
	fmt.Fprintln(w, env.segmentReport(ctx, "the re-applier", sdkCalls, ""))
	return nil
}

func (e *Env) tags(arn string) map[string]string {
	t, _ := e.AWS.ResourceTags(arn)
	return t
}

func formatTags(tags map[string]string) string {
	if len(tags) == 0 {
		return "(no tags)"
	}
	parts := make([]string, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		parts = append(parts, k+"="+tags[k])
	}
	return strings.Join(parts, ", ")
}
