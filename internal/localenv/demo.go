package localenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
)

// DemoOptions configure Demo.
type DemoOptions struct {
	Bootstrap string
	// Events are played in order; each Update and Delete gets the physical
	// ID of the response before it.
	Events []string
	// FailingEvents are played after Events; each must be answered FAILED
	// without a write to the organization (a policy document with a typo,
	// say), and the report shows the Reason.
	FailingEvents []string
	// Out receives the report; Logs the function's log lines.
	Out, Logs io.Writer
	// LogPath names the log file in the report.
	LogPath string
	// CLI is the built backup-policy command. When set, a Create followed
	// by an Update gets a drift act between them (driftAct): the policy
	// is changed out of band, drift reports it, plan says what the Update
	// will write, and the Update's writes are compared with the plan.
	CLI string
}

// demoStep is one CloudFormation event the demo delivers.
type demoStep struct {
	// path names the event in the report.
	path  string
	event []byte
	// note, when set, is printed under the step's heading.
	note string
	// fail marks an event that must be answered FAILED with nothing
	// written.
	fail bool
}

// Demo plays events through the policy manager and reports, for each, the
// response CloudFormation received, the Organizations calls made and the
// policies and attachments that result (for an Update, also what it
// changed); with o.CLI, the drift act after the Create; then the failing
// events.
func Demo(ctx context.Context, o DemoOptions) error {
	var steps []demoStep
	for i, path := range slices.Concat(o.Events, o.FailingEvents) {
		event, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		steps = append(steps, demoStep{path: path, event: event, fail: i >= len(o.Events)})
	}
	return runDemo(ctx, o, steps, func(w io.Writer, answered int) {
		fmt.Fprintf(w, "\nDone: %d events, each answered exactly once; the organization ends as it began.\n", answered)
	})
}

// runDemo starts the policy manager and delivers steps in order; done
// closes the report with the number of events answered.
func runDemo(ctx context.Context, o DemoOptions, steps []demoStep, done func(w io.Writer, answered int)) error {
	env, err := StartPolicyManager(ctx, Options{Bootstrap: o.Bootstrap, Output: o.Logs})
	if err != nil {
		return err
	}
	defer env.Close()
	w := o.Out
	fmt.Fprintf(w, "Emulated organization %s: management account %s, root %s.\n", awsemu.SampleOrgID, awsemu.SampleManagementAccount, awsemu.SampleRootID)
	fmt.Fprintf(w, "Function %s started as Lambda does (ready in %v); its logs go to %s.\n",
		o.Bootstrap, env.Function.FirstRequest().Sub(env.Function.Started).Round(time.Millisecond), o.LogPath)

	physicalID := ""
	// planned are the writes plan listed for the next event, an Update,
	// when havePlan.
	var planned []string
	havePlan := false
	// sdkCalls counts the function's own AWS calls, which its X-Ray
	// subsegments are to be compared with.
	sdkCalls := 0
	for i, step := range steps {
		event := step.event
		var head struct {
			RequestType, LogicalResourceId string
		}
		_ = json.Unmarshal(event, &head)
		label := ""
		if step.fail {
			label = ", expected to fail"
		}
		fmt.Fprintf(w, "\n=== %s %s  (%s%s)\n", head.RequestType, head.LogicalResourceId, step.path, label)
		if step.note != "" {
			fmt.Fprintln(w, step.note)
		}
		env.AWS.ResetCalls()
		before := env.AWS.Policies()
		id := physicalID
		if step.fail {
			// A failing event stands alone: it is not the resource the
			// steps before it created.
			id = ""
		}
		d, err := env.Send(ctx, event, id, 60*time.Second)
		if err != nil {
			return fmt.Errorf("%s: %w", step.path, err)
		}
		sdkCalls += env.sdkCalls()
		resp, _ := json.MarshalIndent(d.Response, "    ", "  ")
		fmt.Fprintf(w, "CloudFormation received %d response:\n    %s\n", d.Responses, resp)
		fmt.Fprintf(w, "AWS calls: %s\n", env.callSummary())
		if step.fail {
			if err := env.reportFailure(w, string(d.Response.Status), d.Response.Reason, before); err != nil {
				return fmt.Errorf("%s: %w", step.path, err)
			}
			continue
		}
		if d.Response.Status != "SUCCESS" {
			fmt.Fprintf(w, "%s Reason: %s\n", d.Response.Status, d.Response.Reason)
			env.printPolicies(w)
			return fmt.Errorf("%s: CloudFormation received %s", step.path, d.Response.Status)
		}
		env.printPolicies(w)
		if head.RequestType == "Update" {
			note := ""
			if havePlan {
				note = " (compared with the organization just before it, after the out-of-band change)"
			}
			fmt.Fprintf(w, "What the Update changed%s:\n", note)
			for _, line := range policyChanges(before, env.AWS.Policies(), d.Response.PhysicalResourceID, env.AWS.TargetName) {
				fmt.Fprintf(w, "  %s\n", line)
			}
		}
		if havePlan {
			if err := comparePlan(w, planned, env.orgWrites(false)); err != nil {
				return err
			}
			havePlan = false
		}
		physicalID = d.Response.PhysicalResourceID
		if o.CLI != "" && head.RequestType == "Create" && i+1 < len(steps) && !steps[i+1].fail && requestType(steps[i+1].event) == "Update" {
			if planned, err = env.driftAct(ctx, w, o.CLI, event, steps[i+1].event, physicalID); err != nil {
				return fmt.Errorf("drift act: %w", err)
			}
			havePlan = true
		}
	}
	done(w, len(steps))
	fmt.Fprintln(w, env.segmentReport(ctx, "the function", sdkCalls, "the response to CloudFormation, a plain HTTPS PUT,"))
	return nil
}

// reportFailure shows why a failing event failed and checks it changed
// nothing: FAILED, no write attempted, the organization as before.
func (e *Env) reportFailure(w io.Writer, status, reason string, before []awsemu.PolicyState) error {
	if status != "FAILED" {
		return fmt.Errorf("answered %s; the event was to fail", status)
	}
	fmt.Fprintf(w, "FAILED Reason: %s\n", reason)
	if writes := e.orgWrites(true); len(writes) > 0 {
		return fmt.Errorf("failed, yet wrote to the organization: %v", writes)
	}
	if !reflect.DeepEqual(before, e.AWS.Policies()) {
		return fmt.Errorf("failed, yet the organization changed")
	}
	held := "no backup policies"
	if len(before) > 0 {
		held = fmt.Sprintf("the same %d %s", len(before), plural(len(before), "backup policy", "backup policies"))
	}
	fmt.Fprintf(w, "Nothing was created: no Organizations write was attempted, and the organization holds %s, as before.\n", held)
	return nil
}

func requestType(event []byte) string {
	var head struct{ RequestType string }
	_ = json.Unmarshal(event, &head)
	return head.RequestType
}

func (e *Env) callSummary() string {
	counts := map[string]int{}
	for _, c := range e.AWS.Calls() {
		counts[c.Service+":"+c.Operation]++
	}
	if len(counts) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
	}
	return strings.Join(parts, ", ")
}

func (e *Env) printPolicies(w io.Writer) {
	policies := e.AWS.Policies()
	if len(policies) == 0 {
		fmt.Fprintln(w, "Organization: no backup policies.")
		return
	}
	fmt.Fprintln(w, "Organization:")
	for _, p := range policies {
		fmt.Fprintf(w, "  %s %q (%s), %d characters: %s\n", p.ID, p.Name, p.Type, len(p.Content), p.Description)
		for _, t := range p.Targets {
			fmt.Fprintf(w, "    attached to %-18s %s\n", t, e.AWS.TargetName(t))
		}
		for _, k := range slices.Sorted(maps.Keys(p.Tags)) {
			fmt.Fprintf(w, "    tag %s = %s\n", k, p.Tags[k])
		}
	}
}
