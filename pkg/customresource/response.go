package customresource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
)

// MaxResponseBytes is CloudFormation's limit on a custom-resource response
// body.
const MaxResponseBytes = 4096

const truncationMark = " …[truncated]… "

// encode marshals a response without HTML escaping, which would only make
// the body longer.
func encode(r *cfn.Response) ([]byte, error) {
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
	body, err := encode(r)
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
		b, err := encode(r)
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
	body, err = encode(r)
	if err != nil {
		return nil, err
	}
	if len(body) > limit {
		return nil, fmt.Errorf("response of %d bytes does not fit in %d even without a reason", len(body), limit)
	}
	return body, nil
}

// Doer sends HTTP requests; *http.Client is one.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// sender delivers a response body to the presigned ResponseURL.
type sender struct {
	client      Doer
	maxAttempts int
	baseDelay   time.Duration
	maxDelay    time.Duration
}

// errPermanent marks a PUT failure that retrying cannot fix (4xx).
var errPermanent = errors.New("permanent failure")

// send PUTs body to url, retrying network errors and 5xx with jittered
// exponential backoff until it succeeds, attempts run out or ctx ends. It
// returns the number of attempts made.
func (s *sender) send(ctx context.Context, url string, body []byte) (int, error) {
	var lastErr error
	for attempt := 1; ; attempt++ {
		lastErr = s.put(ctx, url, body)
		if lastErr == nil {
			return attempt, nil
		}
		if errors.Is(lastErr, errPermanent) || attempt >= s.maxAttempts {
			return attempt, lastErr
		}
		delay := min(s.maxDelay, s.baseDelay<<(attempt-1))
		delay = delay/2 + rand.N(delay/2+1)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return attempt, fmt.Errorf("%w (gave up: %w)", lastErr, ctx.Err())
		}
	}
}

func (s *sender) put(ctx context.Context, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: building request: %w", errPermanent, err)
	}
	// The presigned URL is signed without a content type; sending one makes
	// S3 answer SignatureDoesNotMatch.
	req.Header.Del("Content-Type")
	req.ContentLength = int64(len(body))
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("response URL answered %d: %s", resp.StatusCode, msg)
	default:
		return fmt.Errorf("%w: response URL answered %d: %s", errPermanent, resp.StatusCode, msg)
	}
}
