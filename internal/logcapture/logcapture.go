// Package logcapture collects the JSON log lines a function or handler
// writes, for tests to read back.
package logcapture

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// Buffer is an io.Writer safe for concurrent use.
type Buffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{} // closed and replaced on every write
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.written != nil {
		close(b.written)
		b.written = nil
	}
	return b.b.Write(p)
}

// Wait returns the first record for which match is true, waiting for more
// writes until ctx ends. Output piped from another process arrives a little
// after the process wrote it.
func (b *Buffer) Wait(ctx context.Context, match func(map[string]any) bool) (map[string]any, error) {
	for {
		b.mu.Lock()
		if b.written == nil {
			b.written = make(chan struct{})
		}
		ch := b.written
		b.mu.Unlock()
		recs, err := b.Records()
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if match(r) {
				return r, nil
			}
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// String returns everything written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Records decodes every line as a JSON object; a line that is not one is
// an error, since every log line must be JSON.
func (b *Buffer) Records() ([]map[string]any, error) {
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader([]byte(b.String())))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("log line is not JSON: %s", sc.Text())
		}
		out = append(out, rec)
	}
	return out, sc.Err()
}
