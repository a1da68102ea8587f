package orgpolicy

// Policy types in the root: a new organization has backup policies (and
// every type but SCPs) disabled, and attaching a policy of a disabled type
// fails with PolicyTypeNotEnabledException (Organizations API Reference,
// AttachPolicy). These functions run only on that path.

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
)

// ouRoot finds the root's ID in an OU's ID: "ou-" followed by the ID of
// the root that contains the OU, a dash and the OU's own part
// (Organizations API Reference, OrganizationalUnit Id pattern); the root's
// ID is "r-" and that same part (Root Id pattern).
var ouRoot = regexp.MustCompile(`^ou-([0-9a-z]{4,32})-[0-9a-z]{8,32}$`)

// enableFix is the command that enables typ in the target's root, and the
// property that makes the resource do it. The root's ID is the target
// itself or in an OU's ID; for an account it takes one ListRoots call,
// and without organizations:ListRoots (the role grants it only with
// AllowEnablePolicyType) the command says where to look it up.
func enableFix(ctx context.Context, org organizationsAPI, typ, target string) string {
	root := "<root ID: aws organizations list-roots>"
	switch m := ouRoot.FindStringSubmatch(target); {
	case rootIDPattern.MatchString(target):
		root = target
	case m != nil:
		root = "r-" + m[1]
	default:
		if r, err := findRoot(ctx, org); err == nil {
			root = aws.ToString(r.Id)
		} else {
			logger(ctx).Warn("cannot look up the root for the enable-policy-type command", slog.String("error", err.Error()))
		}
	}
	return fmt.Sprintf("policy type %s is not enabled in the organization's root: in the management account run `aws organizations enable-policy-type --root-id %s --policy-type %s`, or set EnablePolicyType: \"true\" to let the resource enable it", typ, root, typ)
}

var rootIDPattern = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)

// findRoot returns the organization's root; an organization has one
// (Organizations User Guide, terminology: "Currently, you can have only one
// root").
func findRoot(ctx context.Context, org organizationsAPI) (types.Root, error) {
	pages := organizations.NewListRootsPaginator(org, &organizations.ListRootsInput{})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return types.Root{}, fmt.Errorf("listing the organization's roots: %w", awsclient.Short(err))
		}
		if len(out.Roots) > 0 {
			return out.Roots[0], nil
		}
	}
	return types.Root{}, fmt.Errorf("listing the organization's roots: none returned")
}

// enablePolicyType enables typ in the root and returns the root's ID. A
// type already enabled or being enabled (ListRoots' PENDING_ENABLE, or
// PolicyTypeAlreadyEnabledException from a race with another enabler) is
// done; the caller's attach waits out PENDING_ENABLE.
func enablePolicyType(ctx context.Context, org organizationsAPI, typ string) (string, error) {
	root, err := findRoot(ctx, org)
	if err != nil {
		return "", err
	}
	id := aws.ToString(root.Id)
	for _, pt := range root.PolicyTypes {
		if string(pt.Type) == typ && (pt.Status == types.PolicyTypeStatusEnabled || pt.Status == types.PolicyTypeStatusPendingEnable) {
			return id, nil
		}
	}
	_, err = org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(id), PolicyType: types.PolicyType(typ)})
	if err != nil && !isA[*types.PolicyTypeAlreadyEnabledException](err) {
		return id, fmt.Errorf("enabling policy type %s in root %s: %w", typ, id, awsclient.Short(err))
	}
	logger(ctx).Info("enabled policy type in the root", slog.String("policyType", typ), slog.String("rootId", id))
	return id, nil
}

// retryWhileEnabling makes one call's retryer also retry
// PolicyTypeNotEnabledException, for the attach right after enabling.
func retryWhileEnabling(o *organizations.Options) {
	o.Retryer = retry.AddWithErrorCodes(o.Retryer, (&types.PolicyTypeNotEnabledException{}).ErrorCode())
}
