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
)

// TagDemoOptions configure TagDemo.
type TagDemoOptions struct {
	Bootstrap string
	// EventsDir holds the restore-*.json and backfill.json samples.
	EventsDir string
	Out, Logs io.Writer
}

// TagDemo runs the tag re-applier on the sample restore events and a
// backfill, printing the restored resources' tags before and after.
func TagDemo(ctx context.Context, o TagDemoOptions) error {
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
	for _, name := range []string{"restore-created-state.json", "restore-running.json", "restore-completed.json", "restore-completed.json", "backfill.json"} {
		payload, err := os.ReadFile(filepath.Join(o.EventsDir, name))
		if err != nil {
			return err
		}
		env.AWS.ResetCalls()
		res, err := env.Function.Invoke(ctx, payload, 60*time.Second)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if res.Error != nil {
			return fmt.Errorf("%s: the function failed: %w", name, res.Error)
		}
		lastRequest = res.RequestID
		fmt.Fprintf(w, "\n=== %s\nAWS calls: %s\n", name, env.callSummary())
		if name != "backfill.json" {
			for _, c := range env.AWS.CallsTo("tagging") {
				if c.Operation == "GetResources" {
					fmt.Fprintf(w, "Tags read with tag:GetResources: %s\n", strings.ReplaceAll(c.Target, ",", ", "))
				}
			}
		}
		if name == "backfill.json" {
			var sum map[string]any
			_ = json.Unmarshal(res.Payload, &sum)
			out, _ := json.Marshal(sum)
			fmt.Fprintf(w, "Backfill summary: %s\n", out)
			for _, r := range SampleRestores[1:] {
				fmt.Fprintf(w, "  %-9s %s: %s\n", r.ResourceType, r.CreatedARN, formatTags(env.tags(r.CreatedARN)))
			}
			continue
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
		fmt.Fprintf(w, "Restored volume now: %s\n", formatTags(env.tags(sample.CreatedARN)))
	}
	// The backfill's metrics are the last thing the function writes.
	if _, err := captured.Wait(ctx, func(r map[string]any) bool { _, ok := r["_aws"]; return ok && r["awsRequestId"] == lastRequest }); err != nil {
		return fmt.Errorf("no metrics from the backfill: %w", err)
	}
	recs, _ := captured.Records()
	emf := 0
	for _, r := range recs {
		if _, ok := r["_aws"]; ok {
			emf++
		}
	}
	fmt.Fprintf(w, "\nThe re-applier wrote %d CloudWatch Embedded Metric Format records and sent %d X-Ray segments.\n", emf, len(env.Segments()))
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
