package awsemu

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// responsePathPrefix is where the emulator plays the S3 bucket behind the
// presigned ResponseURL that CloudFormation puts in custom-resource events.
const responsePathPrefix = "/cloudformation-response/"

// ResponseService is the call-log service name of response uploads.
const ResponseService = "cloudformation-response"

// Upload is one custom-resource response PUT to a ResponseURL.
type Upload struct {
	Body     []byte
	Received time.Time
}

type responseStore struct {
	mu      sync.Mutex
	uploads map[string][]Upload
	waiters map[string][]chan struct{}
}

func newResponseStore() *responseStore {
	return &responseStore{uploads: map[string][]Upload{}, waiters: map[string][]chan struct{}{}}
}

// ResponseURL returns a presigned-looking URL for the response to a request;
// name is any unique name, such as the event's RequestId.
func (e *Emulator) ResponseURL(name string) string {
	return e.URL() + responsePathPrefix + name + "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=7200&X-Amz-Signature=emu"
}

// Uploads returns every response uploaded under name, in arrival order.
func (e *Emulator) Uploads(name string) []Upload {
	s := e.responses
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Upload(nil), s.uploads[name]...)
}

// WaitUpload blocks until a response has been uploaded under name or ctx
// ends, and returns the first upload.
func (e *Emulator) WaitUpload(ctx context.Context, name string) (Upload, error) {
	s := e.responses
	s.mu.Lock()
	if u := s.uploads[name]; len(u) > 0 {
		s.mu.Unlock()
		return u[0], nil
	}
	ch := make(chan struct{})
	s.waiters[name] = append(s.waiters[name], ch)
	s.mu.Unlock()
	select {
	case <-ch:
		return e.Uploads(name)[0], nil
	case <-ctx.Done():
		return Upload{}, ctx.Err()
	}
}

// serveResponseUpload accepts the PUT of a custom-resource response. Like the
// presigned S3 URL it stands for, it rejects a Content-Type header (not part
// of the signature), and it goes through the same fault injection and call
// log as the services, so tests can make the URL fail.
func (e *Emulator) serveResponseUpload(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, responsePathPrefix)
	seq := e.log.begin()
	rec := Call{Seq: seq, Service: ResponseService, Operation: "PutResponse", Target: name, Start: time.Now()}
	fail := func(status int, code string, injected bool) {
		rec.ErrorCode, rec.Injected, rec.End = code, injected, time.Now()
		e.log.add(rec)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "<Error><Code>"+code+"</Code></Error>")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		fail(http.StatusBadRequest, "IncompleteBody", false)
		return
	}
	if r.Method != http.MethodPut {
		fail(http.StatusMethodNotAllowed, "MethodNotAllowed", false)
		return
	}
	if r.Header.Get("Content-Type") != "" {
		fail(http.StatusForbidden, "SignatureDoesNotMatch", false)
		return
	}
	// The ResponseURL is S3's: faults render as S3 errors.
	before, after := e.injectFaults(r.Context(), ResponseService, "PutResponse", "s3")
	if before != nil {
		fail(before.Status, before.Code, true)
		return
	}
	s := e.responses
	s.mu.Lock()
	s.uploads[name] = append(s.uploads[name], Upload{Body: body, Received: time.Now()})
	waiters := s.waiters[name]
	delete(s.waiters, name)
	s.mu.Unlock()
	for _, ch := range waiters {
		close(ch)
	}
	if after != nil {
		fail(after.Status, after.Code, true)
		return
	}
	rec.End = time.Now()
	e.log.add(rec)
	w.WriteHeader(http.StatusOK)
}
