// Package runtimeapi is a local Lambda Runtime API: it starts a function's
// bootstrap binary as Lambda does (AWS_LAMBDA_RUNTIME_API and the standard
// environment) and hands it invocations, so the real binary can be driven
// by tests, benchmarks and the demo without AWS.
//
// Only the parts of the API the runtime client in aws-lambda-go uses are
// served: /runtime/invocation/next, /response, /error and /init/error
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
package runtimeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const prefix = "/2018-06-01/runtime/"

// Result is the outcome of one invocation.
type Result struct {
	// RequestID is the invocation's Lambda request ID (awsRequestId).
	RequestID string
	// Payload is the function's response, when it succeeded.
	Payload []byte
	// Error is the function's error, when it failed.
	Error *FunctionError
}

// FunctionError is an error the function reported (a returned error or a
// panic), as the runtime client posts it.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// ErrTimeout is returned when the function did not answer before its
// deadline; Lambda would report "Task timed out".
var ErrTimeout = errors.New("task timed out")

// Server serves the Runtime API to one function process.
type Server struct {
	// FunctionARN is sent as Lambda-Runtime-Invoked-Function-Arn.
	FunctionARN string

	listener net.Listener
	server   *http.Server
	queue    chan *invocation

	mu        sync.Mutex
	pending   map[string]*invocation
	n         int
	firstNext time.Time
	initErr   *FunctionError
	initDone  chan struct{}
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	traceID  string
	done     chan Result
}

// Start serves the Runtime API on a free loopback port.
func Start() (*Server, error) {
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtimeapi: %w", err)
	}
	s := &Server{
		FunctionARN: "arn:aws:lambda:us-east-1:222222222222:function:local",
		listener:    ln,
		queue:       make(chan *invocation),
		pending:     map[string]*invocation{},
		initDone:    make(chan struct{}),
	}
	s.server = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.server.Serve(ln) }()
	return s, nil
}

// Address is the value for AWS_LAMBDA_RUNTIME_API.
func (s *Server) Address() string { return s.listener.Addr().String() }

// Close stops serving.
func (s *Server) Close() error { return s.server.Close() }

// Ready is closed when the function first asks for an invocation (its
// initialization is over) or reports an init error.
func (s *Server) Ready() <-chan struct{} { return s.initDone }

// FirstRequest is when the function first asked for an invocation.
func (s *Server) FirstRequest() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstNext
}

// InitError is the error the function reported while starting, if any.
func (s *Server) InitError() *FunctionError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.initErr
}

// Invoke hands payload to the function with timeout as its remaining time
// and waits for the answer. It returns ErrTimeout when the function does
// not answer within timeout, and ctx's error if ctx ends first.
func (s *Server) Invoke(ctx context.Context, payload []byte, timeout time.Duration) (Result, error) {
	s.mu.Lock()
	s.n++
	inv := &invocation{
		id:       fmt.Sprintf("8f5c2d6e-0000-4000-8000-%012d", s.n),
		payload:  payload,
		deadline: time.Now().Add(timeout),
		traceID:  fmt.Sprintf("Root=1-%08x-%024d;Parent=%016d;Sampled=1", time.Now().Unix(), s.n, s.n),
		done:     make(chan Result, 1),
	}
	s.pending[inv.id] = inv
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, inv.id)
		s.mu.Unlock()
	}()

	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	select {
	case s.queue <- inv:
	case <-timer.C:
		return Result{}, ErrTimeout
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	select {
	case r := <-inv.done:
		return r, nil
	case <-timer.C:
		return Result{}, ErrTimeout
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, prefix)
	switch {
	case r.Method == http.MethodGet && path == "invocation/next":
		s.next(w, r)
	case r.Method == http.MethodPost && path == "init/error":
		var fe FunctionError
		_ = json.NewDecoder(r.Body).Decode(&fe)
		s.mu.Lock()
		s.initErr = &fe
		s.mu.Unlock()
		s.markReady()
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "invocation/"):
		id, kind, _ := strings.Cut(strings.TrimPrefix(path, "invocation/"), "/")
		s.complete(w, r, id, kind)
	default:
		http.Error(w, "unknown runtime API path", http.StatusNotFound)
	}
}

func (s *Server) markReady() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.firstNext.IsZero() {
		s.firstNext = time.Now()
		close(s.initDone)
	}
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.markReady()
	select {
	case inv := <-s.queue:
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", s.FunctionARN)
		h.Set("Lambda-Runtime-Trace-Id", inv.traceID)
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
	case <-r.Context().Done():
	}
}

func (s *Server) complete(w http.ResponseWriter, r *http.Request, id, kind string) {
	s.mu.Lock()
	inv := s.pending[id]
	s.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	if inv == nil {
		http.Error(w, "unknown or finished invocation "+id, http.StatusBadRequest)
		return
	}
	switch kind {
	case "response":
		inv.done <- Result{RequestID: id, Payload: body}
	case "error":
		fe := &FunctionError{}
		if err := json.Unmarshal(body, fe); err != nil {
			fe.Message = string(body)
		}
		inv.done <- Result{RequestID: id, Error: fe}
	default:
		http.Error(w, "unknown completion "+kind, http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
