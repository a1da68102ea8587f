package localenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/backup-as-code/orgbackup/pkg/tagreapply"
)

// EventKind is which function an event is for.
type EventKind int

// The kinds of input the demo can play.
const (
	// CloudFormationEvent is a custom resource request, for the policy
	// manager.
	CloudFormationEvent EventKind = iota + 1
	// RestoreEvent is an AWS Backup Restore Job State Change, for the tag
	// re-applier.
	RestoreEvent
	// BackfillRequest asks the tag re-applier to process past restores.
	BackfillRequest
)

func (k EventKind) String() string {
	switch k {
	case CloudFormationEvent:
		return "a CloudFormation custom resource event"
	case RestoreEvent:
		return "an AWS Backup restore event"
	case BackfillRequest:
		return "a tag re-applier backfill request"
	}
	return "an unknown event"
}

// errUnknownEvent says what the demo plays, for input that is none of it.
var errUnknownEvent = errors.New("expected a CloudFormation custom resource event (RequestType and ResourceType), " +
	`an AWS Backup restore event (source "aws.backup", detail-type "Restore Job State Change") ` +
	`or a tag re-applier backfill ({"Backfill": {"Since": …}} or {"RefreshTagItems": "true"})`)

// DetectEvent says which function event is for: a CloudFormation custom
// resource event has RequestType and ResourceType; restore events and
// backfill requests are what the tag re-applier itself recognizes
// (tagreapply.DecodeRequest).
func DetectEvent(event []byte) (EventKind, error) {
	var head map[string]json.RawMessage
	if err := json.Unmarshal(event, &head); err != nil {
		return 0, fmt.Errorf("not a JSON object (%w); %w", err, errUnknownEvent)
	}
	if head["RequestType"] != nil || head["ResourceType"] != nil {
		var cf struct{ RequestType, ResourceType string }
		if err := json.Unmarshal(event, &cf); err != nil {
			return 0, fmt.Errorf("CloudFormation event: %w", err)
		}
		switch {
		case cf.RequestType == "" || cf.ResourceType == "":
			return 0, fmt.Errorf("a CloudFormation custom resource event needs both RequestType and ResourceType")
		case cf.RequestType != "Create" && cf.RequestType != "Update" && cf.RequestType != "Delete":
			return 0, fmt.Errorf("CloudFormation RequestType %q: expected Create, Update or Delete", cf.RequestType)
		}
		return CloudFormationEvent, nil
	}
	req, err := tagreapply.DecodeRequest(event)
	switch {
	case err != nil && head["detail-type"] == nil && head["Backfill"] == nil && head["RefreshTagItems"] == nil:
		return 0, errUnknownEvent
	case err != nil:
		// An event that looks like the re-applier's: its own words say
		// what is wrong.
		return 0, fmt.Errorf("the tag re-applier would refuse it: %w", err)
	case req.Backfill != nil:
		return BackfillRequest, nil
	}
	return RestoreEvent, nil
}

// PlayOptions configure PlayEvent.
type PlayOptions struct {
	// Event is the file to play.
	Event string
	// PolicyManager and TagReapplier are the built functions.
	PolicyManager, TagReapplier string
	// Out receives the report; Logs the function's log lines.
	Out, Logs io.Writer
	// LogPath names the log file in the report.
	LogPath string
}

// PlayEvent plays one event through the function it is for, with the
// report of the full demo. An Update or Delete needs the resource to
// exist: a Create made from the event's properties comes first (for an
// Update its OldResourceProperties, what the stack held before), and the
// report says so. There is no drift act: it needs a Create and an Update
// of the same resource, which one event is not.
func PlayEvent(ctx context.Context, o PlayOptions) error {
	event, err := os.ReadFile(o.Event)
	if err != nil {
		return err
	}
	kind, err := DetectEvent(event)
	if err != nil {
		return fmt.Errorf("%s: %w", o.Event, err)
	}
	function := "policy manager"
	if kind != CloudFormationEvent {
		function = "tag re-applier"
	}
	fmt.Fprintf(o.Out, "%s: %s, played through the %s.\n", o.Event, kind, function)
	if kind != CloudFormationEvent {
		return tagDemo(ctx, TagDemoOptions{Bootstrap: o.TagReapplier, Out: o.Out, Logs: o.Logs}, []tagStep{{path: o.Event}})
	}
	steps, err := cloudFormationSteps(o.Event, event)
	if err != nil {
		return fmt.Errorf("%s: %w", o.Event, err)
	}
	return runDemo(ctx, DemoOptions{Bootstrap: o.PolicyManager, Out: o.Out, Logs: o.Logs, LogPath: o.LogPath}, steps, func(w io.Writer, answered int) {
		fmt.Fprintf(w, "\nDone: %d %s, each answered exactly once.\n", answered, plural(answered, "event", "events"))
	})
}

// cloudFormationSteps are the deliveries that play event: itself, after a
// Create of the resource when it is an Update or a Delete.
func cloudFormationSteps(path string, event []byte) ([]demoStep, error) {
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, err
	}
	rt, _ := ev["RequestType"].(string)
	if rt == "Create" {
		return []demoStep{{path: path, event: event}}, nil
	}
	props, from := ev["ResourceProperties"], "ResourceProperties"
	if old, ok := ev["OldResourceProperties"]; ok && rt == "Update" {
		props, from = old, "OldResourceProperties"
	}
	if props == nil {
		return nil, fmt.Errorf("a %s needs the resource to exist, and the event has no %s to create it from", rt, from)
	}
	create := map[string]any{}
	for _, k := range []string{"ServiceToken", "ResponseURL", "StackId", "LogicalResourceId", "ResourceType"} {
		if v, ok := ev[k]; ok {
			create[k] = v
		}
	}
	create["RequestType"] = "Create"
	create["RequestId"] = fmt.Sprintf("%v-setup-create", ev["RequestId"])
	create["ResourceProperties"] = props
	body, err := json.Marshal(create)
	if err != nil {
		return nil, err
	}
	return []demoStep{
		{path: "set-up, from " + filepath.Base(path) + "'s " + from, event: body,
			note: fmt.Sprintf("No Create precedes this %s, so the resource is created first from the event's %s; its physical ID replaces the event's PhysicalResourceId, as CloudFormation carries it.", rt, from)},
		{path: path, event: event},
	}, nil
}
