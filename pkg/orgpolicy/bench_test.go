package orgpolicy_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
)

// BenchmarkCreateDelete measures a Create and a Delete of a policy with n
// targets when every Organizations call takes latency, as the API does from
// Lambda. The calls are sequential by design (Organizations answers
// concurrent changes with ConcurrentModificationException), so the wall
// time should be the calls times the latency plus little else: the
// "wall/(calls*latency)" metric must stay under 1.2 (SPEC §6).
func BenchmarkCreateDelete(b *testing.B) {
	const latency = 10 * time.Millisecond
	targets := []string{
		awsemu.SampleRootID, awsemu.SampleWorkloadsOU, awsemu.SampleProdOU, awsemu.SampleDevOU, awsemu.SampleSecurityOU,
		awsemu.SampleManagementAccount, awsemu.SampleSolutionAccount, awsemu.SampleCentralBackup, awsemu.SampleProdAccount, awsemu.SampleDevAccount,
	}
	for _, n := range []int{1, 3, 10} {
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			e := newEnv(b, envOptions{emu: awsemu.Options{PageSize: 20}})
			list := make([]any, n)
			for i := range n {
				list[i] = targets[i]
			}
			p := props(b, map[string]any{"PolicyTargets": list})
			// Warm the role credentials, as a warm Lambda has them.
			id := e.create(b, p).PhysicalResourceID
			mustSucceed(b, e.do(b, request{typ: cfn.RequestDelete, physicalID: id, props: p}))
			e.emu.InjectFault(awsemu.Fault{Service: "organizations", Latency: latency})
			e.emu.ResetCalls()
			b.ResetTimer()
			for b.Loop() {
				id := e.create(b, p).PhysicalResourceID
				mustSucceed(b, e.do(b, request{typ: cfn.RequestDelete, physicalID: id, props: p}))
			}
			calls := e.emu.CountCalls("organizations", "")
			ideal := time.Duration(calls) * latency
			b.ReportMetric(float64(calls)/float64(b.N), "org-calls/op")
			b.ReportMetric(float64(b.Elapsed())/float64(ideal), "wall/(calls*latency)")
		})
	}
}

// BenchmarkThousandAttachments measures what the function and the emulator
// add to each AttachPolicy of a Create with 1,000 account targets, with no
// injected latency: the "ms/attach" metric is the Create's wall time per
// call. The function's timeout must cover 1,000 times the real API's
// latency plus this (README, "Many targets").
func BenchmarkThousandAttachments(b *testing.B) {
	org, accounts := orgWithAccounts(1000)
	e := newEnv(b, envOptions{emu: awsemu.Options{Organization: &org, PageSize: 20}, deadline: 10 * time.Minute})
	p := props(b, map[string]any{"PolicyTargets": anyList(accounts)})
	// Warm the role credentials, as a warm Lambda has them.
	warm := props(b, map[string]any{"PolicyTargets": nil})
	mustSucceed(b, e.do(b, request{typ: cfn.RequestDelete, physicalID: e.create(b, warm).PhysicalResourceID, props: warm}))
	var creating time.Duration
	calls := 0
	for b.Loop() {
		e.emu.ResetCalls()
		start := time.Now()
		id := e.create(b, p).PhysicalResourceID
		creating += time.Since(start)
		calls += e.emu.CountCalls("organizations", "")
		mustSucceed(b, e.do(b, request{typ: cfn.RequestDelete, physicalID: id, props: p}))
	}
	b.ReportMetric(float64(calls)/float64(b.N), "org-calls/create")
	b.ReportMetric(float64(creating)/float64(time.Millisecond)/float64(calls), "ms/attach")
}
