package awsemu

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"hash/crc32"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// restXMLRequest is one S3 request as its operation sees it: the bucket and
// key (from the path or the host), the version asked for, and the body.
type restXMLRequest struct {
	bucket, key string
	versionID   string
	body        []byte
}

// restXMLOp handles one REST-XML operation; its output is one of the
// restXML…Output types, which the protocol renders as headers and body.
type restXMLOp func(c *call, req restXMLRequest) (any, *APIError)

// restXMLLocationOutput answers CreateBucket: the bucket's path.
type restXMLLocationOutput struct{ location string }

// restXMLPutOutput answers PutObject.
type restXMLPutOutput struct{ etag, versionID string }

// restXMLObjectOutput answers GetObject and HeadObject (without the body).
type restXMLObjectOutput struct {
	data      []byte
	etag      string
	versionID string
	modified  time.Time
}

// restXMLProtocol is S3's REST-XML, path-style (/bucket/key) or
// virtual-hosted-style (bucket.host/key): the operation follows from the
// method and whether a key is named; errors are an <Error> document, and
// HEAD responses carry no body at all.
type restXMLProtocol struct {
	ops     map[string]restXMLOp
	invalid func(expired bool) *APIError
}

// location splits a request into bucket and key.
func (p *restXMLProtocol) location(r *http.Request) (bucket, key string) {
	host, _, _ := strings.Cut(r.Host, ":")
	path := strings.TrimPrefix(r.URL.Path, "/")
	if name, _, ok := strings.Cut(host, "."); ok && !isIPv4(host) && name != "s3" {
		return name, path
	}
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key
}

func isIPv4(host string) bool {
	parts := strings.Split(host, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil {
			return false
		}
	}
	return true
}

func (p *restXMLProtocol) operation(r *http.Request, _ []byte) (string, *APIError) {
	_, key := p.location(r)
	op := ""
	switch {
	case r.Method == http.MethodPut && key == "":
		op = "CreateBucket"
	case r.Method == http.MethodPut:
		op = "PutObject"
	case r.Method == http.MethodGet && key != "":
		op = "GetObject"
	case r.Method == http.MethodHead && key != "":
		op = "HeadObject"
	}
	if p.ops[op] == nil {
		return "", &APIError{Code: "NotImplemented", Message: "A header you provided implies functionality that is not implemented", Status: http.StatusNotImplemented}
	}
	return op, nil
}

func (p *restXMLProtocol) serve(c *call, r *http.Request, body []byte) (responder, *APIError) {
	bucket, key := p.location(r)
	out, aerr := p.ops[c.op](c, restXMLRequest{bucket: bucket, key: key, versionID: r.URL.Query().Get("versionId"), body: body})
	if aerr != nil {
		return nil, aerr
	}
	switch out := out.(type) {
	case restXMLLocationOutput:
		return func(w http.ResponseWriter) { w.Header().Set("Location", out.location) }, nil
	case restXMLPutOutput:
		return func(w http.ResponseWriter) {
			w.Header().Set("ETag", `"`+out.etag+`"`)
			w.Header().Set("x-amz-version-id", out.versionID)
		}, nil
	case restXMLObjectOutput:
		return func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", strconv.Itoa(len(out.data)))
			w.Header().Set("ETag", `"`+out.etag+`"`)
			w.Header().Set("Last-Modified", out.modified.Format(http.TimeFormat))
			w.Header().Set("x-amz-version-id", out.versionID)
			if strings.EqualFold(r.Header.Get("x-amz-checksum-mode"), "ENABLED") {
				// Objects keep the CRC32 the SDK computes on upload;
				// returning it lets the SDK validate the download, as
				// with real S3.
				sum := crc32.ChecksumIEEE(out.data)
				w.Header().Set("x-amz-checksum-crc32", base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, sum)))
				w.Header().Set("x-amz-checksum-type", "FULL_OBJECT")
			}
			if r.Method == http.MethodGet {
				_, _ = w.Write(out.data)
			}
		}, nil
	}
	return nil, &APIError{Code: "InternalError", Message: "awsemu: unrendered output", Status: http.StatusInternalServerError}
}

func (p *restXMLProtocol) writeError(w http.ResponseWriter, c *call, e *APIError) {
	w.Header().Set("x-amz-request-id", c.requestID)
	if c.op == "HeadObject" {
		w.WriteHeader(e.Status)
		return
	}
	data, _ := xml.Marshal(struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		RequestID string `xml:"RequestId"`
	}{Code: e.Code, Message: e.Message, RequestID: c.requestID})
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(e.Status)
	_, _ = w.Write(data)
}

func (p *restXMLProtocol) invalidToken(expired bool) *APIError { return p.invalid(expired) }
