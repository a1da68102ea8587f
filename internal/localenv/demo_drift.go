package localenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/pkg/awsclient"
)

// Identities of the drift act: the platform engineer who runs
// backup-policy in the solution account, the read-only role it assumes in
// the management account (the ReaderRole of cfn/org-admin-role.yaml), and
// an administrator who edits the organization in the console.
const (
	demoReaderUser = "arn:aws:iam::" + SolutionAccount + ":user/reader"
	demoReaderRole = "arn:aws:iam::" + awsemu.SampleManagementAccount + ":role/BackupOrgPolicyReader"
	demoAdminUser  = "arn:aws:iam::" + awsemu.SampleManagementAccount + ":user/admin"
)

// demoDetached is the target the administrator detaches by hand: the
// Update keeps it, so its plan shows the repair (AttachPolicy again).
const demoDetached = awsemu.SampleProdOU

// demoEvent is what the drift act reads of a sample event.
type demoEvent struct {
	StackID            string          `json:"StackId"`
	LogicalResourceID  string          `json:"LogicalResourceId"`
	ResourceProperties json.RawMessage `json:"ResourceProperties"`
}

// driftAct runs after the Create: it deploys the Create's template as the
// stack's (the stack ID is the event's, which the policy's ownership tags
// carry), changes the policy out of band, and runs the real backup-policy
// CLI: drift, then plan for the Update's template. It returns the writes
// the plan lists, as orgWrites spells them, for the Update to be compared
// with.
func (e *Env) driftAct(ctx context.Context, w io.Writer, cli string, create, update []byte, policyID string) ([]string, error) {
	var c, u demoEvent
	if err := json.Unmarshal(create, &c); err != nil {
		return nil, fmt.Errorf("create event: %w", err)
	}
	if err := json.Unmarshal(update, &u); err != nil {
		return nil, fmt.Errorf("update event: %w", err)
	}
	cli, err := filepath.Abs(cli)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "demo-drift-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintf(w, "\n=== Drift: the organization changed outside CloudFormation\n")
	if err := e.AWS.AddStackWithID(c.StackID); err != nil {
		return nil, err
	}
	stackARN, err := arn.Parse(c.StackID)
	if err != nil {
		return nil, err
	}
	stack := strings.Split(stackARN.Resource, "/")[1]
	body, err := writeDemoTemplate(filepath.Join(dir, "create-template.json"), c)
	if err != nil {
		return nil, err
	}
	e.AWS.SetStackTemplate(c.StackID, body, nil)
	if _, err := writeDemoTemplate(filepath.Join(dir, "update-template.json"), u); err != nil {
		return nil, err
	}
	e.AWS.AddRole(awsemu.Role{ARN: demoReaderRole, Trusted: []string{demoReaderUser}, Actions: []string{
		"organizations:ListPolicies", "organizations:DescribePolicy", "organizations:ListTargetsForPolicy", "organizations:ListTagsForResource",
	}})
	fmt.Fprintf(w, "Stack %s (%s) deployed create-template.json: Custom::BackupOrgPolicy %s with the Create event's properties.\n",
		stack, c.StackID, c.LogicalResourceID)

	from, to, err := e.editOutOfBand(ctx, policyID)
	if err != nil {
		return nil, fmt.Errorf("out-of-band change: %w", err)
	}
	fmt.Fprintf(w, "Out of band, %s in the console: UpdatePolicy %s (daily retention %s -> %s days), DetachPolicy %s from %s %s.\n",
		demoAdminUser, policyID, from, to, policyID, demoDetached, e.AWS.TargetName(demoDetached))

	// The templates declare no OrgManagementAccount: the function has it
	// from ORG_MANAGEMENT_ACCOUNT, the CLI from this flag.
	common := []string{"--stack", stack, "--org-management-account", awsemu.SampleManagementAccount}
	// run returns stdout and stderr (warnings, such as a property left out
	// of the check) separately: the report shows both, JSON is stdout.
	run := func(args ...string) (stdout, stderr string, code int, err error) {
		cmd := exec.CommandContext(ctx, cli, append(args, common...)...)
		cmd.Dir = dir
		cmd.Env = e.AWS.Env(e.AWS.CredentialsFor(demoReaderUser))
		var o, eo bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &eo
		err = cmd.Run()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit) && exit.ExitCode() == 1:
			return o.String(), eo.String(), 1, nil
		case err != nil:
			return "", "", 0, fmt.Errorf("backup-policy %s: %w\n%s%s", args[0], err, o.String(), eo.String())
		}
		return o.String(), eo.String(), 0, nil
	}
	show := func(args ...string) string {
		return "$ backup-policy " + strings.Join(append(args, common...), " ")
	}

	e.AWS.ResetCalls()
	args := []string{"drift", "--template", "create-template.json"}
	out, warnings, code, err := run(args...)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "\n%s\n%s%s", show(args...), warnings, out)
	if code != 1 {
		return nil, fmt.Errorf("drift exit status %d: the out-of-band change went unseen", code)
	}
	fmt.Fprintf(w, "drift exit status 1: drift found\n")

	args = []string{"plan", "--template", "update-template.json"}
	out, warnings, code, err = run(args...)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "\n%s\n%s%s", show(args...), warnings, out)
	if code != 1 {
		return nil, fmt.Errorf("plan exit status %d: the Update would write nothing", code)
	}
	fmt.Fprintf(w, "plan exit status 1: changes to make\n")
	out, _, _, err = run(append(args, "--format", "json")...)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Resources []struct {
			Steps []struct {
				Operation string `json:"operation"`
				PolicyID  string `json:"policy_id"`
				Target    string `json:"target"`
			} `json:"steps"`
		} `json:"resources"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return nil, fmt.Errorf("plan --format json: %w\n%s", err, out)
	}
	var planned []string
	for _, r := range doc.Resources {
		for _, s := range r.Steps {
			planned = append(planned, strings.TrimSpace(strings.Join([]string{s.Operation, s.PolicyID, s.Target}, " ")))
		}
	}
	// Read-only means no write at all, not only none that succeeded.
	if writes := e.orgWrites(true); len(writes) > 0 {
		return nil, fmt.Errorf("drift and plan wrote to the organization: %v", writes)
	}
	fmt.Fprintf(w, "drift and plan made %d calls, none a write.\n", len(e.AWS.Calls()))
	return planned, nil
}

// writeDemoTemplate writes a template declaring the event's resource with
// exactly the event's properties, literally, and returns its body.
func writeDemoTemplate(path string, ev demoEvent) (string, error) {
	t := map[string]any{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Resources": map[string]any{
			ev.LogicalResourceID: map[string]any{"Type": "Custom::BackupOrgPolicy", "Properties": ev.ResourceProperties},
		},
	}
	body, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return "", err
	}
	return string(body), os.WriteFile(path, body, 0o600)
}

// editOutOfBand is an administrator shortening the daily rule's retention
// and detaching demoDetached, with the Organizations API and their own
// credentials, as the console does. It returns the retention before and
// after.
func (e *Env) editOutOfBand(ctx context.Context, policyID string) (from, to string, err error) {
	cfg, err := awsclient.Load(ctx, awsclient.Options{ConfigOptions: e.AWS.ConfigOptions(e.AWS.CredentialsFor(demoAdminUser))})
	if err != nil {
		return "", "", err
	}
	org := organizations.NewFromConfig(cfg)
	p, err := org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(policyID)})
	if err != nil {
		return "", "", err
	}
	// An edit in place, as in the console: the document keeps its key
	// order, so the drift diff shows the retention and nothing else.
	content := aws.ToString(p.Policy.Content)
	from, to = "35", "7"
	rule := strings.Index(content, `"daily":`)
	old := `"lifecycle":{"delete_after_days":{"@@assign":"` + from + `"}}`
	at := strings.Index(content[max(rule, 0):], old)
	if rule < 0 || at < 0 {
		return "", "", fmt.Errorf("policy %s: no daily rule keeping backups %s days in %s", policyID, from, content)
	}
	at += rule
	content = content[:at] + strings.Replace(old, from, to, 1) + content[at+len(old):]
	var doc any
	if err := json.Unmarshal([]byte(content), &doc); err != nil {
		return "", "", fmt.Errorf("policy %s edited: %w", policyID, err)
	}
	edited := 0
	for _, plan := range dig(doc, "plans") {
		if dig(plan, "rules", "daily", "lifecycle", "delete_after_days")["@@assign"] == to {
			edited++
		}
	}
	if edited == 0 {
		return "", "", fmt.Errorf("policy %s: the edit missed the daily rule's retention: %s", policyID, content)
	}
	if _, err := org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(policyID), Content: aws.String(content)}); err != nil {
		return "", "", err
	}
	if _, err := org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(policyID), TargetId: aws.String(demoDetached)}); err != nil {
		return "", "", err
	}
	return from, to, nil
}

// dig walks JSON objects by keys; nil when one is missing.
func dig(v any, keys ...string) map[string]any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	m, _ := v.(map[string]any)
	return m
}

// orgWrites are the call log's Organizations writes, in order, as
// "Operation policy [target]" (plan's steps spelled the same way); failed
// ones only with failed.
func (e *Env) orgWrites(failed bool) []string {
	var out []string
	for _, c := range e.AWS.CallsTo("organizations") {
		if strings.HasPrefix(c.Operation, "List") || strings.HasPrefix(c.Operation, "Describe") || (c.ErrorCode != "" && !failed) {
			continue
		}
		target := strings.NewReplacer(" -> ", " ", " -x ", " ").Replace(c.Target)
		out = append(out, strings.TrimSpace(c.Operation+" "+target))
	}
	return out
}

// comparePlan says whether the Update's writes are the plan's.
func comparePlan(w io.Writer, planned, made []string) error {
	if slices.Equal(planned, made) {
		fmt.Fprintf(w, "The Update made exactly the %d writes plan listed: %s.\n", len(made), strings.Join(made, "; "))
		return nil
	}
	fmt.Fprintf(w, "The Update's writes differ from the plan:\n  plan listed: %s\n  the Update made: %s\n", strings.Join(planned, "; "), strings.Join(made, "; "))
	return fmt.Errorf("the Update made %d writes, plan listed %d, and they differ", len(made), len(planned))
}
