package awsemu

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// FaultKind selects the error a fault injects; each service renders it with
// its own real error code.
type FaultKind int

const (
	// FaultNone injects no error (use with Latency alone).
	FaultNone FaultKind = iota
	// FaultThrottle is the service's throttling error (Organizations
	// TooManyRequestsException, STS Throttling, S3 SlowDown).
	FaultThrottle
	// FaultConcurrentModification is Organizations'
	// ConcurrentModificationException.
	FaultConcurrentModification
	// FaultPolicyChangesInProgress is Organizations'
	// PolicyChangesInProgressException.
	FaultPolicyChangesInProgress
	// FaultFinalizingOrganization is Organizations'
	// FinalizingOrganizationException.
	FaultFinalizingOrganization
	// FaultInternalError is an HTTP 500 with the service's internal error
	// code (Organizations ServiceException, STS InternalFailure, S3
	// InternalError).
	FaultInternalError
	// FaultAccessDenied is the service's access-denied error.
	FaultAccessDenied
)

// Fault describes errors or latency to inject into matching calls.
type Fault struct {
	// Service and Operation select the calls; empty matches any.
	Service   string
	Operation string
	// Kind is the error to return; FaultNone returns none.
	Kind FaultKind
	// Latency is added before the call is handled. The wait ends early if
	// the client gives up on the request.
	Latency time.Duration
	// First limits the fault to the first k matching calls; 0 means every
	// matching call.
	First int
	// Probability, when above 0, applies the fault to that fraction of the
	// matching calls (drawn from the emulator's seeded generator).
	Probability float64
	// AfterHandling lets the operation take effect and returns the error
	// afterwards, like a response lost on the way back to the client.
	AfterHandling bool
}

type activeFault struct {
	Fault
	matched int
}

type faultSet struct {
	mu     sync.Mutex
	rng    *rand.Rand
	faults []*activeFault
}

// InjectFault adds a fault and returns a function that removes it.
func (e *Emulator) InjectFault(f Fault) (remove func()) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	af := &activeFault{Fault: f}
	e.faults.faults = append(e.faults.faults, af)
	return func() {
		e.faults.mu.Lock()
		defer e.faults.mu.Unlock()
		for i, x := range e.faults.faults {
			if x == af {
				e.faults.faults = append(e.faults.faults[:i], e.faults.faults[i+1:]...)
				return
			}
		}
	}
}

// ClearFaults removes every injected fault.
func (e *Emulator) ClearFaults() {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.faults = nil
}

// pick returns the faults that apply to this call: the latency of every
// matching fault adds up, and the first matching error wins.
func (s *faultSet) pick(service, operation string) (latency time.Duration, chosen *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if (f.Service != "" && f.Service != service) || (f.Operation != "" && f.Operation != operation) {
			continue
		}
		if f.First > 0 && f.matched >= f.First {
			continue
		}
		if f.Probability > 0 && s.rng.Float64() >= f.Probability {
			continue
		}
		f.matched++
		latency += f.Latency
		if f.Kind != FaultNone && chosen == nil {
			c := f.Fault
			chosen = &c
		}
	}
	return latency, chosen
}

// faultError renders a fault kind as the service's own error.
func faultError(service string, kind FaultKind) *APIError {
	switch kind {
	case FaultThrottle:
		switch service {
		case "s3":
			return withStatus(clientError("SlowDown", "Please reduce your request rate."), http.StatusServiceUnavailable)
		case "sts", "cloudformation":
			// Both query-protocol services answer Throttling (the
			// CloudFormation SDK model's retryable Throttling code).
			return clientError("Throttling", "Rate exceeded")
		case "tagging":
			return clientError("ThrottledException", "Rate exceeded")
		case "backup":
			return clientError("ThrottlingException", "Rate exceeded")
		case "ec2":
			// EC2 API reference, "Error codes": RequestLimitExceeded.
			return clientError("RequestLimitExceeded", "Request limit exceeded.")
		default:
			return clientError("TooManyRequestsException", "You have sent too many requests in too short a period of time. The quota helps protect against denial-of-service attacks. Try again later.")
		}
	case FaultConcurrentModification:
		return clientError("ConcurrentModificationException", "The target of the operation is currently being modified by a different request. Try again later.")
	case FaultPolicyChangesInProgress:
		return clientError("PolicyChangesInProgressException", "Changes to the effective policy are in progress, and its contents can't be returned. Try the operation again later.")
	case FaultFinalizingOrganization:
		return clientError("FinalizingOrganizationException", "AWS Organizations could not perform the operation because your organization hasn't finished initializing. Try again later.")
	case FaultInternalError:
		e := &APIError{Status: http.StatusInternalServerError, Message: "We encountered an internal error. Please try again."}
		switch service {
		case "s3":
			e.Code = "InternalError"
		case "sts":
			e.Code = "InternalFailure"
		case "tagging":
			e.Code = "InternalServiceException"
		case "backup":
			e.Code = "ServiceUnavailableException"
		case "ec2":
			e.Code = "InternalError"
		default:
			e.Code = "ServiceException"
		}
		return e
	case FaultAccessDenied:
		switch service {
		case "sts", "s3":
			return withStatus(clientError("AccessDenied", "Access denied (injected fault)."), http.StatusForbidden)
		case "organizations", "cloudformation":
			// Organizations answers AccessDeniedException with HTTP 400
			// (Organizations API Reference, each action's Errors), and so
			// does CloudFormation (API Reference, "Common Errors").
			return clientError("AccessDeniedException", "Access denied (injected fault).")
		case "ec2":
			// EC2 API reference, "Error codes": UnauthorizedOperation.
			return withStatus(clientError("UnauthorizedOperation", "You are not authorized to perform this operation (injected fault)."), http.StatusForbidden)
		}
		return withStatus(clientError("AccessDeniedException", "Access denied (injected fault)."), http.StatusForbidden)
	}
	return nil
}

// clientClosedRequest is the call-log code of a call whose client gave up
// while injected latency held it (nginx's 499: no AWS error reaches anyone).
const clientClosedRequest = "ClientClosedRequest"

// injectFaults picks the faults of one call (selected by service and
// operation) and waits out their latency. before is the error to answer
// instead of handling the call: the fault's, or clientClosedRequest when
// the client gave up during the wait. after is the error to answer instead
// of the response once the call has taken effect (AfterHandling). Errors
// are rendered as errorService's own.
func (e *Emulator) injectFaults(ctx context.Context, service, operation, errorService string) (before, after *APIError) {
	latency, fault := e.faults.pick(service, operation)
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return &APIError{Code: clientClosedRequest, Status: 499, Message: "The client closed the request during injected latency."}, nil
		}
	}
	switch {
	case fault == nil:
		return nil, nil
	case fault.AfterHandling:
		return nil, faultError(errorService, fault.Kind)
	default:
		return faultError(errorService, fault.Kind), nil
	}
}
