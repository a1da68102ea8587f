package awsemu

import (
	"encoding/json"
	"os"
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
	// Actions are the IAM actions the call needs: the operation's own
	// (s3:GetObjectVersion for a GetObject of a version) and those a
	// service checks on the caller's behalf (ec2:CreateTags for a
	// TagResources on a volume).
	Actions []string
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
	// file, when set, receives every call as a JSON line (see
	// CallLogEnv).
	file *os.File
}

// CallLogEnv names an environment variable: when set to a path, every
// emulator in the process appends its calls there as JSON lines, so that a
// check run after the whole test suite sees every call the code made (the
// IAM check of the templates does).
const CallLogEnv = "AWSEMU_CALL_LOG"

// LoggedCall is a line of the call log file.
type LoggedCall struct {
	Service   string   `json:"service"`
	Operation string   `json:"operation"`
	Caller    string   `json:"caller"`
	Actions   []string `json:"actions"`
	ErrorCode string   `json:"errorCode,omitempty"`
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
	if l.file != nil && c.Caller != "" {
		line, _ := json.Marshal(LoggedCall{c.Service, c.Operation, c.Caller, c.Actions, c.ErrorCode})
		// One write per line: appends from concurrent test processes
		// do not interleave.
		_, _ = l.file.Write(append(line, '\n'))
	}
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
