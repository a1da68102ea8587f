package awsemu

import (
	"net/http"
	"net/url"
	"strings"
)

// restRoute maps a method and a path pattern ("/restore-jobs/{id}") to an
// operation of a restJson1 service.
type restRoute struct {
	method, pattern, op string
	handle              restOp
}

// restOp handles one restJson1 operation: the path labels, query and body
// in, the output shape out.
type restOp func(c *call, req restRequest) (any, *APIError)

type restRequest struct {
	labels map[string]string
	query  url.Values
	body   []byte
}

// restJSONProtocol is AWS restJson1: operations chosen by method and path,
// inputs in labels, query and JSON body, errors as {"__type", "Message"}
// with X-Amzn-ErrorType.
type restJSONProtocol struct {
	routes  []restRoute
	invalid func(expired bool) *APIError
}

func (p *restJSONProtocol) match(r *http.Request) (restRoute, map[string]string, bool) {
	// Labels are matched on the escaped path: an ARN label arrives with
	// its slashes escaped and must stay one segment.
	parts := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	for _, rt := range p.routes {
		if rt.method != r.Method {
			continue
		}
		pat := strings.Split(strings.Trim(rt.pattern, "/"), "/")
		if len(pat) != len(parts) {
			continue
		}
		labels := map[string]string{}
		ok := true
		for i, seg := range pat {
			if strings.HasPrefix(seg, "{") {
				v, err := url.PathUnescape(parts[i])
				if err != nil {
					ok = false
					break
				}
				labels[strings.Trim(seg, "{}")] = v
			} else if seg != parts[i] {
				ok = false
				break
			}
		}
		if ok {
			return rt, labels, true
		}
	}
	return restRoute{}, nil, false
}

func (p *restJSONProtocol) operation(r *http.Request, _ []byte) (string, *APIError) {
	rt, _, ok := p.match(r)
	if !ok {
		return "", withStatus(clientError("UnknownOperationException", "No operation for %s %s", r.Method, r.URL.Path), http.StatusNotFound)
	}
	return rt.op, nil
}

func (p *restJSONProtocol) serve(c *call, r *http.Request, body []byte) (responder, *APIError) {
	rt, labels, _ := p.match(r)
	out, aerr := rt.handle(c, restRequest{labels: labels, query: r.URL.Query(), body: body})
	if aerr != nil {
		return nil, aerr
	}
	return jsonResponse(out, "application/json")
}

func (p *restJSONProtocol) writeError(w http.ResponseWriter, c *call, e *APIError) {
	writeJSONError(w, c, e, "application/json", map[string]string{"__type": e.Code, "Code": e.Code, "Message": e.Message})
}

func (p *restJSONProtocol) invalidToken(expired bool) *APIError { return p.invalid(expired) }
