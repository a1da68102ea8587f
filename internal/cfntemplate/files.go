package cfntemplate

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// FileReference is a file of the repository that a template names: it
// exists only if the repository has it, which no linter of the template
// alone can know.
type FileReference struct {
	// Where is the resource and property, e.g.
	// "Pipeline Stages[1].Actions[0].Configuration.TemplatePath".
	Where string
	// Path is relative to the repository's root, or, when
	// FromTemplateDir, to the template's directory.
	Path            string
	FromTemplateDir bool
}

// artifactPath is CodePipeline's "ArtifactName::path/in/artifact", the form
// of a CloudFormation action's TemplatePath and TemplateConfiguration and a
// StackSets action's TemplatePath, Parameters and DeploymentTargets
// (CodePipeline User Guide, "CloudFormation deploy action reference" and
// "AWS CloudFormation StackSets deploy action reference").
var artifactPath = regexp.MustCompile(`^([A-Za-z0-9_\-]+)::(.+)$`)

// FileReferences returns the repository files the template names, written
// as plain strings (a value given by an intrinsic function is not a file
// of the repository):
//   - an AWS::CodeBuild::Project's Source.BuildSpec given as a file name:
//     CodeBuild reads it relative to the source root (CodeBuild API
//     Reference, ProjectSource buildspec: inline YAML, an S3 ARN or a path);
//   - in an AWS::CodePipeline::Pipeline, each action configuration value
//     "Artifact::path" whose artifact is a Source action's output: the
//     repository's tree;
//   - an AWS::CloudFormation::Stack's TemplateURL given as a local path,
//     which `aws cloudformation package` uploads, relative to the template;
//   - an AWS::CloudFormation::StackSet's Metadata.TemplateFile, the
//     repository file its TemplateURL's object is uploaded from (`aws
//     cloudformation package` does not upload StackSet templates:
//     aws/aws-cli#5590), relative to the repository's root.
func (t *Template) FileReferences() []FileReference {
	var out []FileReference
	for _, r := range t.Resources() {
		switch r.Type {
		case "AWS::CodeBuild::Project":
			src, _ := r.Properties["Source"].(map[string]any)
			if spec, ok := src["BuildSpec"].(string); ok && spec != "" && !strings.Contains(spec, "\n") && !strings.HasPrefix(spec, "arn:") {
				out = append(out, FileReference{Where: r.LogicalID + " Source.BuildSpec", Path: spec})
			}
		case "AWS::CloudFormation::Stack":
			if u, ok := r.Properties["TemplateURL"].(string); ok && !strings.Contains(u, "://") {
				out = append(out, FileReference{Where: r.LogicalID + " TemplateURL", Path: u, FromTemplateDir: true})
			}
		case "AWS::CloudFormation::StackSet":
			if f, ok := r.Metadata["TemplateFile"].(string); ok && f != "" {
				out = append(out, FileReference{Where: r.LogicalID + " Metadata.TemplateFile", Path: f})
			}
		case "AWS::CodePipeline::Pipeline":
			out = append(out, pipelineFiles(r)...)
		}
	}
	return out
}

// pipelineFiles returns the source-artifact paths of a pipeline's actions.
func pipelineFiles(r Resource) []FileReference {
	stages, _ := r.Properties["Stages"].([]any)
	source := map[string]bool{}
	for _, s := range stages {
		for _, a := range actions(s) {
			if typ, _ := a["ActionTypeId"].(map[string]any); typ["Category"] == "Source" {
				outputs, _ := a["OutputArtifacts"].([]any)
				for _, o := range outputs {
					if m, ok := o.(map[string]any); ok {
						if name, ok := m["Name"].(string); ok {
							source[name] = true
						}
					}
				}
			}
		}
	}
	var out []FileReference
	for i, s := range stages {
		for j, a := range actions(s) {
			config, _ := a["Configuration"].(map[string]any)
			for _, key := range slices.Sorted(maps.Keys(config)) {
				v, _ := config[key].(string)
				if m := artifactPath.FindStringSubmatch(v); m != nil && source[m[1]] {
					out = append(out, FileReference{Where: fmt.Sprintf("%s Stages[%d].Actions[%d].Configuration.%s", r.LogicalID, i, j, key), Path: m[2]})
				}
			}
		}
	}
	return out
}

func actions(stage any) []map[string]any {
	m, _ := stage.(map[string]any)
	list, _ := m["Actions"].([]any)
	var out []map[string]any
	for _, a := range list {
		if am, ok := a.(map[string]any); ok {
			out = append(out, am)
		}
	}
	return out
}
