package cfntemplate

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// RequestProperties returns the ResourceProperties CloudFormation sends a
// custom resource's provider for r in deployment d: intrinsic functions
// resolved (Evaluate), scalars as strings (CloudFormation delivers a custom
// resource's numbers and booleans as strings). A property whose value exists
// only at deploy time (a resource's Ref or Fn::GetAtt, Fn::ImportValue, a
// parameter with no default and no value in d) is left out and returned in
// deferred with the reason: nothing can check it before deployment.
func (t *Template) RequestProperties(r Resource, d Deployment) (props map[string]any, deferred map[string]error) {
	props, deferred = map[string]any{}, map[string]error{}
	for _, name := range slices.Sorted(maps.Keys(r.Properties)) {
		v, err := t.Evaluate(r.Properties[name], d)
		if err != nil {
			deferred[name] = err
			continue
		}
		if v != nil {
			props[name] = stringScalars(v)
		}
	}
	return props, deferred
}

// stringScalars turns the numbers and booleans of v into strings.
func stringScalars(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = stringScalars(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stringScalars(e)
		}
		return out
	case json.Number, bool:
		return fmt.Sprint(x)
	}
	return v
}
