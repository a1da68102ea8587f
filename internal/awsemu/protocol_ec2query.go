package awsemu

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/url"
)

// ec2QueryProtocol is Amazon EC2's flavour of the query protocol (the
// SDK's awsEc2query): form-encoded POST with Action and Version like STS,
// but the response members sit directly in <ActionResponse>, with a
// lower-case requestId and no <ActionResult> wrapper, and errors come as
// <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/>
// (EC2 API reference, "Query API responses" and "Error codes"; the shapes
// the SDK's ec2query deserializers read).
type ec2QueryProtocol struct {
	xmlns string
	ops   map[string]queryOp
}

func newEC2QueryProtocol(xmlns string, ops map[string]queryOp) *ec2QueryProtocol {
	return &ec2QueryProtocol{xmlns: xmlns, ops: ops}
}

func (p *ec2QueryProtocol) operation(_ *http.Request, body []byte) (string, *APIError) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "", clientError("MalformedQueryString", "%s", err.Error())
	}
	op := form.Get("Action")
	if p.ops[op] == nil {
		return op, clientError("InvalidAction", "The action %s is not valid for this web service.", op)
	}
	return op, nil
}

func (p *ec2QueryProtocol) serve(c *call, _ *http.Request, body []byte) (responder, *APIError) {
	form, _ := url.ParseQuery(string(body))
	out, aerr := p.ops[c.op](c, form)
	if aerr != nil {
		return nil, aerr
	}
	// The result's members go inside <ActionResponse> itself: encode
	// them in a scratch element and keep its content.
	var members bytes.Buffer
	const scratch = "members"
	if err := xml.NewEncoder(&members).EncodeElement(out, xml.StartElement{Name: xml.Name{Local: scratch}}); err != nil {
		return nil, &APIError{Code: "InternalError", Message: err.Error(), Status: http.StatusInternalServerError}
	}
	inner := members.Bytes()
	inner = inner[len("<"+scratch+">") : len(inner)-len("</"+scratch+">")]
	resp := struct {
		XMLName   xml.Name
		Xmlns     string `xml:"xmlns,attr"`
		RequestID string `xml:"requestId"`
		Members   []byte `xml:",innerxml"`
	}{XMLName: xml.Name{Local: c.op + "Response"}, Xmlns: p.xmlns, RequestID: c.requestID, Members: inner}
	data, err := xml.Marshal(resp)
	if err != nil {
		return nil, &APIError{Code: "InternalError", Message: err.Error(), Status: http.StatusInternalServerError}
	}
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		_, _ = w.Write(append([]byte(xml.Header), data...))
	}, nil
}

func (p *ec2QueryProtocol) writeError(w http.ResponseWriter, c *call, e *APIError) {
	type errorXML struct {
		Code    string
		Message string
	}
	resp := struct {
		XMLName   xml.Name   `xml:"Response"`
		Errors    []errorXML `xml:"Errors>Error"`
		RequestID string     `xml:"RequestID"`
	}{Errors: []errorXML{{e.Code, e.Message}}, RequestID: c.requestID}
	data, _ := xml.Marshal(resp)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(e.Status)
	_, _ = w.Write(append([]byte(xml.Header), data...))
}

// invalidToken: EC2 answers an unknown or expired access key with
// AuthFailure, HTTP 401 (EC2 API reference, "Common client error codes").
func (p *ec2QueryProtocol) invalidToken(expired bool) *APIError {
	if expired {
		return withStatus(clientError("AuthFailure", "AWS was not able to validate the provided access credentials: the security token is expired"), http.StatusUnauthorized)
	}
	return withStatus(clientError("AuthFailure", "AWS was not able to validate the provided access credentials"), http.StatusUnauthorized)
}
