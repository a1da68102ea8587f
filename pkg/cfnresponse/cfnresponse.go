// Package cfnresponse is the CloudFormation custom-resource response body:
// how it is built and encoded, and its 4,096-byte limit. The handler that
// sends it and a resource that must know beforehand whether its attributes
// fit use the same code, so a size computed here is the size sent.
package cfnresponse

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/cfn"
)

// MaxBytes is CloudFormation's limit on a custom-resource response body
// ("Response object is too long" above it).
const MaxBytes = 4096

const truncationMark = " …[truncated]… "

// Success is the SUCCESS response to event for the resource physicalID with
// attributes data.
func Success(event cfn.Event, physicalID string, data map[string]any) *cfn.Response {
	resp := cfn.NewResponse(&event)
	resp.Status = cfn.StatusSuccess
	resp.PhysicalResourceID = physicalID
	resp.Data = data
	return resp
}

// SuccessSize is the size in bytes of the body Encode makes of
// Success(event, physicalID, data). A resource whose attributes grow with
// its input measures them with this before it changes anything: a response
// over MaxBytes is refused, and the request fails after the work is done.
func SuccessSize(event cfn.Event, physicalID string, data map[string]any) (int, error) {
	body, err := marshal(Success(event, physicalID, data))
	if err != nil {
		return 0, fmt.Errorf("encoding the response to request %s: %w", event.RequestID, err)
	}
	return len(body), nil
}

// Encode is the body of r, an error if it exceeds MaxBytes.
func Encode(r *cfn.Response) ([]byte, error) {
	body, err := marshal(r)
	if err == nil && len(body) > MaxBytes {
		err = fmt.Errorf("response of %d bytes exceeds %d", len(body), MaxBytes)
	}
	return body, err
}

// EncodeWithReason sets r.Reason to reason followed by suffix, with the
// middle of reason cut until the body fits in MaxBytes, and returns the
// body.
func EncodeWithReason(r *cfn.Response, reason, suffix string) ([]byte, error) {
	return fitReason(r, reason, suffix, MaxBytes)
}

// marshal encodes a response without HTML escaping, which would only make
// the body longer.
func marshal(r *cfn.Response) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// fitReason sets r.Reason to reason followed by suffix, cutting the middle
// of reason until the body fits in limit bytes. Go errors read
// "operation: operation: root cause", so the start (what was being done)
// and the end (why it failed) are both kept.
func fitReason(r *cfn.Response, reason, suffix string, limit int) ([]byte, error) {
	r.Reason = reason + suffix
	body, err := marshal(r)
	if err != nil || len(body) <= limit {
		return body, err
	}
	runes := []rune(reason)
	build := func(keep int) string {
		head := keep / 3
		tail := keep - head
		return string(runes[:head]) + truncationMark + string(runes[len(runes)-tail:]) + suffix
	}
	lo, hi := 0, len(runes)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		r.Reason = build(mid)
		b, err := marshal(r)
		if err != nil {
			return nil, err
		}
		if len(b) <= limit {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	r.Reason = build(lo)
	body, err = marshal(r)
	if err != nil {
		return nil, err
	}
	if len(body) > limit {
		return nil, fmt.Errorf("response of %d bytes does not fit in %d even without a reason", len(body), limit)
	}
	return body, nil
}
