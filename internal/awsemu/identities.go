package awsemu

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Principal is who signed a request.
type Principal struct {
	// ARN is an IAM user or role ARN, or an STS assumed-role session ARN.
	ARN string
	// Account is the 12-digit account ID of the principal.
	Account string
}

// Credentials are the keys a client signs with.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken is set for temporary credentials and must then be sent
	// with every request.
	SessionToken string
	// Expires is zero for long-term credentials.
	Expires time.Time
}

type identity struct {
	principal Principal
	creds     Credentials
}

type identities struct {
	mu   sync.Mutex
	n    int
	keys map[string]identity
}

func newIdentities() *identities { return &identities{keys: map[string]identity{}} }

type identityStatus int

const (
	identityOK identityStatus = iota
	identityUnknown
	identityExpired
)

// CredentialsFor returns long-term credentials that identify requests as
// coming from principalARN (for example the manager Lambda's execution role
// session, arn:aws:sts::222222222222:assumed-role/manager/fn).
func (e *Emulator) CredentialsFor(principalARN string) Credentials {
	return e.identities.issue(principalARN, "AKIA", time.Time{})
}

func (ids *identities) issue(principalARN, prefix string, expires time.Time) Credentials {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	ids.n++
	c := Credentials{
		AccessKeyID:     fmt.Sprintf("%sEMU%012d", prefix, ids.n),
		SecretAccessKey: fmt.Sprintf("emu-secret-%d", ids.n),
		Expires:         expires,
	}
	if !expires.IsZero() {
		c.SessionToken = fmt.Sprintf("emu-session-token-%d", ids.n)
	}
	ids.keys[c.AccessKeyID] = identity{principal: Principal{ARN: principalARN, Account: accountOf(principalARN)}, creds: c}
	return c
}

func (ids *identities) lookup(accessKeyID, sessionToken string, now time.Time) (Principal, identityStatus) {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	id, ok := ids.keys[accessKeyID]
	if !ok || id.creds.SessionToken != sessionToken {
		return Principal{}, identityUnknown
	}
	if !id.creds.Expires.IsZero() && now.After(id.creds.Expires) {
		return Principal{}, identityExpired
	}
	return id.principal, identityOK
}

// accountOf returns the account field of an ARN.
func accountOf(s string) string {
	a, err := arn.Parse(s)
	if err != nil {
		return ""
	}
	return a.AccountID
}

// roleOfSession maps an assumed-role session ARN
// (arn:aws:sts::111:assumed-role/Name/session) to its role ARN
// (arn:aws:iam::111:role/Name), the principal a trust policy names.
func roleOfSession(s string) string {
	a, err := arn.Parse(s)
	rest, ok := strings.CutPrefix(a.Resource, "assumed-role/")
	if err != nil || a.Service != "sts" || !ok {
		return s
	}
	name, _, _ := strings.Cut(rest, "/")
	return arn.ARN{Partition: a.Partition, Service: "iam", AccountID: a.AccountID, Resource: "role/" + name}.String()
}
