// Package localenv runs a function's real bootstrap binary the way Lambda
// does (internal/runtimeapi) against emulated AWS (internal/awsemu) holding
// the sample organization, and delivers CloudFormation events to it the
// way CloudFormation does. The demo and the end-to-end tests use it.
package localenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/internal/runtimeapi"
)

// Identities of the sample solution: the manager function's execution role
// in the solution account, and the role it assumes in the management
// account (cfn/ creates both in a real deployment).
const (
	ManagerRoleARN    = "arn:aws:iam::" + SolutionAccount + ":role/backup-org-policy-manager"
	ManagerSessionARN = "arn:aws:sts::" + SolutionAccount + ":assumed-role/backup-org-policy-manager/backup-org-policy-manager"
	OrgAdminRoleARN   = "arn:aws:iam::" + awsemu.SampleManagementAccount + ":role/BackupOrgPolicyManagerOrgAdmin"
)

// Env is emulated AWS and a function process served by a local Runtime API.
type Env struct {
	AWS      *awsemu.Emulator
	Function *runtimeapi.Function
	xray     *xrayDaemon
	sent     int
}

// Options configure StartPolicyManager.
type Options struct {
	// Bootstrap is the built function binary.
	Bootstrap string
	// Output receives the function's logs.
	Output io.Writer
	// Env adds environment variables for the function.
	Env []string
	// AWS configures the emulator.
	AWS awsemu.Options
}

// SolutionAccount is the account of the manager function and of the sample
// events' stack.
const SolutionAccount = awsemu.SampleSolutionAccount

// StartPolicyManager starts emulated AWS with the sample organization and
// the org-admin role, and the policy manager function with its execution
// role's credentials, and waits until the function is ready. The function
// trusts response URLs on the emulator (http on loopback, its port) and
// stacks of SolutionAccount.
func StartPolicyManager(ctx context.Context, opts Options) (*Env, error) {
	return start(ctx, opts, "backup-org-policy-manager", ManagerSessionARN, func(emu *awsemu.Emulator) []string {
		emu.AddRole(awsemu.Role{ARN: OrgAdminRoleARN, Trusted: []string{ManagerRoleARN}})
		return []string{
			"ORG_MANAGEMENT_ACCOUNT=" + awsemu.SampleManagementAccount,
			"CFN_RESPONSE_HOSTS=" + strings.TrimPrefix(emu.URL(), "http://"),
			"ALLOWED_STACK_ACCOUNTS=" + SolutionAccount,
		}
	})
}

// ReapplierSessionARN is the tag re-applier's execution role session in a
// member account (the account whose AWS Backup the emulator serves).
const ReapplierSessionARN = "arn:aws:sts::" + awsemu.BackupAccount + ":assumed-role/tag-reapplier/tag-reapplier"

// StartTagReapplier starts emulated AWS and the tag re-applier function in
// the member account, and waits until the function is ready. Restores to
// work on are set up on the emulator (AddRestoreJob and friends).
func StartTagReapplier(ctx context.Context, opts Options) (*Env, error) {
	return start(ctx, opts, "tag-reapplier", ReapplierSessionARN, nil)
}

// start runs the emulator, an X-Ray daemon stand-in and a function whose
// requests are signed as principal; setup prepares the emulator and returns
// extra environment variables.
func start(ctx context.Context, opts Options, name, principal string, setup func(*awsemu.Emulator) []string) (*Env, error) {
	emu, err := awsemu.Start(opts.AWS)
	if err != nil {
		return nil, err
	}
	var extra []string
	if setup != nil {
		extra = setup(emu)
	}
	daemon, err := startXRayDaemon()
	if err != nil {
		_ = emu.Close()
		return nil, err
	}
	env := append(emu.Env(emu.CredentialsFor(principal)), "AWS_XRAY_DAEMON_ADDRESS="+daemon.address())
	env = append(append(env, extra...), opts.Env...)
	fn, err := runtimeapi.StartFunction(runtimeapi.Config{Bootstrap: opts.Bootstrap, Name: name, Env: env, Output: opts.Output})
	if err != nil {
		_ = emu.Close()
		daemon.close()
		return nil, err
	}
	e := &Env{AWS: emu, Function: fn, xray: daemon}
	if err := fn.WaitReady(ctx); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// Close stops the function and the emulator.
func (e *Env) Close() {
	_ = e.Function.Stop()
	_ = e.AWS.Close()
	e.xray.close()
}

// Delivery is what became of one event.
type Delivery struct {
	// Response is what CloudFormation received.
	Response cfn.Response
	// Responses counts the responses CloudFormation received (exactly one
	// is right).
	Responses int
	// Invocation is what the Lambda invocation returned.
	Invocation runtimeapi.Result
}

// Send delivers a CloudFormation event: its ResponseURL is replaced by one
// on the emulator and, when physicalID is set, its PhysicalResourceId by
// the ID an earlier response returned, as CloudFormation carries it. The
// function gets timeout to answer.
func (e *Env) Send(ctx context.Context, event []byte, physicalID string, timeout time.Duration) (Delivery, error) {
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		return Delivery{}, fmt.Errorf("event is not JSON: %w", err)
	}
	e.sent++
	name := fmt.Sprintf("%v-%d", ev["RequestId"], e.sent)
	ev["ResponseURL"] = e.AWS.ResponseURL(name)
	if physicalID != "" {
		ev["PhysicalResourceId"] = physicalID
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return Delivery{}, err
	}
	res, err := e.Function.Invoke(ctx, payload, timeout)
	if err != nil {
		return Delivery{}, err
	}
	d := Delivery{Invocation: res}
	uploads := e.AWS.Uploads(name)
	d.Responses = len(uploads)
	if len(uploads) == 0 {
		if res.Error != nil {
			return d, fmt.Errorf("CloudFormation received no response; the invocation failed: %w", res.Error)
		}
		return d, fmt.Errorf("CloudFormation received no response; the invocation returned %s", res.Payload)
	}
	if err := json.Unmarshal(uploads[0].Body, &d.Response); err != nil {
		return d, fmt.Errorf("response is not JSON: %w", err)
	}
	return d, nil
}
