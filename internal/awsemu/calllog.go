package awsemu

import (
	"slices"
	"sync"
	"time"
)

// Call is one request the emulator served, in the order the requests
// arrived.
type Call struct {
	// Seq orders calls by arrival.
	Seq int
	// Service is the SigV4 signing name ("organizations", "sts", "s3"), or
	// "cloudformation-response" for custom-resource response uploads.
	Service string
	// Operation is the API operation name, e.g. "CreatePolicy".
	Operation string
	// Caller is the ARN of the principal whose access key signed the
	// request; empty for unsigned requests.
	Caller string
	// ErrorCode is the error returned, empty on success.
	ErrorCode string
	// Injected is true when the error or latency came from an injected
	// fault rather than the service's own rules.
	Injected bool
	// Target is a short description of the resource the call acted on
	// (a policy and target ID for AttachPolicy, a bucket/key for S3), for
	// readable assertions and demo output.
	Target string
	Start  time.Time
	End    time.Time
}

// callLog records calls. Its zero value is ready to use.
type callLog struct {
	mu    sync.Mutex
	seq   int
	calls []Call
}

func (l *callLog) begin() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	return l.seq
}

func (l *callLog) add(c Call) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, _ := slices.BinarySearchFunc(l.calls, c.Seq, func(a Call, seq int) int { return a.Seq - seq })
	l.calls = slices.Insert(l.calls, i, c)
}

// Calls returns every call recorded so far, in arrival order.
func (e *Emulator) Calls() []Call {
	e.log.mu.Lock()
	defer e.log.mu.Unlock()
	return slices.Clone(e.log.calls)
}

// CallsTo returns the calls to one service, in arrival order.
func (e *Emulator) CallsTo(service string) []Call {
	var out []Call
	for _, c := range e.Calls() {
		if c.Service == service {
			out = append(out, c)
		}
	}
	return out
}

// CountCalls counts the calls to service and operation; an empty operation
// counts every call to the service.
func (e *Emulator) CountCalls(service, operation string) int {
	n := 0
	for _, c := range e.Calls() {
		if c.Service == service && (operation == "" || c.Operation == operation) {
			n++
		}
	}
	return n
}

// ResetCalls forgets the recorded calls, so a test can count the calls of
// one step only.
func (e *Emulator) ResetCalls() {
	e.log.mu.Lock()
	defer e.log.mu.Unlock()
	e.log.calls = nil
}
