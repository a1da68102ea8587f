package localenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
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

// Demo plays events through the policy manager and reports, for each, the
// response CloudFormation received, the Organizations calls made and the
// policies and attachments that result; with o.CLI, the drift act after
// the Create.
func Demo(ctx context.Context, o DemoOptions) error {
	env, err := StartPolicyManager(ctx, Options{Bootstrap: o.Bootstrap, Output: o.Logs})
	if err != nil {
		return err
	}
	defer env.Close()
	w := o.Out
	fmt.Fprintf(w, "Emulated organization %s: management account %s, root %s.\n", awsemu.SampleOrgID, awsemu.SampleManagementAccount, awsemu.SampleRootID)
	fmt.Fprintf(w, "Function %s started as Lambda does (ready in %v); its logs go to %s.\n",
		o.Bootstrap, env.Function.FirstRequest().Sub(env.Function.Started).Round(time.Millisecond), o.LogPath)

	events := make([][]byte, len(o.Events))
	for i, path := range o.Events {
		var err error
		if events[i], err = os.ReadFile(path); err != nil {
			return err
		}
	}
	physicalID := ""
	// planned are the writes plan listed for the next event, an Update,
	// when havePlan.
	var planned []string
	havePlan := false
	for i, path := range o.Events {
		event := events[i]
		var head struct {
			RequestType, LogicalResourceId string
		}
		_ = json.Unmarshal(event, &head)
		fmt.Fprintf(w, "\n=== %s %s  (%s)\n", head.RequestType, head.LogicalResourceId, path)
		env.AWS.ResetCalls()
		d, err := env.Send(ctx, event, physicalID, 60*time.Second)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		resp, _ := json.MarshalIndent(d.Response, "    ", "  ")
		fmt.Fprintf(w, "CloudFormation received %d response:\n    %s\n", d.Responses, resp)
		fmt.Fprintf(w, "AWS calls: %s\n", env.callSummary())
		env.printPolicies(w)
		if d.Response.Status != "SUCCESS" {
			return fmt.Errorf("%s: %s", path, d.Response.Reason)
		}
		if havePlan {
			if err := comparePlan(w, planned, env.orgWrites(false)); err != nil {
				return err
			}
			havePlan = false
		}
		physicalID = d.Response.PhysicalResourceID
		if o.CLI != "" && head.RequestType == "Create" && i+1 < len(events) && requestType(events[i+1]) == "Update" {
			if planned, err = env.driftAct(ctx, w, o.CLI, event, events[i+1], physicalID); err != nil {
				return fmt.Errorf("drift act: %w", err)
			}
			havePlan = true
		}
	}
	fmt.Fprintf(w, "\nDone: create, update and delete each answered once, and the organization ends as it began.\n")
	fmt.Fprintf(w, "The function sent %d X-Ray segments for its AWS calls.\n", len(env.Segments()))
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
