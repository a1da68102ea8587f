package awsclient

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
)

// RoleCredentials hands out credentials for IAM roles assumed through STS,
// one cached provider per role and external ID. Kept for the life of the
// process, the cache spares warm Lambda invocations an AssumeRole call each.
type RoleCredentials struct {
	client      stscreds.AssumeRoleAPIClient
	sessionName string

	mu    sync.Mutex
	cache map[roleKey]*aws.CredentialsCache
}

type roleKey struct{ roleARN, externalID string }

// credentialExpiryWindow refreshes credentials this long before they expire,
// so they never lapse in the middle of an invocation.
const credentialExpiryWindow = 5 * time.Minute

var sessionNameInvalid = regexp.MustCompile(`[^\w+=,.@-]`)

// NewRoleCredentials returns a cache that assumes roles with client, naming
// sessions after sessionName (for CloudTrail; characters STS does not allow
// are replaced).
func NewRoleCredentials(client stscreds.AssumeRoleAPIClient, sessionName string) *RoleCredentials {
	name := sessionNameInvalid.ReplaceAllString(sessionName, "-")
	if len(name) < 2 {
		name = "backup-as-code"
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return &RoleCredentials{client: client, sessionName: name, cache: map[roleKey]*aws.CredentialsCache{}}
}

// Provider returns the cached credentials provider of a role.
func (r *RoleCredentials) Provider(roleARN, externalID string) *aws.CredentialsCache {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := roleKey{roleARN, externalID}
	if p := r.cache[k]; p != nil {
		return p
	}
	p := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(r.client, roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = r.sessionName
		if externalID != "" {
			o.ExternalID = aws.String(externalID)
		}
	}), func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = credentialExpiryWindow })
	r.cache[k] = p
	return p
}

// Config returns a copy of base that signs with the role's credentials. It
// retrieves them first, so a role that cannot be assumed fails here, with
// the role named, rather than inside the first API call.
func (r *RoleCredentials) Config(ctx context.Context, base aws.Config, roleARN, externalID string) (aws.Config, error) {
	p := r.Provider(roleARN, externalID)
	if _, err := p.Retrieve(ctx); err != nil {
		return aws.Config{}, fmt.Errorf("assuming role %s: %w", roleARN, err)
	}
	cfg := base.Copy()
	cfg.Credentials = p
	return cfg, nil
}
