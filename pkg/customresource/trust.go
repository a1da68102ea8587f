package customresource

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Whoever can invoke the function can make it act on their event: the
// resource function works with the function's credentials, and the response
// goes to whatever URL the event names. So an event is checked before
// anything else: its ResponseURL must be on a trusted host, or nothing is
// done and nothing is sent (answering would hand data to that host); its
// stack must be in a trusted account, or it is answered FAILED before the
// resource function runs.

// Environment variables the functions read the trust settings from (see
// ParseResponseHosts and ParseAccounts).
const (
	EnvResponseHosts        = "CFN_RESPONSE_HOSTS"
	EnvAllowedStackAccounts = "ALLOWED_STACK_ACCOUNTS"
)

// HostPattern is an allowed ResponseURL host: an exact host name or IP
// address, or "*.suffix" for any host name ending in ".suffix"; with a port,
// only that port, else only the scheme's default port (443, or 80 for http).
type HostPattern struct {
	host     string // lower case; the suffix without "*." for a wildcard
	wildcard bool
	port     int // 0: the scheme's default port
}

func (p HostPattern) String() string {
	h := p.host
	if p.wildcard {
		h = "*." + h
	} else if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if p.port != 0 {
		h += ":" + strconv.Itoa(p.port)
	}
	return h
}

// matches reports whether the pattern admits host on port, where 0 and
// defaultPort both mean the scheme's default port.
func (p HostPattern) matches(host string, port, defaultPort int) bool {
	want := p.port
	if want == defaultPort {
		want = 0
	}
	if port == defaultPort {
		port = 0
	}
	if want != port {
		return false
	}
	if p.wildcard {
		return strings.HasSuffix(host, "."+p.host)
	}
	return host == p.host
}

// dnsLabel is one label of a host name as DNS and S3 bucket host names use
// them (RFC 1123: letters, digits and inner hyphens).
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if !dnsLabel.MatchString(l) {
			return false
		}
	}
	return true
}

// ParseResponseHosts parses a comma-separated list of host patterns
// (CFN_RESPONSE_HOSTS): each an exact host name, an IP address (IPv6 in
// brackets when a port follows) or "*.suffix", with an optional ":port".
// An empty list returns nil: the default, the S3 hosts of the function's
// partition.
func ParseResponseHosts(list string) ([]HostPattern, error) {
	var out []HostPattern
	for _, entry := range strings.Split(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		p, err := parseHostPattern(entry)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parseHostPattern(entry string) (HostPattern, error) {
	bad := func(why string) (HostPattern, error) {
		return HostPattern{}, fmt.Errorf("host pattern %q: %s; expected a host name, an IP address or *.suffix, with an optional :port (e.g. *.amazonaws.com, 127.0.0.1:8080)", entry, why)
	}
	if strings.ContainsAny(entry, "/@?#") {
		return bad("a URL is not a host pattern")
	}
	host, portText := entry, ""
	if addr, err := netip.ParseAddr(entry); err == nil && addr.Is6() {
		host = entry // a bare IPv6 address: its colons are no port
	} else if strings.HasPrefix(entry, "[") || strings.Contains(entry, ":") {
		h, p, err := net.SplitHostPort(entry)
		if err != nil {
			if !strings.HasPrefix(entry, "[") || !strings.HasSuffix(entry, "]") {
				return bad("not host:port")
			}
			h, p = entry[1:len(entry)-1], ""
		}
		host, portText = h, p
	}
	p := HostPattern{host: strings.ToLower(host)}
	if portText != "" {
		n, err := strconv.Atoi(portText)
		if err != nil || n < 1 || n > 65535 {
			return bad("the port must be a number from 1 to 65535")
		}
		p.port = n
	}
	if suffix, ok := strings.CutPrefix(p.host, "*."); ok {
		if !validHostName(suffix) {
			return bad("the suffix after *. must be a host name")
		}
		p.host, p.wildcard = suffix, true
		return p, nil
	}
	if addr, err := netip.ParseAddr(p.host); err == nil {
		if addr.Zone() != "" {
			return bad("an IPv6 zone is not allowed")
		}
		p.host = addr.String()
		return p, nil
	}
	if !validHostName(p.host) {
		return bad("not a valid host name")
	}
	return p, nil
}

// ParseAccounts parses a comma-separated list of 12-digit account IDs
// (ALLOWED_STACK_ACCOUNTS). An empty list returns nil: the default, the
// function's own account.
func ParseAccounts(list string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if !accountID.MatchString(a) {
			return nil, fmt.Errorf("account %q: expected a 12-digit AWS account ID", a)
		}
		out = append(out, a)
	}
	return out, nil
}

var accountID = regexp.MustCompile(`^\d{12}$`)

// partitionDNSSuffix is each partition's endpoint DNS suffix, which S3's
// endpoints (and so CloudFormation's presigned response URLs) use:
// aws-sdk-go-v2 v1.47.7 internal/endpoints/awsrulesfn/partitions.json
// ("dnsSuffix"), from which service/s3's endpoint rules build
// s3.<region>.<dnsSuffix> and <bucket>.s3.<region>.<dnsSuffix>.
var partitionDNSSuffix = map[string]string{
	"aws":        "amazonaws.com",
	"aws-cn":     "amazonaws.com.cn",
	"aws-us-gov": "amazonaws.com",
	"aws-eusc":   "amazonaws.eu",
	"aws-iso":    "c2s.ic.gov",
	"aws-iso-b":  "sc2s.sgov.gov",
	"aws-iso-e":  "cloud.adc-e.uk",
	"aws-iso-f":  "csp.hci.ic.gov",
}

// DefaultResponseHosts returns the S3 hosts of a partition: AWS documents
// the ResponseURL only as a presigned S3 URL (CloudFormation User Guide,
// "CloudFormation custom resource request and response reference": the
// provider "returns a JSON response to a presigned Amazon S3 bucket URL").
func DefaultResponseHosts(partition string) []HostPattern {
	if s, ok := partitionDNSSuffix[partition]; ok {
		return []HostPattern{{host: s, wildcard: true}}
	}
	return nil
}

// errRefusedURL is the cause of an event refused for its ResponseURL.
var errRefusedURL = errors.New("ResponseURL refused")

// checkResponseURL returns nil when raw is an https URL (or http on a
// loopback address) on a host of hosts. Go's client sends to u.Hostname()
// after the same parsing, so what is checked is where the PUT goes.
func checkResponseURL(raw string, hosts []HostPattern) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: not a URL", errRefusedURL)
	}
	return checkURL(u, hosts)
}

func checkURL(u *url.URL, hosts []HostPattern) error {
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{errRefusedURL}, args...)...)
	}
	if u.Opaque != "" || u.Host == "" {
		return refuse("no host")
	}
	if u.User != nil {
		// A presigned S3 URL never has one, and the client would send it
		// as a password.
		return refuse("user information in the URL")
	}
	host := strings.ToLower(u.Hostname())
	addr, ipErr := netip.ParseAddr(host)
	if ipErr == nil {
		if addr.Zone() != "" {
			return refuse("an IPv6 zone in the host")
		}
		host = addr.String()
	} else if !validHostName(host) {
		return refuse("host %q is not a valid host name", host)
	}
	port := 0
	if ps := u.Port(); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > 65535 {
			return refuse("port %q", ps)
		}
		port = n
	}
	defaultPort := 443
	switch u.Scheme {
	case "https":
	case "http":
		// Plain http only where nothing on the way can read or change it.
		if ipErr != nil || !addr.Unmap().IsLoopback() {
			return refuse("plain http is allowed only to a loopback address, not %s", host)
		}
		defaultPort = 80
	default:
		return refuse("scheme %q; expected https", u.Scheme)
	}
	if len(hosts) == 0 {
		return refuse("no response hosts are allowed (the function's partition is unknown; set %s)", EnvResponseHosts)
	}
	for _, p := range hosts {
		if p.matches(host, port, defaultPort) {
			return nil
		}
	}
	h := host
	if port != 0 && port != defaultPort {
		h = net.JoinHostPort(host, strconv.Itoa(port))
	}
	return refuse("host %s is not among the allowed response hosts (%s)", h, EnvResponseHosts)
}

// errStackNotAllowed is the cause of a FAILED response to a stack outside the
// allowed accounts.
var errStackNotAllowed = errors.New("stack not allowed")

// checkStack returns nil when the event's StackId is a CloudFormation stack
// ARN in one of accounts.
func checkStack(ev cfn.Event, accounts []string) error {
	a, err := arn.Parse(ev.StackID)
	if err != nil || a.Service != "cloudformation" || !strings.HasPrefix(a.Resource, "stack/") {
		return fmt.Errorf("%w: StackId %q is not a CloudFormation stack ARN", errStackNotAllowed, ev.StackID)
	}
	if len(accounts) == 0 {
		return fmt.Errorf("%w: no stack accounts are allowed (the function's own account is unknown; set %s)", errStackNotAllowed, EnvAllowedStackAccounts)
	}
	if !slices.Contains(accounts, a.AccountID) {
		return fmt.Errorf("%w: stacks of account %s may not use this function (%s)", errStackNotAllowed, a.AccountID, EnvAllowedStackAccounts)
	}
	return nil
}

// trust is what an invocation accepts: the configured lists, or the
// defaults derived from the invoked function's ARN (its partition and
// account), which Lambda sets and the invoker cannot choose.
type trust struct {
	hosts    []HostPattern
	accounts []string
}

func (h *Handler) trust(ctx context.Context) trust {
	t := trust{hosts: h.opts.ResponseHosts, accounts: h.opts.StackAccounts}
	if t.hosts != nil && t.accounts != nil {
		return t
	}
	var fn arn.ARN
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		fn, _ = arn.Parse(lc.InvokedFunctionArn)
	}
	if t.hosts == nil {
		t.hosts = DefaultResponseHosts(fn.Partition)
	}
	if t.accounts == nil && accountID.MatchString(fn.AccountID) {
		t.accounts = []string{fn.AccountID}
	}
	return t
}

type hostsKey struct{}

// checkRedirect applies the ResponseURL check to every redirect the
// response PUT is sent, so an allowed host cannot pass it on elsewhere.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	hosts, _ := req.Context().Value(hostsKey{}).([]HostPattern)
	if err := checkURL(req.URL, hosts); err != nil {
		// Not the whole URL: a presigned one carries its signature.
		return fmt.Errorf("redirect to %s://%s: %w", req.URL.Scheme, req.URL.Host, err)
	}
	return nil
}
