// Command demo plays the sample events in events/ through the real function
// binaries, started as Lambda starts them, against emulated AWS: the
// CloudFormation events through the policy manager (printing what
// CloudFormation and the organization see, and what each Update changed),
// with a drift act between the Create and the Update (the policy changed
// out of band, the real backup-policy drift and plan, and the Update
// compared with the plan), then a Create whose policy document has a typo
// (FAILED, with the line and column, and nothing created); then the
// restore events and a backfill through the tag re-applier (printing the
// restored resources' tags before and after, and delivering the completed
// restore's event twice: the redelivery check). No AWS account is needed:
// `make demo`.
//
// With -event FILE it plays that one event instead, through the function
// it is for (a CloudFormation custom resource event through the policy
// manager, a restore event or backfill request through the tag
// re-applier), with the same report; an Update or Delete is preceded by a
// Create of the resource from the event's properties. The exit status is
// 1 when the event fails.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/backup-as-code/orgbackup/internal/localenv"
)

func main() {
	bootstrap := flag.String("bootstrap", filepath.Join("bin", "local", "backup-org-policy-manager", "bootstrap"), "the policy manager binary")
	reapplier := flag.String("reapplier", filepath.Join("bin", "local", "tag-reapplier", "bootstrap"), "the tag re-applier binary")
	cli := flag.String("cli", filepath.Join("bin", "local", "backup-policy"), "the backup-policy command, for the drift act")
	events := flag.String("events", "events", "directory of sample events")
	event := flag.String("event", "", "play only this event `file` (CloudFormation custom resource event, AWS Backup restore event or backfill request) through the function it is for")
	logs := flag.String("logs", filepath.Join("bin", "demo-function.log"), "file for the function's own log lines")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "demo: unexpected arguments %q; an event file is given with -event FILE\n", flag.Args())
		os.Exit(2)
	}

	if err := run(*bootstrap, *reapplier, *cli, *events, *event, *logs); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(bootstrap, reapplier, cli, events, event, logPath string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	if event != "" {
		return localenv.PlayEvent(ctx, localenv.PlayOptions{
			Event:         event,
			PolicyManager: bootstrap,
			TagReapplier:  reapplier,
			Out:           os.Stdout,
			Logs:          logFile,
			LogPath:       logPath,
		})
	}
	err = localenv.Demo(ctx, localenv.DemoOptions{
		Bootstrap: bootstrap,
		Events: []string{
			filepath.Join(events, "org-policy-create.json"),
			filepath.Join(events, "org-policy-update.json"),
			filepath.Join(events, "org-policy-delete.json"),
		},
		FailingEvents: []string{filepath.Join(events, "org-policy-create-typo.json")},
		Out:           os.Stdout,
		Logs:          logFile,
		LogPath:       logPath,
		CLI:           cli,
	})
	if err != nil {
		return err
	}
	return localenv.TagDemo(ctx, localenv.TagDemoOptions{Bootstrap: reapplier, EventsDir: events, Out: os.Stdout, Logs: logFile})
}
