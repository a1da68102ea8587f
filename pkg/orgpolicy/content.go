package orgpolicy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
)

// objectGetter reads policy documents from S3.
type objectGetter interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// maxDocumentBytes bounds what is read from S3. Documents are limited to
// 10,000 characters once minified; a megabyte leaves room for whitespace
// and placeholders while refusing a wrong key that names a huge object.
const maxDocumentBytes = 1 << 20

// documentText returns the policy text, reading it from S3 when the
// properties point there.
func (r *Resource) documentText(ctx context.Context, c Content) (string, error) {
	if c.S3 == nil {
		return c.Inline, nil
	}
	in := &s3.GetObjectInput{Bucket: aws.String(c.S3.Bucket), Key: aws.String(c.S3.Key)}
	if c.S3.VersionID != "" {
		in.VersionId = aws.String(c.S3.VersionID)
	}
	out, err := r.S3.GetObject(ctx, in)
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			switch ae.ErrorCode() {
			case "NoSuchKey", "NoSuchVersion":
				return "", fmt.Errorf("PolicyContent.S3: object %s not found (%s)", c.S3, ae.ErrorCode())
			case "NoSuchBucket":
				return "", fmt.Errorf("PolicyContent.S3: bucket %q not found (NoSuchBucket)", c.S3.Bucket)
			case "AccessDenied":
				return "", fmt.Errorf("PolicyContent.S3: access denied reading %s; the function's role needs s3:GetObject (s3:GetObjectVersion with VersionId) on it", c.S3)
			}
		}
		return "", fmt.Errorf("PolicyContent.S3: reading %s: %w", c.S3, awsclient.Short(err))
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, maxDocumentBytes+1))
	if err != nil {
		return "", fmt.Errorf("PolicyContent.S3: reading %s: %w", c.S3, err)
	}
	if len(data) > maxDocumentBytes {
		return "", fmt.Errorf("PolicyContent.S3: object %s is over %d bytes; policy documents are at most 10,000 characters", c.S3, maxDocumentBytes)
	}
	return string(data), nil
}

// renderDocument applies Variables and PolicyRegions, validates backup
// policies, and returns the minified document with the limit checked.
func renderDocument(text string, p Properties) (string, error) {
	root, err := renderNode(text, p)
	if err != nil {
		return "", contentError{fmt.Errorf("PolicyContent: %w", err)}
	}
	if p.PolicyType == "BACKUP_POLICY" {
		if err := backuppolicy.Validate(root); err != nil {
			return "", contentError{fmt.Errorf("PolicyContent: %w", err)}
		}
	} else if root.Kind != backuppolicy.Object {
		return "", contentError{fmt.Errorf("PolicyContent: a policy document must be a JSON object, not a %s", root.Kind)}
	}
	minified := root.Minify()
	if err := backuppolicy.CheckSize(minified, p.PolicyType); err != nil {
		return "", contentError{fmt.Errorf("PolicyContent: %w", err)}
	}
	return string(minified), nil
}

// renderNode applies the properties' Variables and PolicyRegions to the
// policy text and parses it.
func renderNode(text string, p Properties) (*backuppolicy.Node, error) {
	return backuppolicy.Render(text, backuppolicy.RenderOptions{
		Variables:       p.Variables,
		Regions:         p.Regions,
		RegionsOperator: p.RegionsOperator,
	})
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
