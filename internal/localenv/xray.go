package localenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"time"
)

// xrayDaemon stands in for the X-Ray daemon Lambda runs next to a function:
// it receives the UDP segment documents the X-Ray SDK emits.
type xrayDaemon struct {
	conn net.PacketConn

	mu       sync.Mutex
	segments []string
}

func startXRayDaemon() (*xrayDaemon, error) {
	conn, err := new(net.ListenConfig).ListenPacket(context.Background(), "udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d := &xrayDaemon{conn: conn}
	go d.receive()
	return d, nil
}

func (d *xrayDaemon) receive() {
	buf := make([]byte, 64<<10)
	for {
		n, _, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		// Each datagram is a header line, then one segment document.
		_, doc, _ := bytes.Cut(buf[:n], []byte("\n"))
		d.mu.Lock()
		d.segments = append(d.segments, string(doc))
		d.mu.Unlock()
	}
}

func (d *xrayDaemon) address() string { return d.conn.LocalAddr().String() }

func (d *xrayDaemon) close() { _ = d.conn.Close() }

// Segments returns the X-Ray segment documents the function emitted.
func (e *Env) Segments() []string {
	e.xray.mu.Lock()
	defer e.xray.mu.Unlock()
	return append([]string(nil), e.xray.segments...)
}

// sdkCalls counts the calls in the emulator's log that the function made
// with the AWS SDK, which the X-Ray SDK traces: all but the response to
// CloudFormation, a plain HTTPS PUT to a presigned URL.
func (e *Env) sdkCalls() int {
	n := 0
	for _, c := range e.AWS.Calls() {
		if c.Service != "cloudformation-response" {
			n++
		}
	}
	return n
}

// segmentReport says what the function's X-Ray documents were: one
// subsegment per AWS SDK call (Lambda records each invocation's segment
// itself, so the function sends only subsegments). They travel as UDP
// datagrams, so the last may still be on its way when the demo asks:
// it waits up to a second for as many as calls were made.
// untraced, when set, names what the function calls without the SDK.
func (e *Env) segmentReport(ctx context.Context, who string, calls int, untraced string) string {
	deadline := time.Now().Add(time.Second)
	n := len(e.Segments())
	for n < calls && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
		n = len(e.Segments())
	}
	if n == calls {
		if untraced != "" {
			untraced = "; " + untraced + " is not traced"
		}
		return fmt.Sprintf("X-Ray: %s sent %d subsegments, one per AWS SDK call it made (the invocation segments are Lambda's own%s).", who, n, untraced)
	}
	return fmt.Sprintf("X-Ray: %s made %d AWS SDK calls, and %d subsegments (one per call) arrived; X-Ray's UDP is best effort, as with the real daemon.", who, calls, n)
}
