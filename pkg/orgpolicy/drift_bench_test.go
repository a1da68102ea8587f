package orgpolicy_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/pkg/awsclient"
	"github.com/backup-as-code/orgbackup/pkg/orgpolicy"
)

// BenchmarkDrift counts the calls of a drift check of a stack with 100
// resources in an organization of 1,000 backup policies: the stack's 100,
// 100 of another stack (deleted, so orphaned) and 800 without ownership
// tags, listed 20 to a page as Organizations does. The budget (issue 12):
// pages(ListPolicies) + one ListTagsForResource per policy listed +
// DescribePolicy and the target pages per owned policy of the stack + one
// DescribeStacks per distinct other stack. Each operation's count per
// check is reported, and the benchmark fails over budget.
func BenchmarkDrift(b *testing.B) {
	ctx := context.Background()
	const (
		resources = 100
		others    = 100
		untagged  = 800
		pageSize  = 20
	)
	// Each resource attaches to an account of its own: Organizations
	// attaches at most 10 backup policies to a target.
	org, accounts := orgWithAccounts(resources)
	e := newEnv(b, envOptions{emu: awsemu.Options{Organization: &org, PageSize: pageSize}})
	declared := make([]orgpolicy.Declared, resources)
	for i := range declared {
		p := props(b, map[string]any{"PolicyName": fmt.Sprintf("daily-%03d", i), "PolicyTargets": []any{accounts[i]}})
		declared[i] = orgpolicy.Declared{LogicalID: fmt.Sprintf("Policy%03d", i), Properties: p}
		if _, _, err := e.resource.Handle(ctx, cfn.Event{RequestType: cfn.RequestCreate, StackID: stackID, LogicalResourceID: declared[i].LogicalID, ResourceProperties: p}); err != nil {
			b.Fatal(err)
		}
	}
	gone := e.emu.AddStack("222222222222", "us-east-1", "old-policies")
	e.emu.DeleteStack(gone)
	for i := range others {
		p := props(b, map[string]any{"PolicyName": fmt.Sprintf("old-%03d", i), "PolicyTargets": nil})
		if _, _, err := e.resource.Handle(ctx, cfn.Event{RequestType: cfn.RequestCreate, StackID: gone, LogicalResourceID: fmt.Sprintf("Old%03d", i), ResourceProperties: p}); err != nil {
			b.Fatal(err)
		}
	}
	admin := adminClient(b, e)
	for i := range untagged {
		if _, err := admin.CreatePolicy(ctx, &organizations.CreatePolicyInput{
			Name: aws.String(fmt.Sprintf("hand-made-%03d", i)), Description: aws.String(""), Type: types.PolicyTypeBackupPolicy, Content: aws.String(wantContent),
		}); err != nil {
			b.Fatal(err)
		}
	}
	if n := len(e.emu.Policies()); n != resources+others+untagged {
		b.Fatalf("%d policies", n)
	}
	cfg, err := awsclient.Load(ctx, awsclient.Options{ConfigOptions: e.emu.ConfigOptions(e.emu.CredentialsFor(readerUser))})
	if err != nil {
		b.Fatal(err)
	}
	cf := cloudformation.NewFromConfig(cfg)
	check := func() (orgpolicy.DriftReport, orgpolicy.OrphanCheck) {
		rep, err := e.reader.Drift(ctx, stackID, declared, ro)
		if err != nil {
			b.Fatal(err)
		}
		oc, err := orgpolicy.Orphans(ctx, cf, "222222222222", "us-east-1", rep.OtherStacks)
		if err != nil {
			b.Fatal(err)
		}
		return rep, oc
	}
	check() // assume the reader role once, as a warm process has it
	e.emu.ResetCalls()
	for b.Loop() {
		rep, oc := check()
		if len(rep.Resources) != resources || len(oc.Orphaned) != others {
			b.Fatalf("%d resources, %d orphans", len(rep.Resources), len(oc.Orphaned))
		}
	}
	n := float64(b.N)
	counts := map[string]int{}
	total := 0
	for _, c := range e.emu.Calls() {
		if c.Service == "organizations" || c.Service == "cloudformation" {
			counts[c.Operation]++
			total++
		}
		if c.Service == "organizations" && !strings.HasPrefix(c.Operation, "List") && !strings.HasPrefix(c.Operation, "Describe") {
			b.Fatalf("drift wrote: %s", c.Operation)
		}
	}
	policies := resources + others + untagged
	budget := (policies+pageSize-1)/pageSize + policies + resources*2 + 1
	for _, op := range []string{"ListPolicies", "ListTagsForResource", "DescribePolicy", "ListTargetsForPolicy", "DescribeStacks"} {
		b.ReportMetric(float64(counts[op])/n, op+"/op")
	}
	b.ReportMetric(float64(total)/n, "calls/op")
	b.ReportMetric(float64(budget), "budget")
	if float64(total)/n > float64(budget) {
		b.Fatalf("%.0f calls per check, over the budget of %d", float64(total)/n, budget)
	}
}
