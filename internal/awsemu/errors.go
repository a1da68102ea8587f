package awsemu

import (
	"fmt"
	"net/http"
)

// APIError is an error as a service returns it on the wire: a code the SDK
// maps to its typed exception, a message, an HTTP status and any extra
// members of the exception shape (such as Organizations' Reason).
type APIError struct {
	Code    string
	Message string
	Status  int
	// Fields are extra members serialized next to the message.
	Fields map[string]string
	// Sender is true for client faults (query protocol's Type element).
	Sender bool
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func clientError(code, format string, args ...any) *APIError {
	return &APIError{Code: code, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest, Sender: true}
}

func withReason(e *APIError, reason string) *APIError {
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	e.Fields["Reason"] = reason
	return e
}

func withStatus(e *APIError, status int) *APIError {
	e.Status = status
	return e
}

// notModelled is the emulator's own refusal of a request AWS would serve
// but awsemu does not model (a filter, say): HTTP 501 with a code no AWS
// service returns, so that neither a test nor the code under test can
// mistake it for AWS behaviour.
func notModelled(format string, args ...any) *APIError {
	return &APIError{Code: "AwsemuNotModelled", Message: fmt.Sprintf(format, args...), Status: http.StatusNotImplemented, Sender: true}
}
