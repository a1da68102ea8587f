package localenv

import (
	"bytes"
	"context"
	"net"
	"sync"
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
