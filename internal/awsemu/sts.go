package awsemu

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Role is an IAM role that principals can assume through STS.
type Role struct {
	// ARN is arn:aws:iam::<account>:role/<name>.
	ARN string
	// Trusted lists the principals the trust policy allows: role or user
	// ARNs, or arn:aws:iam::<account>:root for a whole account.
	Trusted []string
	// ExternalID, when set, must be passed by callers (sts:ExternalId
	// condition).
	ExternalID string
	// Actions, when not nil, are the only actions the role's permissions
	// policy allows ("organizations:CreatePolicy", ...); every other action
	// is implicitly denied, IAM's default (IAM User Guide, "Policy
	// evaluation logic": a request is denied unless a policy allows it).
	// Nil allows every action.
	Actions []string
}

type stsService struct {
	ids         *identities
	roles       map[string]Role
	maxLifetime time.Duration
}

func newSTS(ids *identities, maxLifetime time.Duration) *stsService {
	return &stsService{ids: ids, roles: map[string]Role{}, maxLifetime: maxLifetime}
}

// AddRole creates or replaces an assumable role.
func (e *Emulator) AddRole(r Role) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sts.roles[r.ARN] = r
}

func (s *stsService) operations() map[string]queryOp {
	return map[string]queryOp{
		"AssumeRole":        s.assumeRole,
		"GetCallerIdentity": s.getCallerIdentity,
	}
}

var roleARNPattern = regexp.MustCompile(`^arn:aws:iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]+)$`)

var sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string
	Expiration      string
}

type assumeRoleResult struct {
	Credentials     stsCredentials
	AssumedRoleUser struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string
	}
	PackedPolicySize int
}

func (s *stsService) assumeRole(c *call, form url.Values) (any, *APIError) {
	roleARN, session, externalID := form.Get("RoleArn"), form.Get("RoleSessionName"), form.Get("ExternalId")
	c.target = roleARN
	if roleARN == "" || len(roleARN) < 20 {
		return nil, clientError("ValidationError", "1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20", roleARN)
	}
	if !sessionNamePattern.MatchString(session) {
		return nil, clientError("ValidationError", "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", session)
	}
	duration := time.Hour
	if d := form.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 43200 {
			return nil, clientError("ValidationError", "1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200", d)
		}
		duration = time.Duration(n) * time.Second
	}
	duration = min(duration, s.maxLifetime)
	role, ok := s.roles[roleARN]
	if !ok || !trusts(role, c.caller) || (role.ExternalID != "" && role.ExternalID != externalID) {
		return nil, withStatus(clientError("AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", c.caller.ARN, roleARN), http.StatusForbidden)
	}
	m := roleARNPattern.FindStringSubmatch(roleARN)
	if m == nil {
		return nil, clientError("ValidationError", "%s is invalid", roleARN)
	}
	sessionARN := fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", m[1], m[2], session)
	creds := s.ids.issue(sessionARN, "ASIA", time.Now().Add(duration))
	var out assumeRoleResult
	out.Credentials = stsCredentials{
		AccessKeyID:     creds.AccessKeyID,
		SecretAccessKey: creds.SecretAccessKey,
		SessionToken:    creds.SessionToken,
		Expiration:      creds.Expires.UTC().Format(time.RFC3339),
	}
	out.AssumedRoleUser.AssumedRoleID = "AROAEMU" + accountOf(roleARN) + ":" + session
	out.AssumedRoleUser.Arn = sessionARN
	return out, nil
}

// allows reports whether the caller's permissions allow an action: a
// session of a role with an Actions list must find the action there.
func (s *stsService) allows(caller Principal, action string) bool {
	role, ok := s.roles[roleOfSession(caller.ARN)]
	return !ok || role.Actions == nil || slices.Contains(role.Actions, action)
}

func trusts(role Role, caller Principal) bool {
	return slices.Contains(role.Trusted, caller.ARN) ||
		slices.Contains(role.Trusted, roleOfSession(caller.ARN)) ||
		slices.Contains(role.Trusted, fmt.Sprintf("arn:aws:iam::%s:root", caller.Account))
}

func (s *stsService) getCallerIdentity(c *call, _ url.Values) (any, *APIError) {
	return struct {
		UserID  string `xml:"UserId"`
		Account string
		Arn     string
	}{UserID: "AIDAEMU" + c.caller.Account, Account: c.caller.Account, Arn: c.caller.ARN}, nil
}
