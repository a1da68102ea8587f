package cfntemplate

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
)

// lambdaRuntimePolicies are the AWS managed policies SAM attaches to the
// role it generates for a function: their actions are Lambda's log
// delivery and the X-Ray segments of active tracing, which the service
// performs with the role, not the function's code, so they are not in
// the code's call log. A declared role may attach them too; any other
// managed policy cannot be enumerated and is an error.
var lambdaRuntimePolicies = map[string]bool{
	"arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": true,
	"arn:${AWS::Partition}:iam::aws:policy/AWSXrayWriteOnlyAccess":                   true,
}

// Grants returns the IAM actions a function's (or role's) inline policies
// allow, taking both branches of every Fn::If: the union is what some
// deployment of the template grants. A function with Role: !GetAtt R.Arn
// has the grants of the role R. Managed policies (other than the Lambda
// runtime's) and SAM policy templates cannot be enumerated and are an
// error, as is NotAction.
func (t *Template) Grants(logicalID string) ([]string, error) {
	documents, err := t.PolicyDocuments(logicalID)
	if err != nil {
		return nil, err
	}
	actions := map[string]bool{}
	for _, doc := range documents {
		m, _ := doc.(map[string]any)
		for _, st := range branches(m["Statement"]) {
			s, ok := st.(map[string]any)
			if !ok || s["Effect"] != "Allow" {
				continue
			}
			if s["NotAction"] != nil {
				return nil, fmt.Errorf("%s: NotAction cannot be checked", logicalID)
			}
			for _, a := range branches(s["Action"]) {
				if str, ok := a.(string); ok {
					actions[str] = true
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(actions)), nil
}

// PolicyDocuments returns the inline policy documents of a role, or of
// the role a function runs as (its Policies, or those of the role its
// Role property names), as written: Fn::If and all.
func (t *Template) PolicyDocuments(logicalID string) ([]any, error) {
	r, ok := t.Resource(logicalID)
	if !ok {
		return nil, fmt.Errorf("no resource %s", logicalID)
	}
	var documents []any
	switch r.Type {
	case "AWS::Serverless::Function":
		if role, ok := r.Properties["Role"]; ok {
			m, _ := role.(map[string]any)
			getAtt, _ := m["Fn::GetAtt"].([]any)
			if len(getAtt) != 2 || getAtt[1] != "Arn" {
				return nil, fmt.Errorf("%s: Role %v is not !GetAtt <role>.Arn of this template; its grants cannot be checked", logicalID, role)
			}
			if r.Properties["Policies"] != nil {
				return nil, fmt.Errorf("%s: Policies beside Role: SAM ignores them", logicalID)
			}
			id, _ := getAtt[0].(string)
			if res, ok := t.Resource(id); !ok || res.Type != "AWS::IAM::Role" {
				return nil, fmt.Errorf("%s: Role names %s, not an AWS::IAM::Role of this template", logicalID, id)
			}
			return t.PolicyDocuments(id)
		}
		policies, _ := r.Properties["Policies"].([]any)
		for i, p := range policies {
			m, ok := p.(map[string]any)
			if !ok || m["Statement"] == nil {
				return nil, fmt.Errorf("%s: Policies[%d] is a managed policy or SAM policy template; write statements so the grants can be checked", logicalID, i)
			}
			documents = append(documents, m)
		}
	case "AWS::Lambda::Function":
		role, _ := r.Properties["Role"].(map[string]any)
		getAtt, _ := role["Fn::GetAtt"].([]any)
		if len(getAtt) != 2 || getAtt[1] != "Arn" {
			return nil, fmt.Errorf("%s: Role %v is not !GetAtt <role>.Arn of this template; its grants cannot be checked", logicalID, r.Properties["Role"])
		}
		id, _ := getAtt[0].(string)
		if res, ok := t.Resource(id); !ok || res.Type != "AWS::IAM::Role" {
			return nil, fmt.Errorf("%s: Role names %s, not an AWS::IAM::Role of this template", logicalID, id)
		}
		return t.PolicyDocuments(id)
	case "AWS::IAM::Role":
		arns, _ := r.Properties["ManagedPolicyArns"].([]any)
		for _, a := range arns {
			m, _ := a.(map[string]any)
			sub, _ := m["Fn::Sub"].(string)
			if !lambdaRuntimePolicies[sub] {
				return nil, fmt.Errorf("%s: ManagedPolicyArns %v cannot be checked; write inline policies", logicalID, a)
			}
		}
		policies, _ := r.Properties["Policies"].([]any)
		for _, p := range policies {
			m, _ := p.(map[string]any)
			documents = append(documents, m["PolicyDocument"])
		}
	default:
		return nil, fmt.Errorf("%s is a %s, not a function or role", logicalID, r.Type)
	}
	return documents, nil
}

// branches flattens lists and both branches of Fn::If, dropping
// AWS::NoValue.
func branches(v any) []any {
	switch x := v.(type) {
	case []any:
		var out []any
		for _, e := range x {
			out = append(out, branches(e)...)
		}
		return out
	case map[string]any:
		if arg, ok := x["Fn::If"].([]any); ok && len(x) == 1 && len(arg) == 3 {
			return append(branches(arg[1]), branches(arg[2])...)
		}
		if x["Ref"] == "AWS::NoValue" && len(x) == 1 {
			return nil
		}
		return []any{x}
	case nil:
		return nil
	}
	return []any{v}
}

// CompareActions compares what a role grants with what its code called.
// IAM action names are case-insensitive and grants may use wildcards
// ("s3:Get*"). missing are called actions no grant allows; unused are
// grants no call needed.
func CompareActions(granted, called []string) (missing, unused []string) {
	matches := func(grant, action string) bool {
		ok, err := path.Match(strings.ToLower(grant), strings.ToLower(action))
		return err == nil && ok
	}
	for _, a := range called {
		if !slices.ContainsFunc(granted, func(g string) bool { return matches(g, a) }) {
			missing = append(missing, a)
		}
	}
	for _, g := range granted {
		if !slices.ContainsFunc(called, func(a string) bool { return matches(g, a) }) {
			unused = append(unused, g)
		}
	}
	slices.Sort(missing)
	slices.Sort(unused)
	return slices.Compact(missing), slices.Compact(unused)
}

// Request is one authorization IAM makes: an action on one resource ARN,
// with the request's condition keys. An action on several resources
// (organizations:AttachPolicy takes a policy and a target) is one Request
// per resource, each of which must be allowed.
type Request struct {
	Action, Resource string
	Context          map[string]string
	// Principal is the caller (a role ARN, a service principal such as
	// logs.us-east-1.amazonaws.com) for resource policies, whose
	// statements name their principals; identity policies have none.
	Principal string
}

// Allowed reports whether evaluated policy statements (see Evaluate)
// allow r: some Allow statement matches and no Deny does. It knows the
// condition operators the project's templates use; any other is an error,
// so that an unknown operator is never taken as a match.
func Allowed(statements []any, r Request) (bool, error) {
	allowed := false
	for _, st := range statements {
		s, ok := st.(map[string]any)
		if !ok {
			return false, fmt.Errorf("statement %v is not a mapping", st)
		}
		if s["NotAction"] != nil || s["NotResource"] != nil {
			return false, fmt.Errorf("statement %v: NotAction and NotResource are not evaluated", s["Sid"])
		}
		// A role's trust policy has no Resource element: the resource is
		// the role (IAM User Guide, "IAM JSON policy elements: Resource").
		matches := slices.ContainsFunc(stringList(s["Action"]), func(a string) bool { return glob(strings.ToLower(a), strings.ToLower(r.Action)) }) &&
			(s["Resource"] == nil || slices.ContainsFunc(stringList(s["Resource"]), func(p string) bool { return glob(p, r.Resource) }))
		if !matches || !principalMatches(s["Principal"], r.Principal) {
			continue
		}
		cond, err := conditionMatches(s["Condition"], r.Context)
		if err != nil {
			return false, fmt.Errorf("statement %v: %w", s["Sid"], err)
		}
		if !cond {
			continue
		}
		switch s["Effect"] {
		case "Deny":
			return false, nil
		case "Allow":
			allowed = true
		}
	}
	return allowed, nil
}

// conditionMatches evaluates a Condition block: every operator and key
// must match; a key matches when the request's value matches any of the
// listed values. "...IfExists" matches an absent key (IAM User Guide,
// "IAM JSON policy elements: Condition operators", ...IfExists).
func conditionMatches(block any, context map[string]string) (bool, error) {
	ops, _ := block.(map[string]any)
	for op, keys := range ops {
		// ForAnyValue: over a multivalued key; a request context here holds
		// one value per key, a set of one. A missing key makes ForAnyValue
		// false, negated operators included (IAM User Guide, "Set operators
		// for multivalued context keys").
		op, forAny := strings.CutPrefix(op, "ForAnyValue:")
		base, ifExists := strings.CutSuffix(op, "IfExists")
		var match func(pattern, value string) bool
		negated := false
		switch base {
		case "StringEquals", "ArnEquals", "Bool":
			match = func(p, v string) bool { return p == v }
		case "StringLike", "ArnLike":
			match = glob
		case "StringNotEquals", "ArnNotEquals":
			match, negated = func(p, v string) bool { return p == v }, true
		case "StringNotLike", "ArnNotLike":
			match, negated = glob, true
		default:
			return false, fmt.Errorf("condition operator %s is not evaluated", op)
		}
		km, _ := keys.(map[string]any)
		for key, values := range km {
			v, present := context[key]
			if !present && forAny {
				return false, nil
			}
			if !present {
				// A negated operator matches a request without the key
				// (IAM User Guide, "Condition operators": "...Not..."
				// operators and missing keys).
				if !ifExists && !negated {
					return false, nil
				}
				continue
			}
			if slices.ContainsFunc(stringList(values), func(p string) bool { return match(p, v) }) == negated {
				return false, nil
			}
		}
	}
	return true, nil
}

// principalMatches reports whether a statement's Principal element (absent
// in identity policies) names the caller.
func principalMatches(principal any, caller string) bool {
	if principal == nil {
		return true
	}
	if principal == "*" {
		return caller != ""
	}
	m, _ := principal.(map[string]any)
	for _, v := range m {
		if slices.Contains(stringList(v), caller) || caller != "" && slices.Contains(stringList(v), "*") {
			return true
		}
		// An account principal (arn:PARTITION:iam::ACCOUNT:root or the bare
		// account ID) stands for every principal of that account (IAM User
		// Guide, "AWS JSON policy elements: Principal", AWS account
		// principals); conditions such as aws:PrincipalArn narrow it.
		if account := accountOf(caller); account != "" && slices.ContainsFunc(stringList(v), func(p string) bool {
			return p == account || strings.HasPrefix(p, "arn:") && strings.HasSuffix(p, ":iam::"+account+":root")
		}) {
			return true
		}
	}
	return false
}

// accountOf returns the account ID of an IAM principal ARN
// (arn:PARTITION:iam::ACCOUNT:role/... or :user/...), else "".
func accountOf(principalARN string) string {
	parts := strings.SplitN(principalARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || (parts[2] != "iam" && parts[2] != "sts") {
		return ""
	}
	return parts[4]
}

func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// glob matches IAM's wildcards: * any run of characters (":" and "/"
// included), ? any one character.
func glob(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if glob(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && glob(pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && glob(pattern[1:], s[1:])
}
