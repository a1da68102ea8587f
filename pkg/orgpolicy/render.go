package orgpolicy

// RenderDocument returns the document the resource sends Organizations for
// the policy text (inline, or read from S3) and the decoded properties:
// Variables and PolicyRegions applied, backup policies validated, minified
// and checked against the type's size limit. Checks of a template's policies
// before deployment use it, so they render exactly as the function does.
func RenderDocument(text string, p Properties) (string, error) {
	return renderDocument(text, p)
}
