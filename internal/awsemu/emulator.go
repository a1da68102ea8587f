package awsemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Options configure an Emulator.
type Options struct {
	// Organization is the organization Organizations serves; the zero value
	// uses SampleOrganization.
	Organization *OrgFixture
	// OtherOrganizations are further organizations, each with its own
	// accounts and policies (for example SecondOrganization). A caller is
	// served by the organization its account belongs to; the first
	// organization serves callers that belong to none.
	OtherOrganizations []OrgFixture
	// PageSize is the most items any List operation returns per page,
	// whatever MaxResults asks for; small values make tests exercise
	// pagination. Default 20.
	PageSize int
	// Seed seeds the generator behind probabilistic faults, so a test run
	// is repeatable. Default 1.
	Seed uint64
	// Addr is the listen address; default "127.0.0.1:0" (a free port).
	Addr string
	// MaxCredentialLifetime caps how long AssumeRole credentials last
	// (they last DurationSeconds, default one hour, up to this); tests set
	// it low to see credentials refreshed. Default 12 hours.
	MaxCredentialLifetime time.Duration
}

// Emulator is a running in-process AWS endpoint.
type Emulator struct {
	opts     Options
	listener net.Listener
	server   *http.Server

	// mu guards every service's state; handlers run one at a time, like
	// requests serialized by a real service's consistency.
	mu             sync.Mutex
	services       map[string]service
	orgs           *orgService
	sts            *stsService
	cloudformation *cloudFormation
	sns            *snsService
	s3             *s3Service
	backup         *backupService
	tagging        *taggingService
	ec2            *ec2Service
	responses      *responseStore

	identities *identities
	faults     faultSet
	log        callLog
}

// Start starts an emulator listening on opts.Addr.
func Start(opts Options) (*Emulator, error) {
	if opts.PageSize <= 0 {
		opts.PageSize = 20
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.MaxCredentialLifetime <= 0 {
		opts.MaxCredentialLifetime = 12 * time.Hour
	}
	fixture := SampleOrganization()
	if opts.Organization != nil {
		fixture = *opts.Organization
	}
	orgs, err := newOrgService(append([]OrgFixture{fixture}, opts.OtherOrganizations...), opts.PageSize)
	if err != nil {
		return nil, err
	}
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("awsemu: listening on %s: %w", opts.Addr, err)
	}
	e := &Emulator{
		opts:       opts,
		listener:   ln,
		orgs:       orgs,
		identities: newIdentities(),
		responses:  newResponseStore(),
	}
	e.faults.rng = rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	e.sts = newSTS(e.identities, opts.MaxCredentialLifetime)
	orgs.allowed = e.sts.allows
	e.s3 = newS3()
	e.cloudformation = newCloudFormation()
	e.sns = newSNS()
	e.backup = newBackup(opts.PageSize)
	e.tagging = newTagging(opts.PageSize)
	e.ec2 = newEC2(opts.PageSize, e.tagging)
	e.services = map[string]service{
		"organizations":  newJSONProtocol("AWSOrganizationsV20161128", orgs.operations(), unrecognizedClientJSON),
		"sts":            newQueryProtocol("https://sts.amazonaws.com/doc/2011-06-15/", e.sts.operations()),
		"cloudformation": newQueryProtocol("http://cloudformation.amazonaws.com/doc/2010-05-15/", e.cloudformation.operations()),
		"sns":            newQueryProtocol("http://sns.amazonaws.com/doc/2010-03-31/", e.sns.operations()),
		"s3":             e.s3.protocol(),
		"backup":         e.backup.protocol(),
		"tagging":        newJSONProtocol("ResourceGroupsTaggingAPI_20170126", e.tagging.operations(), unrecognizedClientJSON),
		"ec2":            newEC2QueryProtocol("http://ec2.amazonaws.com/doc/2016-11-15/", e.ec2.operations()),
	}
	if path := os.Getenv(CallLogEnv); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("awsemu: opening %s=%s: %w", CallLogEnv, path, err)
		}
		e.log.file = f
	}
	e.server = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.server.Serve(ln) }()
	return e, nil
}

// TB is the part of testing.TB that New uses. It is declared here so that
// the package does not import testing: the demo binary links awsemu.
type TB interface {
	Helper()
	Fatal(args ...any)
	Cleanup(func())
}

// New starts an emulator for a test and stops it when the test ends.
func New(tb TB, opts Options) *Emulator {
	tb.Helper()
	e, err := Start(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = e.Close() })
	return e
}

// URL is the endpoint to give SDK clients (BaseEndpoint, AWS_ENDPOINT_URL).
func (e *Emulator) URL() string { return "http://" + e.listener.Addr().String() }

// Close stops the server, cutting open connections.
func (e *Emulator) Close() error {
	err := e.server.Close()
	e.log.mu.Lock()
	defer e.log.mu.Unlock()
	if e.log.file != nil {
		_ = e.log.file.Close()
		e.log.file = nil
	}
	return err
}

// service is one AWS service behind its wire protocol.
type service interface {
	// operation names the operation a request is for.
	operation(r *http.Request, body []byte) (string, *APIError)
	// serve runs the operation; the emulator holds its lock meanwhile.
	serve(c *call, r *http.Request, body []byte) (responder, *APIError)
	// writeError renders an error the way the protocol does.
	writeError(w http.ResponseWriter, c *call, e *APIError)
	// invalidToken is the error for an unknown or wrong access key.
	invalidToken(expired bool) *APIError
}

// responder writes a successful response.
type responder func(w http.ResponseWriter)

// call is the context of one request.
type call struct {
	ctx     context.Context
	service string
	// region is the Region the request is signed for: the endpoint of
	// that Region (and so of its partition) serves it.
	region    string
	op        string
	caller    Principal
	requestID string
	target    string
	// actions are the IAM actions the call needs; services add to or
	// replace the operation's own.
	actions []string
}

// iamPrefixes are the IAM service prefixes of the signing names.
var iamPrefixes = map[string]string{"tagging": "tag"}

func iamAction(service, op string) string {
	if p, ok := iamPrefixes[service]; ok {
		service = p
	}
	return service + ":" + op
}

// ServeHTTP routes a request to its service by the SigV4 credential scope.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, responsePathPrefix) {
		e.serveResponseUpload(w, r)
		return
	}
	auth, ok := parseAuthorization(r)
	if !ok {
		http.Error(w, "awsemu: request is not SigV4-signed", http.StatusForbidden)
		return
	}
	svc := e.services[auth.service]
	if svc == nil {
		http.Error(w, fmt.Sprintf("awsemu: service %q is not emulated", auth.service), http.StatusNotImplemented)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "awsemu: reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if decoded, ok, err := decodeAWSChunked(r, body); err != nil {
		http.Error(w, "awsemu: "+err.Error(), http.StatusBadRequest)
		return
	} else if ok {
		body = decoded
	}

	seq := e.log.begin()
	c := &call{ctx: r.Context(), service: auth.service, region: auth.region, requestID: requestID(seq)}
	rec := Call{Seq: seq, Service: auth.service, Start: time.Now()}
	finish := func(aerr *APIError, injected bool) {
		rec.Operation, rec.Caller, rec.Target, rec.End, rec.Actions = c.op, c.caller.ARN, c.target, time.Now(), c.actions
		if aerr != nil {
			rec.ErrorCode, rec.Injected = aerr.Code, injected
			svc.writeError(w, c, aerr)
		}
		e.log.add(rec)
	}

	op, aerr := svc.operation(r, body)
	c.op = op
	c.actions = []string{iamAction(auth.service, op)}
	if aerr != nil {
		finish(aerr, false)
		return
	}
	principal, status := e.identities.lookup(auth.accessKeyID, r.Header.Get("X-Amz-Security-Token"), time.Now())
	if status != identityOK {
		finish(svc.invalidToken(status == identityExpired), false)
		return
	}
	c.caller = principal

	before, after := e.injectFaults(r.Context(), auth.service, op, auth.service)
	if before != nil {
		finish(before, true)
		return
	}

	e.mu.Lock()
	respond, aerr := svc.serve(c, r, body)
	e.mu.Unlock()
	if aerr != nil {
		finish(aerr, false)
		return
	}
	if after != nil {
		finish(after, true)
		return
	}
	w.Header().Set("X-Amzn-RequestId", c.requestID)
	respond(w)
	finish(nil, false)
}

func requestID(seq int) string {
	return fmt.Sprintf("5e1f0000-0000-4000-8000-%012d", seq)
}

type authorization struct {
	accessKeyID string
	region      string
	service     string
}

// parseAuthorization reads the access key and the signing name from a SigV4
// Authorization header ("AWS4-HMAC-SHA256 Credential=AKID/date/region/svc/
// aws4_request, ...") or a presigned URL's X-Amz-Credential.
func parseAuthorization(r *http.Request) (authorization, bool) {
	cred := ""
	if h := r.Header.Get("Authorization"); h != "" {
		_, rest, ok := strings.Cut(h, "Credential=")
		if !ok {
			return authorization{}, false
		}
		cred, _, _ = strings.Cut(rest, ",")
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return authorization{}, false
	}
	return authorization{accessKeyID: parts[0], region: parts[2], service: parts[3]}, true
}

// decodeAWSChunked undoes the aws-chunked content encoding the SDK uses to
// send a payload with a trailing checksum.
func decodeAWSChunked(r *http.Request, body []byte) ([]byte, bool, error) {
	if !strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
		return nil, false, nil
	}
	var out bytes.Buffer
	rest := body
	for {
		line, after, ok := bytes.Cut(rest, []byte("\r\n"))
		if !ok {
			return nil, false, errors.New("malformed aws-chunked body")
		}
		sizeHex, _, _ := bytes.Cut(line, []byte(";"))
		var size int
		if _, err := fmt.Sscanf(string(sizeHex), "%x", &size); err != nil {
			return nil, false, fmt.Errorf("malformed aws-chunked chunk size %q", sizeHex)
		}
		if size == 0 {
			return out.Bytes(), true, nil
		}
		if len(after) < size+2 {
			return nil, false, errors.New("truncated aws-chunked body")
		}
		out.Write(after[:size])
		rest = after[size+2:]
	}
}
