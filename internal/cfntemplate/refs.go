package cfntemplate

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// pseudoParameters are the names Ref accepts besides parameters and
// resources.
var pseudoParameters = []string{
	"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
	"AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
}

// refs are the names a template can refer to.
type refs struct {
	params, resources, conditions, mappings map[string]bool
	// generated are resources SAM adds: <Function>Role, <Function>.Alias...
	generated map[string]string // name -> type
	types     map[string]string // resource -> type
}

func (t *Template) names() refs {
	r := refs{
		params: keys(t.Section("Parameters")), resources: keys(t.Section("Resources")),
		conditions: keys(t.Section("Conditions")), mappings: keys(t.Section("Mappings")),
		generated: map[string]string{}, types: map[string]string{},
	}
	globals, _ := t.Section("Globals")["Function"].(map[string]any)
	for _, res := range t.Resources() {
		r.types[res.LogicalID] = res.Type
		if res.Type != "AWS::Serverless::Function" {
			continue
		}
		if _, hasRole := res.Properties["Role"]; !hasRole {
			r.generated[res.LogicalID+"Role"] = "AWS::IAM::Role"
		}
		_, alias := res.Properties["AutoPublishAlias"]
		_, globalAlias := globals["AutoPublishAlias"]
		if alias || globalAlias {
			r.generated[res.LogicalID+".Alias"] = "AWS::Lambda::Alias"
			r.generated[res.LogicalID+".Version"] = "AWS::Lambda::Version"
		}
	}
	return r
}

func keys(m map[string]any) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// subVariable matches ${Name} and ${Resource.Attribute} in Fn::Sub strings
// (${!Literal} is an escaped literal).
var subVariable = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// CheckReferences checks that every Ref, Fn::GetAtt and Fn::Sub names a
// parameter, resource (or attribute of one), pseudo parameter or Sub
// variable; that conditions and mappings used exist; that DependsOn names
// resources; and that every parameter and condition is used.
func (t *Template) CheckReferences() []Problem {
	n := t.names()
	c := &refChecker{t: t, n: n, usedParams: map[string]bool{}, usedConds: map[string]bool{}}
	for _, section := range []string{"Conditions", "Resources", "Outputs", "Globals"} {
		c.walk(t.Doc[section], "/"+section, nil)
	}
	for _, res := range t.Resources() {
		at := pointer("/Resources", res.LogicalID)
		if res.Condition != "" {
			c.useCondition(res.Condition, at+"/Condition")
		}
		raw, _ := t.Section("Resources")[res.LogicalID].(map[string]any)
		var deps []string
		switch d := raw["DependsOn"].(type) {
		case string:
			deps = []string{d}
		case []any:
			for _, x := range d {
				s, _ := x.(string)
				deps = append(deps, s)
			}
		}
		for _, d := range deps {
			if !n.resources[d] {
				c.fail(at+"/DependsOn", "DependsOn names no resource %q", d)
			}
		}
	}
	for name, o := range t.Section("Outputs") {
		if m, ok := o.(map[string]any); ok {
			if cond, ok := m["Condition"].(string); ok {
				c.useCondition(cond, pointer("/Outputs", name)+"/Condition")
			}
		}
	}
	for _, p := range slices.Sorted(maps.Keys(n.params)) {
		if !c.usedParams[p] {
			c.fail(pointer("/Parameters", p), "parameter is never used")
		}
	}
	for _, cond := range slices.Sorted(maps.Keys(n.conditions)) {
		if !c.usedConds[cond] {
			c.fail(pointer("/Conditions", cond), "condition is never used")
		}
	}
	slices.SortFunc(c.problems, func(a, b Problem) int { return strings.Compare(a.String(), b.String()) })
	return c.problems
}

type refChecker struct {
	t          *Template
	n          refs
	problems   []Problem
	usedParams map[string]bool
	usedConds  map[string]bool
}

func (c *refChecker) fail(at, format string, args ...any) {
	c.problems = append(c.problems, Problem{at, fmt.Sprintf(format, args...)})
}

func (c *refChecker) useCondition(name, at string) {
	c.usedConds[name] = true
	if !c.n.conditions[name] {
		c.fail(at, "condition %q is not defined", name)
	}
}

// ref checks a Ref (or a ${Name} in a Sub, with vars its own variables).
func (c *refChecker) ref(name, at string, vars map[string]bool) {
	switch {
	case vars[name], c.n.resources[name], slices.Contains(pseudoParameters, name):
	case c.n.params[name]:
		c.usedParams[name] = true
	case c.n.generated[name] != "":
	default:
		c.fail(at, "Ref to %q, which is not a parameter, resource or pseudo parameter", name)
	}
}

func (c *refChecker) getAtt(resource, attr, at string) {
	typ := c.n.types[resource]
	if typ == "" {
		typ = c.n.generated[resource]
	}
	if typ == "" {
		c.fail(at, "Fn::GetAtt of %q, which is not a resource", resource)
		return
	}
	attrs, known := attributes(typ)
	if known && !slices.Contains(attrs, attr) {
		c.fail(at, "%s has no attribute %q; it has %s", typ, attr, strings.Join(attrs, ", "))
	}
}

// attributes lists what Fn::GetAtt can read of a type: the schema's
// read-only properties. ok is false when the type has no vendored schema.
func attributes(typ string) (attrs []string, ok bool) {
	switch typ {
	case "AWS::Serverless::Function":
		return []string{"Arn"}, true
	case "AWS::IAM::Role":
		return []string{"Arn", "RoleId"}, true
	}
	data, err := schemaFiles.ReadFile(schemaFile(typ))
	if err != nil || strings.HasPrefix(typ, "Custom::") {
		return nil, false
	}
	var s struct {
		ReadOnlyProperties []string `json:"readOnlyProperties"`
	}
	if json.Unmarshal(data, &s) != nil {
		return nil, false
	}
	for _, p := range s.ReadOnlyProperties {
		attrs = append(attrs, strings.ReplaceAll(strings.TrimPrefix(p, "/properties/"), "/", "."))
	}
	slices.Sort(attrs)
	return attrs, true
}

func (c *refChecker) walk(v any, at string, vars map[string]bool) {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			c.walk(e, pointer(at, fmt.Sprint(i)), vars)
		}
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if c.intrinsic(k, arg, pointer(at, k), vars) {
					return
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			c.walk(x[k], pointer(at, k), vars)
		}
	}
}

// intrinsic checks one intrinsic function and reports whether it handled
// its argument.
func (c *refChecker) intrinsic(fn string, arg any, at string, vars map[string]bool) bool {
	switch fn {
	case "Ref":
		if s, ok := arg.(string); ok {
			c.ref(s, at, vars)
		} else {
			c.fail(at, "Ref takes a name")
		}
		return true
	case "Condition":
		if s, ok := arg.(string); ok {
			c.useCondition(s, at)
			return true
		}
	case "Fn::GetAtt":
		var parts []string
		switch a := arg.(type) {
		case string:
			r, attr, _ := strings.Cut(a, ".")
			parts = []string{r, attr}
		case []any:
			for _, p := range a {
				s, _ := p.(string)
				parts = append(parts, s)
			}
		}
		if len(parts) != 2 {
			c.fail(at, "Fn::GetAtt takes [Resource, Attribute]")
			return true
		}
		c.getAtt(parts[0], parts[1], at)
		return true
	case "Fn::Sub":
		s, ok := arg.(string)
		local := map[string]bool{}
		if list, isList := arg.([]any); isList && len(list) == 2 {
			s, ok = list[0].(string)
			if m, isMap := list[1].(map[string]any); isMap {
				for k, v := range m {
					local[k] = true
					c.walk(v, pointer(pointer(at, "1"), k), vars)
				}
			}
		}
		if !ok {
			c.fail(at, "Fn::Sub takes a string or [string, {variables}]")
			return true
		}
		for _, m := range subVariable.FindAllStringSubmatch(s, -1) {
			name := strings.TrimSpace(m[1])
			if res, attr, dotted := strings.Cut(name, "."); dotted && !local[name] {
				c.getAtt(res, attr, at)
				continue
			}
			c.ref(name, at, local)
		}
		return true
	case "Fn::If":
		list, ok := arg.([]any)
		if !ok || len(list) != 3 {
			c.fail(at, "Fn::If takes [Condition, ValueIfTrue, ValueIfFalse]")
			return true
		}
		if s, ok := list[0].(string); ok {
			c.useCondition(s, pointer(at, "0"))
		}
		c.walk(list[1], pointer(at, "1"), vars)
		c.walk(list[2], pointer(at, "2"), vars)
		return true
	case "Fn::FindInMap":
		if list, ok := arg.([]any); ok && len(list) >= 3 {
			if s, ok := list[0].(string); ok && !c.n.mappings[s] {
				c.fail(at, "Fn::FindInMap names no mapping %q", s)
			}
		}
	}
	return false
}
