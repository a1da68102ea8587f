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
