package cfntemplate

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Deployment is one way of deploying a template: its parameter values and
// the pseudo parameters of the stack. Evaluate resolves a template value
// the way CloudFormation would for it, so that tests can check what a
// deployment gets (the ARNs a role allows, a log group's name), not only
// how the template spells it.
type Deployment struct {
	// Parameters overrides the template's defaults. It also supplies what
	// only a deployment knows, keyed as UnknownError.Name says:
	// "ImportValue:<export name>" for Fn::ImportValue, "<LogicalId>" for a
	// resource's Ref, "<LogicalId>.<Attribute>" for Fn::GetAtt, and the
	// dynamic reference as written ("{{resolve:ssm:/name}}").
	Parameters map[string]string
	// Pseudo holds AWS::Partition, AWS::Region, AWS::AccountId,
	// AWS::StackName, AWS::StackId, AWS::URLSuffix.
	Pseudo map[string]string
}

// UnknownError is a value that exists only at deploy time: another
// stack's export, a resource's Ref or attribute, an SSM parameter's value,
// a dynamic reference, or a parameter with neither default nor value. The
// Deployment's Parameters can supply it under Name.
type UnknownError struct {
	// Kind is "Fn::ImportValue", "Fn::GetAtt", "Ref", "SSM parameter",
	// "dynamic reference" or "parameter".
	Kind string
	// Name is the key that supplies the value in Deployment.Parameters.
	Name string
	// Why the value is not known before deployment.
	Why string
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Kind, e.Name, e.Why)
}

// noValue stands for AWS::NoValue until its enclosing list or mapping
// drops it.
type noValue struct{}

// Evaluate resolves the intrinsic functions of v for d: Ref to parameters
// and pseudo parameters, Fn::Sub, Fn::Join, Fn::Split, Fn::Select, Fn::If
// and the condition functions, dropping AWS::NoValue. A reference to a
// resource, or a function it does not know, is an error: what only exists
// at deploy time cannot be checked this way.
func (t *Template) Evaluate(v any, d Deployment) (any, error) {
	e := &evaluator{t: t, d: d, conditions: map[string]bool{}, evaluating: map[string]bool{}}
	out, err := e.eval(v)
	if err != nil {
		return nil, err
	}
	if _, ok := out.(noValue); ok {
		return nil, nil
	}
	return out, nil
}

type evaluator struct {
	t          *Template
	d          Deployment
	conditions map[string]bool
	evaluating map[string]bool
}

func (e *evaluator) parameter(name string) (string, error) {
	if v, ok := e.d.Parameters[name]; ok {
		return v, nil
	}
	if v, ok := e.d.Pseudo[name]; ok {
		return v, nil
	}
	p, ok := e.t.Section("Parameters")[name].(map[string]any)
	if !ok {
		if _, isResource := e.t.Section("Resources")[name]; isResource {
			return "", &UnknownError{Kind: "Ref", Name: name, Why: "a resource's Ref is known only once it exists"}
		}
		if res, attr, dotted := strings.Cut(name, "."); dotted {
			if _, isResource := e.t.Section("Resources")[res]; isResource {
				return "", &UnknownError{Kind: "Fn::GetAtt", Name: name, Why: "attribute " + attr + " of resource " + res + " is known only once it exists"}
			}
		}
		return "", fmt.Errorf("ref to %s: not a parameter or given pseudo parameter", name)
	}
	// An SSM parameter type's default is the name of a Parameter Store
	// parameter, whose value CloudFormation reads at deploy time
	// (CloudFormation User Guide, "Specify existing resources at runtime
	// with CloudFormation-supplied parameter types").
	if typ, _ := p["Type"].(string); strings.HasPrefix(typ, "AWS::SSM::Parameter::Value<") {
		return "", &UnknownError{Kind: "SSM parameter", Name: name, Why: fmt.Sprintf("its value is read from SSM Parameter Store (%v) at deploy time", p["Default"])}
	}
	def, ok := p["Default"]
	if !ok {
		return "", &UnknownError{Kind: "parameter", Name: name, Why: "the parameter has no default and the deployment no value"}
	}
	return fmt.Sprint(def), nil
}

func (e *evaluator) condition(name string) (bool, error) {
	if v, ok := e.conditions[name]; ok {
		return v, nil
	}
	if e.evaluating[name] {
		return false, fmt.Errorf("condition %s refers to itself", name)
	}
	expr, ok := e.t.Section("Conditions")[name]
	if !ok {
		return false, fmt.Errorf("no condition %s", name)
	}
	e.evaluating[name] = true
	v, err := e.eval(expr)
	delete(e.evaluating, name)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("condition %s is %v, not a boolean", name, v)
	}
	e.conditions[name] = b
	return b, nil
}

// isListType reports whether a parameter of type typ is a list: a
// CommaDelimitedList, a List<…> of AWS-specific values, or an SSM parameter
// holding either (CloudFormation User Guide, "Parameters": supported
// parameter types).
func isListType(typ any) bool {
	s, _ := typ.(string)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "AWS::SSM::Parameter::Value<"), ">")
	return s == "CommaDelimitedList" || strings.HasPrefix(s, "List<")
}

// dynamicReference matches {{resolve:service:reference}} (CloudFormation
// User Guide, "Get values stored in other services using dynamic
// references"), which CloudFormation resolves at deploy time.
var dynamicReference = regexp.MustCompile(`\{\{resolve:[^}]*\}\}`)

// resolveDynamic replaces the dynamic references in s with the values the
// deployment gives for them.
func (e *evaluator) resolveDynamic(s string) (string, error) {
	var err error
	out := dynamicReference.ReplaceAllStringFunc(s, func(ref string) string {
		if v, ok := e.d.Parameters[ref]; ok {
			return v
		}
		if err == nil {
			err = &UnknownError{Kind: "dynamic reference", Name: ref, Why: "CloudFormation reads it from its service at deploy time"}
		}
		return ref
	})
	return out, err
}

func (e *evaluator) eval(v any) (any, error) {
	out, err := e.evalValue(v)
	if s, ok := out.(string); ok && err == nil && strings.Contains(s, "{{resolve:") {
		return e.resolveDynamic(s)
	}
	return out, err
}

func (e *evaluator) evalValue(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, el := range x {
			r, err := e.eval(el)
			if err != nil {
				return nil, err
			}
			if _, drop := r.(noValue); !drop {
				out = append(out, r)
			}
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
					return e.function(k, arg)
				}
			}
		}
		out := make(map[string]any, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			r, err := e.eval(x[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, drop := r.(noValue); !drop {
				out[k] = r
			}
		}
		return out, nil
	}
	return v, nil
}

func (e *evaluator) function(name string, arg any) (any, error) {
	args, _ := arg.([]any)
	switch name {
	case "Ref":
		ref, _ := arg.(string)
		if ref == "AWS::NoValue" {
			return noValue{}, nil
		}
		v, err := e.parameter(ref)
		if err != nil {
			return nil, err
		}
		// A CommaDelimitedList parameter is a list of strings, the
		// empty string a list of one empty string (CloudFormation User
		// Guide, "Parameters": CommaDelimitedList).
		if p, _ := e.t.Section("Parameters")[ref].(map[string]any); isListType(p["Type"]) {
			var out []any
			for _, s := range strings.Split(v, ",") {
				out = append(out, strings.TrimSpace(s))
			}
			return out, nil
		}
		return v, nil
	case "Condition":
		c, _ := arg.(string)
		return e.condition(c)
	case "Fn::If":
		if len(args) != 3 {
			return nil, fmt.Errorf("Fn::If takes [condition, then, else]")
		}
		c, _ := args[0].(string)
		ok, err := e.condition(c)
		if err != nil {
			return nil, err
		}
		if ok {
			return e.eval(args[1])
		}
		return e.eval(args[2])
	case "Fn::Equals":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Equals takes two values")
		}
		a, err := e.eval(args[0])
		if err != nil {
			return nil, err
		}
		b, err := e.eval(args[1])
		if err != nil {
			return nil, err
		}
		return fmt.Sprint(a) == fmt.Sprint(b), nil
	case "Fn::Contains":
		// A rule function: true when the string matches one of the list's
		// values (CloudFormation Template Reference, "Rule functions",
		// Fn::Contains).
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Contains takes [list, value]")
		}
		list, err := e.strings(args[0])
		if err != nil {
			return nil, err
		}
		v, err := e.eval(args[1])
		if err != nil {
			return nil, err
		}
		return slices.Contains(list, fmt.Sprint(v)), nil
	case "Fn::Not", "Fn::And", "Fn::Or":
		var bools []bool
		for _, a := range args {
			r, err := e.eval(a)
			if err != nil {
				return nil, err
			}
			b, ok := r.(bool)
			if !ok {
				return nil, fmt.Errorf("%s of %v, not a condition", name, r)
			}
			bools = append(bools, b)
		}
		switch {
		case name == "Fn::Not" && len(bools) == 1:
			return !bools[0], nil
		case name == "Fn::And" && len(bools) >= 2:
			return !slices.Contains(bools, false), nil
		case name == "Fn::Or" && len(bools) >= 2:
			return slices.Contains(bools, true), nil
		}
		return nil, fmt.Errorf("%s with %d conditions", name, len(bools))
	case "Fn::Sub":
		return e.sub(arg)
	case "Fn::ImportValue":
		// Another stack's export (CloudFormation Template Reference,
		// Fn::ImportValue): known offline only when the deployment gives it.
		n, err := e.eval(arg)
		if err != nil {
			return nil, err
		}
		name, ok := n.(string)
		if !ok {
			return nil, fmt.Errorf("Fn::ImportValue of %v, not an export name", n)
		}
		if v, ok := e.d.Parameters["ImportValue:"+name]; ok {
			return v, nil
		}
		return nil, &UnknownError{Kind: "Fn::ImportValue", Name: "ImportValue:" + name, Why: "the export of another stack is read at deploy time"}
	case "Fn::GetAtt":
		var res, attr string
		switch a := arg.(type) {
		case string:
			res, attr, _ = strings.Cut(a, ".")
		case []any:
			if len(a) == 2 {
				res, _ = a[0].(string)
				attr, _ = a[1].(string)
			}
		}
		if res == "" || attr == "" {
			return nil, fmt.Errorf("Fn::GetAtt takes [resource, attribute]")
		}
		if v, ok := e.d.Parameters[res+"."+attr]; ok {
			return v, nil
		}
		return nil, &UnknownError{Kind: "Fn::GetAtt", Name: res + "." + attr, Why: "attribute " + attr + " of resource " + res + " is known only once it exists"}
	case "Fn::ToJsonString":
		// The AWS::LanguageExtensions transform's JSON encoding of an
		// object or list (CloudFormation Template Reference,
		// Fn::ToJsonString), keys sorted.
		v, err := e.eval(arg)
		if err != nil {
			return nil, err
		}
		var buf strings.Builder
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return nil, fmt.Errorf("Fn::ToJsonString: %w", err)
		}
		return strings.TrimSuffix(buf.String(), "\n"), nil
	case "Fn::Join":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Join takes [delimiter, list]")
		}
		delim, _ := args[0].(string)
		list, err := e.strings(args[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::Join: %w", err)
		}
		return strings.Join(list, delim), nil
	case "Fn::Split":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Split takes [delimiter, string]")
		}
		delim, _ := args[0].(string)
		s, err := e.eval(args[1])
		if err != nil {
			return nil, err
		}
		str, ok := s.(string)
		if !ok || delim == "" {
			return nil, fmt.Errorf("Fn::Split of %v by %q", s, delim)
		}
		var out []any
		for _, part := range strings.Split(str, delim) {
			out = append(out, part)
		}
		return out, nil
	case "Fn::Select":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Select takes [index, list]")
		}
		i, err := strconv.Atoi(fmt.Sprint(args[0]))
		if err != nil {
			return nil, fmt.Errorf("Fn::Select index %v", args[0])
		}
		list, err := e.eval(args[1])
		if err != nil {
			return nil, err
		}
		l, ok := list.([]any)
		if !ok || i < 0 || i >= len(l) {
			return nil, fmt.Errorf("Fn::Select %d of %v", i, list)
		}
		return l[i], nil
	}
	return nil, fmt.Errorf("%s cannot be evaluated before deployment", name)
}

func (e *evaluator) strings(v any) ([]string, error) {
	r, err := e.eval(v)
	if err != nil {
		return nil, err
	}
	l, ok := r.([]any)
	if !ok {
		return nil, fmt.Errorf("%v is not a list", r)
	}
	out := make([]string, len(l))
	for i, el := range l {
		s, ok := el.(string)
		if !ok {
			return nil, fmt.Errorf("list element %v is not a string", el)
		}
		out[i] = s
	}
	return out, nil
}

// subVariable matches ${Name} and ${Resource.Attribute} in Fn::Sub strings
// (${!Literal} is an escaped literal).
var subVariable = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// sub resolves Fn::Sub: "string" or ["string", {Var: value}].
func (e *evaluator) sub(arg any) (any, error) {
	str, ok := arg.(string)
	vars := map[string]string{}
	if !ok {
		args, _ := arg.([]any)
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Sub takes a string or [string, variables]")
		}
		str, _ = args[0].(string)
		m, _ := args[1].(map[string]any)
		for k, v := range m {
			r, err := e.eval(v)
			if err != nil {
				return nil, fmt.Errorf("Fn::Sub variable %s: %w", k, err)
			}
			vars[k] = fmt.Sprint(r)
		}
	}
	var err error
	out := subVariable.ReplaceAllStringFunc(str, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := vars[name]; ok {
			return v
		}
		v, perr := e.parameter(name)
		if perr != nil && err == nil {
			err = fmt.Errorf("Fn::Sub %q: %w", str, perr)
		}
		return v
	})
	if err != nil {
		return nil, err
	}
	// ${!Literal} stands for ${Literal}.
	return strings.ReplaceAll(out, "${!", "${"), nil
}
