package awsemu

import (
	"encoding/json"
	"net/http"
	"strings"
)

// jsonOp handles one awsJson1_1 operation: the request body in, the output
// shape (marshaled with its wire member names) or an error out.
type jsonOp func(c *call, body []byte) (any, *APIError)

// jsonProtocol is the awsJson1_1 protocol: POST /, X-Amz-Target
// "<prefix>.<Operation>", JSON bodies, errors as {"__type": code}.
type jsonProtocol struct {
	prefix  string
	ops     map[string]jsonOp
	invalid func(expired bool) *APIError
}

func newJSONProtocol(prefix string, ops map[string]jsonOp, invalid func(bool) *APIError) *jsonProtocol {
	return &jsonProtocol{prefix: prefix, ops: ops, invalid: invalid}
}

func (p *jsonProtocol) operation(r *http.Request, _ []byte) (string, *APIError) {
	prefix, op, ok := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	if !ok || prefix != p.prefix || p.ops[op] == nil {
		return op, clientError("UnknownOperationException", "Unknown operation %q", r.Header.Get("X-Amz-Target"))
	}
	return op, nil
}

func (p *jsonProtocol) serve(c *call, _ *http.Request, body []byte) (responder, *APIError) {
	out, aerr := p.ops[c.op](c, body)
	if aerr != nil {
		return nil, aerr
	}
	return jsonResponse(out, "application/x-amz-json-1.1")
}

// jsonResponse encodes an operation's output for the JSON protocols.
func jsonResponse(out any, contentType string) (responder, *APIError) {
	data, err := json.Marshal(out)
	if err != nil {
		return nil, &APIError{Code: "InternalFailure", Message: err.Error(), Status: http.StatusInternalServerError}
	}
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(data)
	}, nil
}

func (p *jsonProtocol) writeError(w http.ResponseWriter, c *call, e *APIError) {
	writeJSONError(w, c, e, "application/x-amz-json-1.1", map[string]string{"__type": e.Code, "Message": e.Message})
}

// writeJSONError writes an error the way the JSON protocols do: the code in
// X-Amzn-ErrorType and in the body, with the exception's extra members.
func writeJSONError(w http.ResponseWriter, c *call, e *APIError, contentType string, body map[string]string) {
	for k, v := range e.Fields {
		body[k] = v
	}
	data, _ := json.Marshal(body)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.Header().Set("X-Amzn-RequestId", c.requestID)
	w.WriteHeader(e.Status)
	_, _ = w.Write(data)
}

func (p *jsonProtocol) invalidToken(expired bool) *APIError { return p.invalid(expired) }

func unrecognizedClientJSON(expired bool) *APIError {
	if expired {
		return clientError("ExpiredTokenException", "The security token included in the request is expired")
	}
	return clientError("UnrecognizedClientException", "The security token included in the request is invalid.")
}

// decodeJSON decodes an operation's input; a body that is not the input
// shape is a SerializationException, as the services answer.
func decodeJSON(body []byte, v any) *APIError {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return clientError("SerializationException", "%s", err.Error())
	}
	return nil
}
