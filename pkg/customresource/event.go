package customresource

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"

	"github.com/aws/aws-lambda-go/cfn"
)

// DecodeEvent decodes a custom-resource request. When the payload is not a
// valid event but still carries the fields a response needs (ResponseURL,
// RequestId, StackId, LogicalResourceId), it returns them with the error, so
// the request can still be answered FAILED instead of left to time out.
func DecodeEvent(raw []byte) (cfn.Event, error) {
	var ev cfn.Event
	err := json.Unmarshal(raw, &ev)
	if err == nil {
		if ev.ResponseURL == "" || ev.RequestID == "" {
			return ev, fmt.Errorf("malformed custom resource event: ResponseURL and RequestId are required")
		}
		switch ev.RequestType {
		case cfn.RequestCreate, cfn.RequestUpdate, cfn.RequestDelete:
			return ev, nil
		}
		return ev, fmt.Errorf("malformed custom resource event: RequestType %q: expected Create, Update or Delete", ev.RequestType)
	}
	// Keep whatever identifies the request.
	var ids struct {
		RequestType        any
		RequestID          any `json:"RequestId"`
		ResponseURL        any
		StackID            any `json:"StackId"`
		LogicalResourceID  any `json:"LogicalResourceId"`
		PhysicalResourceID any `json:"PhysicalResourceId"`
	}
	_ = json.Unmarshal(raw, &ids)
	str := func(v any) string { s, _ := v.(string); return s }
	ev = cfn.Event{
		RequestType:        cfn.RequestType(str(ids.RequestType)),
		RequestID:          str(ids.RequestID),
		ResponseURL:        str(ids.ResponseURL),
		StackID:            str(ids.StackID),
		LogicalResourceID:  str(ids.LogicalResourceID),
		PhysicalResourceID: str(ids.PhysicalResourceID),
	}
	return ev, fmt.Errorf("malformed custom resource event: %w", err)
}

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
// exists, before the work on it is finished. If a Create then fails or
// times out, the FAILED response carries this ID, so CloudFormation's
// rollback sends a Delete for what was created instead of leaving it behind.
// A failed Update keeps its old ID, and its Reason names the reported one.
// An empty id withdraws the report (the resource was removed again).
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
