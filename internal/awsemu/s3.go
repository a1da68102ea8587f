package awsemu

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"
)

// s3Service is a small S3: buckets holding versioned objects (the
// REST-XML protocol that serves it is protocol_restxml.go).
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

func (s *s3Service) protocol() *restXMLProtocol {
	return &restXMLProtocol{
		ops: map[string]restXMLOp{
			"CreateBucket": s.createBucket,
			"PutObject":    s.putObject,
			"GetObject":    s.getObject,
			"HeadObject":   s.getObject,
		},
		invalid: s3InvalidToken,
	}
}

func (s *s3Service) createBucket(c *call, req restXMLRequest) (any, *APIError) {
	c.target = "s3://" + req.bucket
	if b := s.buckets[req.bucket]; b != nil {
		if b.owner == c.caller.Account {
			return nil, withStatus(clientError("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it."), http.StatusConflict)
		}
		return nil, withStatus(clientError("BucketAlreadyExists", "The requested bucket name is not available."), http.StatusConflict)
	}
	s.buckets[req.bucket] = &bucket{owner: c.caller.Account, objects: map[string][]s3Object{}}
	return restXMLLocationOutput{location: "/" + req.bucket}, nil
}

func (s *s3Service) bucket(c *call, req restXMLRequest) (*bucket, *APIError) {
	c.target = "s3://" + req.bucket + "/" + req.key
	b := s.buckets[req.bucket]
	if b == nil {
		return nil, withStatus(clientError("NoSuchBucket", "The specified bucket does not exist"), http.StatusNotFound)
	}
	return b, nil
}

func (s *s3Service) putObject(c *call, req restXMLRequest) (any, *APIError) {
	b, aerr := s.bucket(c, req)
	if aerr != nil {
		return nil, aerr
	}
	v := s.put(b, req.key, req.body)
	return restXMLPutOutput{etag: etag(req.body), versionID: v}, nil
}

// getObject serves GetObject and HeadObject: the latest version, or the one
// versionId names, which needs s3:GetObjectVersion (Amazon S3 API
// Reference, GetObject, "Versioning").
func (s *s3Service) getObject(c *call, req restXMLRequest) (any, *APIError) {
	b, aerr := s.bucket(c, req)
	if aerr != nil {
		return nil, aerr
	}
	versions := b.objects[req.key]
	if len(versions) == 0 {
		return nil, withStatus(clientError("NoSuchKey", "The specified key does not exist."), http.StatusNotFound)
	}
	obj := versions[len(versions)-1]
	if req.versionID != "" {
		c.actions = []string{iamAction("s3", c.op+"Version")}
		found := false
		for _, v := range versions {
			if v.versionID == req.versionID {
				obj, found = v, true
			}
		}
		if !found {
			return nil, withStatus(clientError("NoSuchVersion", "The specified version does not exist."), http.StatusNotFound)
		}
	}
	return restXMLObjectOutput{data: obj.data, etag: etag(obj.data), versionID: obj.versionID, modified: obj.modified}, nil
}

// etag is S3's ETag of an object uploaded in one part: its MD5, in hex.
func etag(data []byte) string {
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}

func s3InvalidToken(expired bool) *APIError {
	if expired {
		return clientError("ExpiredToken", "The provided token has expired.")
	}
	return withStatus(clientError("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."), http.StatusForbidden)
}
