package customresource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"
)

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
