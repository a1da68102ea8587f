package customresource

import (
	"encoding/json"
	"fmt"

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
