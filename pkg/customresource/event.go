package customresource

import (
	"context"
	"log/slog"
	"sync"
)

type loggerKey struct{}

type stateKey struct{}

// requestState is what a resource function reports while it works.
type requestState struct {
	mu         sync.Mutex
	physicalID string
}

// Logger returns the request's logger, which carries the request, stack and
// logical resource IDs on every line; slog.Default outside a request.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// SetPhysicalResourceID records the physical ID of a resource as soon as it
// exists, before the work on it is finished. If the request then fails or
// times out, the FAILED response carries this ID, so CloudFormation's
// rollback sends a Delete for what was created instead of leaving it behind.
func SetPhysicalResourceID(ctx context.Context, id string) {
	if s, ok := ctx.Value(stateKey{}).(*requestState); ok {
		s.mu.Lock()
		s.physicalID = id
		s.mu.Unlock()
	}
}

func (s *requestState) reported() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.physicalID
}
