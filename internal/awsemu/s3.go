package awsemu

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// s3Service is a small S3: buckets holding versioned objects, served with
// the REST-XML protocol, path-style or virtual-hosted-style.
type s3Service struct {
	buckets map[string]*bucket
	version int
}

type bucket struct {
	owner   string
	objects map[string][]s3Object // every version, oldest first
}

type s3Object struct {
	data      []byte
	versionID string
	modified  time.Time
}

func newS3() *s3Service { return &s3Service{buckets: map[string]*bucket{}} }

// CreateBucket creates a bucket owned by account (setup helper for tests and
// the demo; the SDK's CreateBucket works too).
func (e *Emulator) CreateBucket(name, account string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.s3.buckets[name] == nil {
		e.s3.buckets[name] = &bucket{owner: account, objects: map[string][]s3Object{}}
	}
}

// PutObject stores an object version and returns its version ID (setup
// helper; the SDK's PutObject works too).
func (e *Emulator) PutObject(bucketName, key string, data []byte) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.s3.buckets[bucketName]
	if b == nil {
		return "", fmt.Errorf("awsemu: no bucket %q", bucketName)
	}
	return e.s3.put(b, key, data), nil
}

func (s *s3Service) put(b *bucket, key string, data []byte) string {
	s.version++
	v := s3Object{data: bytes.Clone(data), versionID: fmt.Sprintf("v%08d.emu", s.version), modified: time.Now().UTC()}
	b.objects[key] = append(b.objects[key], v)
	return v.versionID
}

// location splits a request into bucket and key, path-style
// (/bucket/key) or virtual-hosted-style (bucket.host/key).
func (s *s3Service) location(r *http.Request) (bucketName, key string) {
	host, _, _ := strings.Cut(r.Host, ":")
	path := strings.TrimPrefix(r.URL.Path, "/")
	if name, _, ok := strings.Cut(host, "."); ok && strings.Count(host, ".") > 0 && !isIPv4(host) && name != "s3" {
		return name, path
	}
	bucketName, key, _ = strings.Cut(path, "/")
	return bucketName, key
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

func (s *s3Service) operation(r *http.Request, _ []byte) (string, *APIError) {
	_, key := s.location(r)
	switch {
	case r.Method == http.MethodPut && key == "":
		return "CreateBucket", nil
	case r.Method == http.MethodPut:
		return "PutObject", nil
	case r.Method == http.MethodGet && key != "":
		return "GetObject", nil
	case r.Method == http.MethodHead && key != "":
		return "HeadObject", nil
	}
	return "", &APIError{Code: "NotImplemented", Message: "A header you provided implies functionality that is not implemented", Status: http.StatusNotImplemented}
}

func (s *s3Service) serve(c *call, r *http.Request, body []byte) (responder, *APIError) {
	name, key := s.location(r)
	c.target = "s3://" + name + "/" + key
	if c.op == "CreateBucket" {
		c.target = "s3://" + name
		if b := s.buckets[name]; b != nil {
			if b.owner == c.caller.Account {
				return nil, withStatus(clientError("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it."), http.StatusConflict)
			}
			return nil, withStatus(clientError("BucketAlreadyExists", "The requested bucket name is not available."), http.StatusConflict)
		}
		s.buckets[name] = &bucket{owner: c.caller.Account, objects: map[string][]s3Object{}}
		return func(w http.ResponseWriter) { w.Header().Set("Location", "/"+name) }, nil
	}
	b := s.buckets[name]
	if b == nil {
		return nil, withStatus(clientError("NoSuchBucket", "The specified bucket does not exist"), http.StatusNotFound)
	}
	if c.op == "PutObject" {
		v := s.put(b, key, body)
		sum := md5.Sum(body)
		return func(w http.ResponseWriter) {
			w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
			w.Header().Set("x-amz-version-id", v)
		}, nil
	}
	versions := b.objects[key]
	if len(versions) == 0 {
		return nil, withStatus(clientError("NoSuchKey", "The specified key does not exist."), http.StatusNotFound)
	}
	obj := versions[len(versions)-1]
	if want := r.URL.Query().Get("versionId"); want != "" {
		c.actions = []string{iamAction("s3", c.op+"Version")}
		found := false
		for _, v := range versions {
			if v.versionID == want {
				obj, found = v, true
			}
		}
		if !found {
			return nil, withStatus(clientError("NoSuchVersion", "The specified version does not exist."), http.StatusNotFound)
		}
	}
	sum := md5.Sum(obj.data)
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(obj.data)))
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
		w.Header().Set("Last-Modified", obj.modified.Format(http.TimeFormat))
		w.Header().Set("x-amz-version-id", obj.versionID)
		if strings.EqualFold(r.Header.Get("x-amz-checksum-mode"), "ENABLED") {
			// Objects keep the CRC32 the SDK computes on upload; returning it
			// lets the SDK validate the download, as with real S3.
			sum := crc32.ChecksumIEEE(obj.data)
			w.Header().Set("x-amz-checksum-crc32", base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, sum)))
			w.Header().Set("x-amz-checksum-type", "FULL_OBJECT")
		}
		if r.Method == http.MethodGet {
			_, _ = w.Write(obj.data)
		}
	}, nil
}

func (s *s3Service) writeError(w http.ResponseWriter, c *call, e *APIError) {
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

func (s *s3Service) invalidToken(expired bool) *APIError {
	if expired {
		return clientError("ExpiredToken", "The provided token has expired.")
	}
	return withStatus(clientError("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."), http.StatusForbidden)
}
