package cfntemplate

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed schemas/*.json schemas/sam/sam.schema.json
var schemaFiles embed.FS

const samSchema = "schemas/sam/sam.schema.json"

// samDefinitions maps SAM resource types (and Globals) to their definition
// in the SAM schema.
var samDefinitions = map[string]string{
	"AWS::Serverless::Function":     "samtranslator__internal__schema_source__aws_serverless_function__Properties",
	"AWS::Serverless::Api":          "samtranslator__internal__schema_source__aws_serverless_api__Properties",
	"AWS::Serverless::HttpApi":      "samtranslator__internal__schema_source__aws_serverless_httpapi__Properties",
	"AWS::Serverless::LayerVersion": "samtranslator__internal__schema_source__aws_serverless_layerversion__Properties",
	"AWS::Serverless::SimpleTable":  "samtranslator__internal__schema_source__aws_serverless_simpletable__Properties",
	"AWS::Serverless::StateMachine": "samtranslator__internal__schema_source__aws_serverless_statemachine__Properties",
	"AWS::Serverless::Application":  "samtranslator__internal__schema_source__aws_serverless_application__Properties",
	"Globals":                       "__main____Globals",
}

// Unvalidated are resource types whose schema the project does not vendor.
// They are still checked by cfn-lint in CI; listing them here makes the
// gap explicit rather than silent.
var Unvalidated = map[string]string{
	"AWS::CloudWatch::Alarm": "schema not vendored; cfn-lint checks it",
}

// schemaFile is the vendored schema of a resource type.
func schemaFile(typ string) string {
	if strings.HasPrefix(typ, "Custom::") {
		typ = "AWS::CloudFormation::CustomResource"
	}
	return "schemas/" + strings.ToLower(strings.ReplaceAll(typ, "::", "-")) + ".json"
}

var (
	compileMu sync.Mutex
	compiled  = map[string]*jsonschema.Schema{}
)

// ecmaRegexp runs the schemas' ECMA-262 patterns, which Go's regexp (RE2)
// does not accept.
type ecmaRegexp struct{ re *regexp2.Regexp }

func (r ecmaRegexp) MatchString(s string) bool {
	ok, err := r.re.MatchString(s)
	return err == nil && ok
}

func (r ecmaRegexp) String() string { return r.re.String() }

func compileECMA(s string) (jsonschema.Regexp, error) {
	re, err := regexp2.Compile(s, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	return ecmaRegexp{re}, nil
}

// schemaFor compiles (once) the schema of a file, or of a definition in it.
func schemaFor(file, definition string) (*jsonschema.Schema, error) {
	compileMu.Lock()
	defer compileMu.Unlock()
	key := file + "#" + definition
	if s := compiled[key]; s != nil {
		return s, nil
	}
	data, err := schemaFiles.ReadFile(file)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if m, ok := doc.(map[string]any); ok {
		// Remote meta-schema URLs cannot be fetched here; the drafts are
		// set explicitly instead.
		delete(m, "$schema")
	}
	c := jsonschema.NewCompiler()
	if file == samSchema {
		c.DefaultDraft(jsonschema.Draft4)
	} else {
		c.DefaultDraft(jsonschema.Draft7)
	}
	c.UseRegexpEngine(compileECMA)
	url := "file:///" + file
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	loc := url
	if definition != "" {
		loc += "#/definitions/" + definition
	}
	s, err := c.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", loc, err)
	}
	compiled[key] = s
	return s, nil
}

var printer = message.NewPrinter(language.English)

// ValidateSchemas checks every resource's Properties (and a SAM template's
// Globals) against the resource schemas. Values written with intrinsic
// functions are left to the reference checks.
func (t *Template) ValidateSchemas() []Problem {
	var problems []Problem
	if g, ok := t.Doc["Globals"]; ok && t.IsSAM() {
		problems = append(problems, t.validate("/Globals", g, samSchema, samDefinitions["Globals"])...)
	}
	for _, r := range t.Resources() {
		at := pointer("/Resources", r.LogicalID) + "/Properties"
		props := any(r.Properties)
		if r.Properties == nil {
			props = map[string]any{}
		}
		if def, ok := samDefinitions[r.Type]; ok {
			problems = append(problems, t.validate(at, props, samSchema, def)...)
			if r.Type == "AWS::Serverless::Function" {
				problems = append(problems, t.validateLambdaPassThrough(r)...)
			}
			continue
		}
		if _, ok := Unvalidated[r.Type]; ok {
			continue
		}
		file := schemaFile(r.Type)
		if _, err := schemaFiles.ReadFile(file); err != nil {
			problems = append(problems, Problem{pointer("/Resources", r.LogicalID) + "/Type", fmt.Sprintf("no schema for %s; vendor it in internal/cfntemplate/schemas", r.Type)})
			continue
		}
		problems = append(problems, t.validate(at, props, file, "")...)
	}
	return problems
}

func (t *Template) validate(at string, value any, file, definition string) []Problem {
	s, err := schemaFor(file, definition)
	if err != nil {
		return []Problem{{at, err.Error()}}
	}
	err = s.Validate(value)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Problem{{at, err.Error()}}
	}
	var out []Problem
	seen := map[string]bool{}
	for _, leaf := range leaves(ve) {
		where := at
		for _, seg := range leaf.InstanceLocation {
			where = pointer(where, seg)
		}
		if t.isIntrinsicAt(where) || t.coercible(where, leaf) {
			continue
		}
		msg := leaf.ErrorKind.LocalizedString(printer)
		if ap, ok := leaf.ErrorKind.(*kind.AdditionalProperties); ok {
			// The intrinsic filter above cannot see inside the parent
			// object; an unknown property name is always an error.
			msg = fmt.Sprintf("unknown properties %s", strings.Join(ap.Properties, ", "))
		}
		if key := where + msg; !seen[key] {
			seen[key] = true
			out = append(out, Problem{where, msg})
		}
	}
	slices.SortFunc(out, func(a, b Problem) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// leaves returns the innermost errors: the ones that say what is wrong.
func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

// coercible reports a type error that CloudFormation would not make: it
// accepts "300" for a number and "true" for a boolean.
func (t *Template) coercible(ptr string, leaf *jsonschema.ValidationError) bool {
	k, ok := leaf.ErrorKind.(*kind.Type)
	if !ok {
		return false
	}
	s, ok := t.at(ptr).(string)
	if !ok {
		return false
	}
	for _, want := range k.Want {
		switch want {
		case "integer":
			if _, err := strconv.ParseInt(s, 10, 64); err == nil {
				return true
			}
		case "number":
			if _, err := strconv.ParseFloat(s, 64); err == nil {
				return true
			}
		case "boolean":
			if s == "true" || s == "false" {
				return true
			}
		}
	}
	return false
}

// at returns the value at a JSON pointer.
func (t *Template) at(ptr string) any {
	var v any = t.Doc
	for _, seg := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
		switch c := v.(type) {
		case map[string]any:
			v = c[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// lambdaPassThrough are AWS::Serverless::Function properties SAM copies to
// the AWS::Lambda::Function it generates; the SAM schema does not describe
// their values, the Lambda schema does.
var lambdaPassThrough = []string{
	"Architectures", "Description", "Environment", "EphemeralStorage", "FunctionName", "Handler",
	"KmsKeyArn", "Layers", "LoggingConfig", "MemorySize", "ReservedConcurrentExecutions",
	"Runtime", "Timeout", "VpcConfig",
}

// validateLambdaPassThrough checks a SAM function's pass-through properties,
// with the template's Globals.Function applied, against the Lambda schema.
func (t *Template) validateLambdaPassThrough(r Resource) []Problem {
	globals, _ := t.Section("Globals")["Function"].(map[string]any)
	props := map[string]any{}
	where := map[string]string{}
	for _, k := range lambdaPassThrough {
		if v, ok := globals[k]; ok {
			props[k], where[k] = v, "/Globals/Function"
		}
		if v, ok := r.Properties[k]; ok {
			props[k], where[k] = v, pointer("/Resources", r.LogicalID)+"/Properties"
		}
	}
	var out []Problem
	s, err := schemaFor(schemaFile("AWS::Lambda::Function"), "")
	if err != nil {
		return []Problem{{pointer("/Resources", r.LogicalID), err.Error()}}
	}
	err = s.Validate(props)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		if err != nil {
			return []Problem{{pointer("/Resources", r.LogicalID), err.Error()}}
		}
		return nil
	}
	for _, leaf := range leaves(ve) {
		if _, missing := leaf.ErrorKind.(*kind.Required); missing || len(leaf.InstanceLocation) == 0 {
			continue // Code and Role come from SAM
		}
		at := pointer(where[leaf.InstanceLocation[0]], leaf.InstanceLocation[0])
		for _, seg := range leaf.InstanceLocation[1:] {
			at = pointer(at, seg)
		}
		if t.isIntrinsicAt(at) || t.coercible(at, leaf) {
			continue
		}
		out = append(out, Problem{at, leaf.ErrorKind.LocalizedString(printer)})
	}
	return out
}
