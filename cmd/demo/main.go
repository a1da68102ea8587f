// Command demo plays the sample events in events/ through the real function
// binaries, started as Lambda starts them, against emulated AWS: the
// CloudFormation events through the policy manager (printing what
// CloudFormation and the organization see), with a drift act between the
// Create and the Update (the policy changed out of band, the real
// backup-policy drift and plan, and the Update compared with the plan),
// then the restore events and a backfill through the tag re-applier
// (printing the restored resources' tags before and after). No AWS
// account is needed: `make demo`.
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
	logs := flag.String("logs", filepath.Join("bin", "demo-function.log"), "file for the function's own log lines")
	flag.Parse()

	if err := run(*bootstrap, *reapplier, *cli, *events, *logs); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(bootstrap, reapplier, cli, events, logPath string) error {
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
	err = localenv.Demo(ctx, localenv.DemoOptions{
		Bootstrap: bootstrap,
		Events: []string{
			filepath.Join(events, "org-policy-create.json"),
			filepath.Join(events, "org-policy-update.json"),
			filepath.Join(events, "org-policy-delete.json"),
		},
		Out:     os.Stdout,
		Logs:    logFile,
		LogPath: logPath,
		CLI:     cli,
	})
	if err != nil {
		return err
	}
	return localenv.TagDemo(ctx, localenv.TagDemoOptions{Bootstrap: reapplier, EventsDir: events, Out: os.Stdout, Logs: logFile})
}
