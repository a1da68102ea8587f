package runtimeapi

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Function is a bootstrap process served by a Server.
type Function struct {
	*Server
	cmd     *exec.Cmd
	Started time.Time
	exited  chan struct{}
	err     error
}

// Config describes how to start a function.
type Config struct {
	// Bootstrap is the executable.
	Bootstrap string
	// Name is AWS_LAMBDA_FUNCTION_NAME; default "local".
	Name string
	// Env adds to (and overrides) the Lambda environment; the process
	// inherits nothing else but PATH and HOME.
	Env []string
	// Output receives the function's stdout and stderr (its logs).
	Output io.Writer
}

// StartFunction starts a Runtime API server and the bootstrap process with
// the environment Lambda gives a provided.al2023 function.
func StartFunction(cfg Config) (*Function, error) {
	if cfg.Name == "" {
		cfg.Name = "local"
	}
	bootstrap, err := filepath.Abs(cfg.Bootstrap)
	if err != nil {
		return nil, err
	}
	srv, err := Start()
	if err != nil {
		return nil, err
	}
	srv.FunctionARN = "arn:aws:lambda:us-east-1:222222222222:function:" + cfg.Name
	// The process lives until Stop, not for the length of a context.
	cmd := exec.CommandContext(context.Background(), bootstrap)
	cmd.Dir = filepath.Dir(cfg.Bootstrap)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"AWS_LAMBDA_RUNTIME_API=" + srv.Address(),
		"AWS_LAMBDA_FUNCTION_NAME=" + cfg.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + cfg.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + time.Now().UTC().Format("2006/01/02") + "/[$LATEST]0000000000000000000000000000local",
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		"LAMBDA_TASK_ROOT=" + cmd.Dir,
		"_HANDLER=bootstrap",
		"TZ=:UTC",
	}, cfg.Env...)
	cmd.Stdout, cmd.Stderr = cfg.Output, cfg.Output
	if cfg.Output == nil {
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	}
	f := &Function{Server: srv, cmd: cmd, exited: make(chan struct{})}
	f.Started = time.Now()
	if err := cmd.Start(); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("runtimeapi: starting %s: %w", cfg.Bootstrap, err)
	}
	go func() {
		f.err = cmd.Wait()
		close(f.exited)
	}()
	return f, nil
}

// WaitReady waits until the function asks for its first invocation, and
// fails if it exits or reports an init error first.
func (f *Function) WaitReady(ctx context.Context) error {
	select {
	case <-f.Ready():
		if ie := f.InitError(); ie != nil {
			return fmt.Errorf("runtimeapi: init error: %w", ie)
		}
		return nil
	case <-f.exited:
		return fmt.Errorf("runtimeapi: function exited during init: %w", f.err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop kills the process, as Lambda does when it retires an execution
// environment, and stops the server.
func (f *Function) Stop() error {
	_ = f.cmd.Process.Kill()
	<-f.exited
	return f.Server.Close()
}
