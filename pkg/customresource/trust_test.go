package customresource

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
)

func TestCheckResponseURL(t *testing.T) {
	t.Parallel()
	const sig = "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc"
	s3Hosts := DefaultResponseHosts("aws")
	local, err := ParseResponseHosts("127.0.0.1:8080, [::1]:9000, s3.example.test:8443")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		url   string
		hosts []HostPattern
		want  string // "" = allowed, else a substring of the refusal
	}{
		{"CloudFormation's bucket in us-east-1", "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation/r" + sig, s3Hosts, ""},
		// The ResponseURL hosts of the Lambda Developer Guide's example
		// events ("Using AWS Lambda with CloudFormation").
		{"documented example, us-east-1", "https://cloudformation-custom-resource-response-useast1.s3-us-east-1.amazonaws.com/arn%3Aaws%3Acloudformation%3Aus-east-1" + sig, s3Hosts, ""},
		{"documented example, cn-north-1", "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/arn%3Aaws-cn" + sig, DefaultResponseHosts("aws-cn"), ""},
		{"regional S3 endpoint", "https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x" + sig, s3Hosts, ""},
		{"uppercase host", "https://S3.AmazonAWS.COM/bucket/key" + sig, s3Hosts, ""},
		{"explicit default port", "https://s3.amazonaws.com:443/bucket/key", s3Hosts, ""},
		{"other port than the pattern's", "https://s3.amazonaws.com:8443/bucket/key", s3Hosts, "not among the allowed"},
		{"suffix inside another domain", "https://evil.amazonaws.com.attacker.net/x" + sig, s3Hosts, "not among the allowed"},
		{"suffix without a dot before it", "https://evilamazonaws.com/x", s3Hosts, "not among the allowed"},
		{"the bare suffix", "https://amazonaws.com/x", s3Hosts, "not among the allowed"},
		{"userinfo that looks like the host", "https://s3.amazonaws.com@evil.net/", s3Hosts, "user information"},
		{"userinfo on an allowed host", "https://user:pw@s3.amazonaws.com/", s3Hosts, "user information"},
		{"plain http to S3", "http://s3.amazonaws.com/bucket/key" + sig, s3Hosts, "plain http is allowed only to a loopback address"},
		{"other scheme", "ftp://s3.amazonaws.com/x", s3Hosts, `scheme "ftp"`},
		{"no scheme", "//s3.amazonaws.com/x", s3Hosts, `scheme ""`},
		{"opaque URL", "https:s3.amazonaws.com", s3Hosts, "no host"},
		{"not a URL", "https://s3.amazonaws.com:port/", s3Hosts, "not a URL"},
		{"empty label", "https://a..amazonaws.com/", s3Hosts, "not a valid host name"},
		{"trailing dot", "https://s3.amazonaws.com./", s3Hosts, "not a valid host name"},
		{"China partition host under the aws partition", "https://s3.cn-north-1.amazonaws.com.cn/x", s3Hosts, "not among the allowed"},
		{"China partition", "https://s3.cn-north-1.amazonaws.com.cn/x", DefaultResponseHosts("aws-cn"), ""},
		{"unknown partition allows nothing", "https://s3.amazonaws.com/x", DefaultResponseHosts(""), "no response hosts are allowed"},
		{"loopback over http on the listed port", "http://127.0.0.1:8080/cloudformation-response/r" + sig, local, ""},
		{"loopback on another port", "http://127.0.0.1:8081/r", local, "127.0.0.1:8081 is not among"},
		{"loopback on the default port", "http://127.0.0.1/r", local, "not among"},
		{"IPv6 loopback", "http://[::1]:9000/r", local, ""},
		{"IPv6 loopback, other port", "http://[::1]:9001/r", local, "not among"},
		{"IPv6 zone", "http://[::1%25lo]:9000/r", local, "zone"},
		{"loopback name is not an address", "http://localhost:8080/r", local, "plain http is allowed only to a loopback address"},
		{"private address over http", "http://10.0.0.1:8080/r", local, "plain http"},
		{"https on a listed non-default port", "https://S3.Example.Test:8443/r", local, ""},
		{"https on the listed host's default port", "https://s3.example.test/r", local, "not among"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkResponseURL(tt.url, tt.hosts)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("%s refused: %v", tt.url, err)
			case tt.want != "" && err == nil:
				t.Errorf("%s allowed, want refused (%s)", tt.url, tt.want)
			case err != nil && (!strings.Contains(err.Error(), tt.want) || !errors.Is(err, errRefusedURL)):
				t.Errorf("%s: error %q, want errRefusedURL containing %q", tt.url, err, tt.want)
			}
		})
	}
}

func TestParseResponseHosts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		list string
		want string // the patterns' String, comma-joined, or the error
	}{
		{"", ""},
		{" , ", ""},
		{"*.amazonaws.com", "*.amazonaws.com"},
		{"*.AmazonAWS.com.cn, s3.example.test:8443", "*.amazonaws.com.cn,s3.example.test:8443"},
		{"127.0.0.1:38021", "127.0.0.1:38021"},
		{"[::1]:9000,::1,[::1]", "[::1]:9000,[::1],[::1]"},
		{"https://s3.amazonaws.com", "a URL is not a host pattern"},
		{"s3.amazonaws.com/bucket", "a URL is not a host pattern"},
		{"user@s3.amazonaws.com", "a URL is not a host pattern"},
		{"*", "not a valid host name"},
		{"*.", "the suffix after *. must be a host name"},
		{"s3.*.amazonaws.com", "not a valid host name"},
		{"host:0", "the port must be a number from 1 to 65535"},
		{"host:65536", "the port must be a number from 1 to 65535"},
		{"host:https", "the port must be a number"},
		{"a:b:c", "not host:port"},
		{"[fe80::1%lo]:80", "zone"},
		{"under_score.example", "not a valid host name"},
	}
	for _, tt := range tests {
		got, err := ParseResponseHosts(tt.list)
		var parts []string
		for _, p := range got {
			parts = append(parts, p.String())
		}
		s := strings.Join(parts, ",")
		if err != nil {
			s = err.Error()
		}
		if !strings.Contains(s, tt.want) || (tt.want == "" && s != "") {
			t.Errorf("ParseResponseHosts(%q) = %q, want %q", tt.list, s, tt.want)
		}
		if err != nil && !strings.Contains(err.Error(), "expected a host name") {
			t.Errorf("error %q does not say what is allowed", err)
		}
	}
}

func TestParseAccounts(t *testing.T) {
	t.Parallel()
	got, err := ParseAccounts(" 222222222222,333333333333 ,")
	if err != nil || strings.Join(got, ",") != "222222222222,333333333333" {
		t.Errorf("got %v, %v", got, err)
	}
	if got, err := ParseAccounts(""); got != nil || err != nil {
		t.Errorf("empty list: %v, %v", got, err)
	}
	for _, bad := range []string{"22222222222", "2222222222222", "arn:aws:iam::222222222222:root", "22222222222a"} {
		if _, err := ParseAccounts(bad); err == nil || !strings.Contains(err.Error(), "expected a 12-digit AWS account ID") {
			t.Errorf("ParseAccounts(%q) error = %v", bad, err)
		}
	}
}

func TestCheckStack(t *testing.T) {
	t.Parallel()
	allowed := []string{"222222222222"}
	tests := []struct {
		stackID  string
		accounts []string
		want     string
	}{
		{"arn:aws:cloudformation:us-east-1:222222222222:stack/backup-org-policies/5b1e7a40", allowed, ""},
		{"arn:aws-cn:cloudformation:cn-north-1:222222222222:stack/s/1", allowed, ""},
		{"arn:aws:cloudformation:us-east-1:333333333333:stack/s/1", allowed, "stacks of account 333333333333 may not use this function"},
		{"arn:aws:cloudformation:us-east-1:222222222222:stack/s/1", nil, "no stack accounts are allowed"},
		{"arn:aws:lambda:us-east-1:222222222222:function:f", allowed, "is not a CloudFormation stack ARN"},
		{"arn:aws:cloudformation:us-east-1:222222222222:stackset/s:1", allowed, "is not a CloudFormation stack ARN"},
		{"222222222222", allowed, "is not a CloudFormation stack ARN"},
		{"", allowed, "is not a CloudFormation stack ARN"},
	}
	for _, tt := range tests {
		err := checkStack(cfn.Event{StackID: tt.stackID}, tt.accounts)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s refused: %v", tt.stackID, err)
			}
			continue
		}
		if err == nil || !errors.Is(err, errStackNotAllowed) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want errStackNotAllowed with %q", tt.stackID, err, tt.want)
		}
	}
}

// FuzzCheckResponseURL: no URL panics the check, and every URL it admits
// for *.amazonaws.com is https to a host under amazonaws.com on port 443.
func FuzzCheckResponseURL(f *testing.F) {
	for _, u := range []string{
		"https://cloudformation-custom-resource-response-useast1.s3-us-east-1.amazonaws.com/r?X-Amz-Signature=a",
		"https://s3.amazonaws.com@evil.net/", "http://127.0.0.1:8080/r", "https://[::1]:443/", "https://evil.amazonaws.com.attacker.net/",
		"https://%65vil.amazonaws.com/", "https://s3.amazonaws.com:443/", "https://s3.amazonaws.com:0443/",
	} {
		f.Add(u)
	}
	hosts := DefaultResponseHosts("aws")
	f.Fuzz(func(t *testing.T, raw string) {
		if checkResponseURL(raw, hosts) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("admitted %q, which does not parse: %v", raw, err)
		}
		host := strings.ToLower(u.Hostname())
		port, _ := strconv.Atoi(u.Port())
		if u.Scheme != "https" || u.User != nil || !strings.HasSuffix(host, ".amazonaws.com") || (u.Port() != "" && port != 443) {
			t.Fatalf("admitted %q: scheme %q, host %q, port %q", raw, u.Scheme, host, u.Port())
		}
	})
}
