package awsemu

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/url"
)

// queryOp handles one AWS query protocol operation: form values in, the
// <Operation>Result element's content out.
type queryOp func(c *call, form url.Values) (any, *APIError)

// queryProtocol is the AWS query protocol (STS): form-encoded POST with
// Action and Version, XML responses wrapped in <ActionResponse>.
type queryProtocol struct {
	xmlns string
	ops   map[string]queryOp
}

func newQueryProtocol(xmlns string, ops map[string]queryOp) *queryProtocol {
	return &queryProtocol{xmlns: xmlns, ops: ops}
}

func (p *queryProtocol) operation(_ *http.Request, body []byte) (string, *APIError) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "", clientError("MalformedQueryString", "%s", err.Error())
	}
	op := form.Get("Action")
	if p.ops[op] == nil {
		return op, clientError("InvalidAction", "Could not find operation %s", op)
	}
	return op, nil
}

func (p *queryProtocol) serve(c *call, _ *http.Request, body []byte) (responder, *APIError) {
	form, _ := url.ParseQuery(string(body))
	out, aerr := p.ops[c.op](c, form)
	if aerr != nil {
		return nil, aerr
	}
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	start := xml.StartElement{Name: xml.Name{Local: c.op + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: p.xmlns}}}
	err := enc.EncodeToken(start)
	if err == nil {
		err = enc.EncodeElement(out, xml.StartElement{Name: xml.Name{Local: c.op + "Result"}})
	}
	if err == nil {
		err = enc.EncodeElement(struct {
			RequestID string `xml:"RequestId"`
		}{c.requestID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(start.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		return nil, &APIError{Code: "InternalFailure", Message: err.Error(), Status: http.StatusInternalServerError}
	}
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(buf.Bytes())
	}, nil
}

func (p *queryProtocol) writeError(w http.ResponseWriter, c *call, e *APIError) {
	typ := "Receiver"
	if e.Sender {
		typ = "Sender"
	}
	type errorXML struct {
		Type    string
		Code    string
		Message string
	}
	resp := struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Error     errorXML
		RequestID string `xml:"RequestId"`
	}{Xmlns: p.xmlns, Error: errorXML{typ, e.Code, e.Message}, RequestID: c.requestID}
	data, _ := xml.Marshal(resp)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", c.requestID)
	w.WriteHeader(e.Status)
	_, _ = w.Write(data)
}

func (p *queryProtocol) invalidToken(expired bool) *APIError {
	if expired {
		return withStatus(clientError("ExpiredToken", "The security token included in the request is expired"), http.StatusForbidden)
	}
	return withStatus(clientError("InvalidClientTokenId", "The security token included in the request is invalid."), http.StatusForbidden)
}
