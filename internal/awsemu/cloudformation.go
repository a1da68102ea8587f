package awsemu

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"go.yaml.in/yaml/v3"
)

// Stack is a CloudFormation stack as DescribeStacks shows it.
type Stack struct {
	ID, Name, Status string
	Created          time.Time
	// Template is the template body GetTemplate returns; Parameters the
	// stack's parameter values (SetStackTemplate); Resolved the values
	// SSM-typed parameters resolved to (SetResolvedParameter).
	Template   string
	Parameters map[string]string
	Resolved   map[string]string
}

// cloudFormation models DescribeStacks, which the drift check uses to tell
// whether the stack named in a policy's ownership tags still exists and to
// read a stack's parameter values, and GetTemplate, which reads what the
// stack declares.
type cloudFormation struct {
	mu     sync.Mutex
	stacks []Stack
	seq    int
}

func newCloudFormation() *cloudFormation { return &cloudFormation{} }

func (s *cloudFormation) operations() map[string]queryOp {
	return map[string]queryOp{"DescribeStacks": s.describeStacks, "GetTemplate": s.getTemplate}
}

// AddStack adds a running stack (CREATE_COMPLETE) in account and region
// and returns its unique stack ID.
func (e *Emulator) AddStack(account, region, name string) string {
	s := e.cloudformation
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/%08x-0000-4000-8000-%012x", Partition(region), region, account, name, s.seq, s.seq)
	s.stacks = append(s.stacks, Stack{ID: id, Name: name, Status: "CREATE_COMPLETE", Created: time.Now().UTC()})
	return id
}

// AddStackWithID adds a running stack (CREATE_COMPLETE) with a given
// unique stack ID, for a stack that must match one named elsewhere: the
// StackId of a recorded CloudFormation event, which is what the policies
// the event creates carry in their ownership tags. Its account, Region and
// name are the ID's. The ID must be a stack ARN
// (arn:PARTITION:cloudformation:REGION:ACCOUNT:stack/NAME/UUID) that no
// stack has yet: CloudFormation never reuses a unique stack ID.
func (e *Emulator) AddStackWithID(id string) error {
	a, err := arn.Parse(id)
	if err != nil {
		return fmt.Errorf("stack ID %s: %w", id, err)
	}
	kind, rest, _ := strings.Cut(a.Resource, "/")
	name, uuid, _ := strings.Cut(rest, "/")
	if a.Service != "cloudformation" || kind != "stack" || name == "" || uuid == "" || a.Region == "" || a.AccountID == "" {
		return fmt.Errorf("stack ID %s is not arn:PARTITION:cloudformation:REGION:ACCOUNT:stack/NAME/UUID", id)
	}
	s := e.cloudformation
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.ContainsFunc(s.stacks, func(st Stack) bool { return st.ID == id }) {
		return fmt.Errorf("stack ID %s is taken", id)
	}
	s.stacks = append(s.stacks, Stack{ID: id, Name: name, Status: "CREATE_COMPLETE", Created: time.Now().UTC()})
	return nil
}

// DeleteStack deletes a stack: DescribeStacks then finds it only by its
// unique ID, as DELETE_COMPLETE.
func (e *Emulator) DeleteStack(id string) {
	s := e.cloudformation
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.stacks {
		if s.stacks[i].ID == id {
			s.stacks[i].Status = "DELETE_COMPLETE"
		}
	}
}

// SetStackTemplate sets what a stack was deployed with: its template body
// and parameter values.
func (e *Emulator) SetStackTemplate(id, body string, parameters map[string]string) {
	s := e.cloudformation
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.stacks {
		if s.stacks[i].ID == id {
			s.stacks[i].Template, s.stacks[i].Parameters = body, maps.Clone(parameters)
		}
	}
}

// SetResolvedParameter makes a stack parameter an SSM-typed one: its
// value is the SSM parameter's name, and resolved what it resolved to at
// the last deploy (DescribeStacks' ResolvedValue).
func (e *Emulator) SetResolvedParameter(id, key, resolved string) {
	s := e.cloudformation
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.stacks {
		if s.stacks[i].ID == id {
			if s.stacks[i].Resolved == nil {
				s.stacks[i].Resolved = map[string]string{}
			}
			s.stacks[i].Resolved[key] = resolved
		}
	}
}

// noEcho lists the NoEcho parameters of a template body (YAML or JSON).
func noEcho(body string) map[string]bool {
	var tpl struct {
		Parameters map[string]struct {
			NoEcho any `yaml:"NoEcho"`
		} `yaml:"Parameters"`
	}
	out := map[string]bool{}
	if yaml.Unmarshal([]byte(body), &tpl) != nil {
		return out
	}
	for name, p := range tpl.Parameters {
		if v := fmt.Sprint(p.NoEcho); strings.EqualFold(v, "true") {
			out[name] = true
		}
	}
	return out
}

// maskedValue is how DescribeStacks shows a NoEcho parameter: "the
// parameter value is masked with asterisks (*****)" (AWS CloudFormation
// User Guide, Parameters: NoEcho).
const maskedValue = "*****"

type stackXML struct {
	StackID      string `xml:"StackId"`
	StackName    string
	StackStatus  string
	CreationTime string
	Parameters   []parameterXML `xml:"Parameters>member"`
}

type parameterXML struct {
	ParameterKey, ParameterValue string
	ResolvedValue                string `xml:",omitempty"`
}

// find returns the stack StackName names, as DescribeStacks and
// GetTemplate look it up: a running stack by name or unique ID, a deleted
// one by unique ID only, in the caller's account and the request's Region.
func (s *cloudFormation) find(c *call, name string) (Stack, bool) {
	for _, st := range s.stacks {
		a, _ := arn.Parse(st.ID)
		if a.AccountID != c.caller.Account || a.Region != c.region {
			continue
		}
		if name == st.ID || (name == st.Name && st.Status != "DELETE_COMPLETE") {
			return st, true
		}
	}
	return Stack{}, false
}

// getTemplate: "Returns the template body for a specified stack. You can
// get the template for running or deleted stacks. ... If the template
// doesn't exist, a ValidationError is returned." StackName as for
// DescribeStacks (AWS CloudFormation API Reference, GetTemplate). A stack
// holds one template: Original and Processed (TemplateStage) are the same
// for a template without transforms, and the emulator models no
// transforms.
func (s *cloudFormation) getTemplate(c *call, form url.Values) (any, *APIError) {
	name := form.Get("StackName")
	c.target = name
	if stage := form.Get("TemplateStage"); stage != "" && stage != "Original" && stage != "Processed" {
		return nil, clientError("ValidationError", "1 validation error detected: Value '%s' at 'templateStage' failed to satisfy constraint: Member must satisfy enum value set: [Original, Processed]", stage)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.find(c, name)
	if !ok || st.Template == "" {
		return nil, clientError("ValidationError", "Stack with id %s does not exist", name)
	}
	return struct {
		TemplateBody    string
		StagesAvailable []string `xml:"StagesAvailable>member"`
	}{st.Template, []string{"Original", "Processed"}}, nil
}

// describeStacks: "If the stack doesn't exist, a ValidationError is
// returned." StackName is "the name or the unique stack ID ... Running
// stacks: You can specify either the stack's name or its unique stack ID.
// Deleted stacks: You must specify the unique stack ID." (AWS
// CloudFormation API Reference, DescribeStacks). A deleted stack is shown
// for 90 days after deletion; the emulator never ages them out. Only the
// caller's account and the request's Region have its stacks. Without
// StackName it lists every running stack in one page (NextToken is not
// modeled: the code asks for one stack at a time).
func (s *cloudFormation) describeStacks(c *call, form url.Values) (any, *APIError) {
	name := form.Get("StackName")
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []stackXML
	for _, st := range s.stacks {
		a, _ := arn.Parse(st.ID)
		if a.AccountID != c.caller.Account || a.Region != c.region {
			continue
		}
		deleted := st.Status == "DELETE_COMPLETE"
		switch {
		case name == "" && !deleted,
			name == st.ID,
			name == st.Name && !deleted:
			sx := stackXML{StackID: st.ID, StackName: st.Name, StackStatus: st.Status, CreationTime: st.Created.Format(time.RFC3339)}
			masked := noEcho(st.Template)
			for _, k := range slices.Sorted(maps.Keys(st.Parameters)) {
				p := parameterXML{ParameterKey: k, ParameterValue: st.Parameters[k], ResolvedValue: st.Resolved[k]}
				if masked[k] {
					p.ParameterValue, p.ResolvedValue = maskedValue, ""
				}
				sx.Parameters = append(sx.Parameters, p)
			}
			out = append(out, sx)
		}
	}
	if name != "" && len(out) == 0 {
		return nil, clientError("ValidationError", "Stack with id %s does not exist", name)
	}
	return struct {
		Stacks []stackXML `xml:"Stacks>member"`
	}{out}, nil
}
