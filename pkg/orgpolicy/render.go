package orgpolicy

import "github.com/backup-as-code/orgbackup/pkg/backuppolicy"

// RenderDocument returns the document the resource sends Organizations for
// the policy text (inline, or read from S3) and the decoded properties:
// Variables and PolicyRegions applied, backup policies validated, minified
// and checked against the type's size limit. Checks of a template's policies
// before deployment use it, so they render exactly as the function does.
func RenderDocument(text string, p Properties) (string, error) {
	return renderDocument(text, p)
}

// RenderNode returns the document RenderDocument validates and minifies,
// parsed, with each value's position in the text after Variables are
// replaced (values PolicyRegions sets have none). Offline checks use it to
// report every problem (warnings too) where it is, and RenderDocument for
// the verdict and the document sent.
func RenderNode(text string, p Properties) (*backuppolicy.Node, error) {
	return renderNode(text, p)
}
