package orgpolicy

// The writes: what Organizations sees of each verb. Create, Update and
// Delete (create.go, update.go, delete.go) decide which of these to make;
// a policyPlan (plan.go) says what apply changes.

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
)

// createPolicy creates the policy with its tags and attaches it to every
// target: one CreatePolicy and one AttachPolicy per target. When the name
// is taken (DuplicatePolicyException), the existing policy of that type and
// name is adopted and converged instead if its ownership tags name this
// resource (a retried Create whose first attempt got as far as
// CreatePolicy), or, with adoptUnowned, if it has no ownership tags at all
// (a policy of the earlier solution, AdoptExistingPolicy). created is true
// only when this call's CreatePolicy made the policy.
//
// Once a policy this resource owns exists, its ID is returned even with an
// error, so that a FAILED response still names it and CloudFormation's
// rollback deletes it.
func createPolicy(ctx context.Context, org organizationsAPI, d desiredPolicy, owner policyOwner, adoptUnowned bool) (id, arn string, created bool, err error) {
	out, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{
		Name:        aws.String(d.Name),
		Description: aws.String(d.Description),
		Type:        types.PolicyType(d.Type),
		Content:     aws.String(d.Content),
		Tags:        orgTags(d.Tags),
	})
	if isA[*types.DuplicatePolicyException](err) {
		id, arn, err = adoptPolicy(ctx, org, d, owner, adoptUnowned)
		return id, arn, false, err
	}
	if err != nil {
		return "", "", false, fmt.Errorf("creating Organizations policy %q: %w", d.Name, awsclient.Short(err))
	}
	id, arn = aws.ToString(out.Policy.PolicySummary.Id), aws.ToString(out.Policy.PolicySummary.Arn)
	logger(ctx).Info("created policy", slog.String("policyId", id), slog.String("policyName", d.Name))
	for _, t := range d.Targets {
		if err := attach(ctx, org, id, d.Type, t, d.EnableType); err != nil {
			return id, arn, true, err
		}
	}
	return id, arn, true, nil
}

// adoptPolicy takes over the existing policy of the desired type and name
// when its ownership tags name this resource, or when it has none and
// adoptUnowned is set, and converges it.
func adoptPolicy(ctx context.Context, org organizationsAPI, d desiredPolicy, owner policyOwner, adoptUnowned bool) (id, arn string, err error) {
	summary, err := findPolicyByName(ctx, org, d.Type, d.Name)
	if awsclient.IsNotFound(err) {
		return "", "", fmt.Errorf("creating Organizations policy %q: a policy with this name already exists but is not a %s policy; use another PolicyName", d.Name, d.Type)
	}
	if err != nil {
		return "", "", err
	}
	id = aws.ToString(summary.Id)
	actual, err := findPolicy(ctx, org, id)
	if err != nil {
		return "", "", fmt.Errorf("adopting Organizations policy (%s): %w", id, err)
	}
	switch o, known := ownership(actual.Tags); {
	case known && o == owner:
	case !known && adoptUnowned:
		return adoptUnownedPolicy(ctx, org, d, owner, actual)
	case !known:
		return "", "", fmt.Errorf("creating Organizations policy %q: policy %s already has this name and is not managed by this resource (it has no ownership tags); to take it over, as when moving from the earlier solution, set AdoptExistingPolicy: \"true\"", d.Name, id)
	default:
		return "", "", fmt.Errorf("creating Organizations policy %q: policy %s already has this name and is not managed by this resource (its ownership tags say: %s); choose another PolicyName or remove that policy", d.Name, id, describeOwner(actual.Tags))
	}
	logger(ctx).Info("adopting policy this resource created earlier", slog.String("policyId", id))
	if err := apply(ctx, org, actual, newPlan(d, actual)); err != nil {
		return id, actual.ARN, err
	}
	return id, actual.ARN, nil
}

// adoptUnownedPolicy converges a policy that has no ownership tags and
// then, last, tags it with them. Until that last step the policy is not
// this resource's: a failure leaves it untagged and unreported, so
// CloudFormation's rollback does not delete what may be the organization's
// live backup policy, and a retry adopts it again.
func adoptUnownedPolicy(ctx context.Context, org organizationsAPI, d desiredPolicy, owner policyOwner, actual actualPolicy) (id, arn string, err error) {
	logger(ctx).Info("adopting existing policy without ownership tags (AdoptExistingPolicy)", slog.String("policyId", actual.ID))
	userTags := d
	userTags.Tags = maps.Clone(d.Tags)
	for k := range owner.tags() {
		delete(userTags.Tags, k)
	}
	if err := apply(ctx, org, actual, newPlan(userTags, actual)); err != nil {
		return "", "", fmt.Errorf("adopting Organizations policy (%s): %w; it is not adopted (no ownership tags), and the changes before the error remain", actual.ID, err)
	}
	if _, err := org.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(actual.ID), Tags: orgTags(owner.tags())}); err != nil {
		return "", "", fmt.Errorf("adopting Organizations policy (%s): tagging it with its ownership tags: %w; it now matches the properties but is not adopted", actual.ID, awsclient.Short(err))
	}
	return actual.ID, actual.ARN, nil
}

func describeOwner(tags map[string]string) string {
	o, known := ownership(tags)
	if !known {
		return "no owner"
	}
	return o.String()
}

func orgTags(m map[string]string) []types.Tag {
	tags := make([]types.Tag, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return tags
}

// attach attaches a policy of type typ to a target; already attached is
// done. A policy type not enabled in the root (PolicyTypeNotEnabled) is
// enabled and the attach made again when enableType is set; otherwise the
// error names the command that enables it. Neither costs a call while the
// type is enabled.
func attach(ctx context.Context, org organizationsAPI, id, typ, target string, enableType bool) error {
	_, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(target)})
	if isA[*types.PolicyTypeNotEnabledException](err) {
		if !enableType {
			return fmt.Errorf("attaching Organizations policy (%s) to target %s: %w; %s", id, target, awsclient.Short(err), enableFix(ctx, org, typ, target))
		}
		root, eerr := enablePolicyType(ctx, org, typ)
		if eerr != nil {
			return fmt.Errorf("attaching Organizations policy (%s) to target %s: policy type %s is not enabled in the root (EnablePolicyType: \"true\"): %w", id, target, typ, eerr)
		}
		// Enabling is asynchronous (Organizations API Reference,
		// EnablePolicyType): until the type is ENABLED the attach is still
		// refused. The SDK retryer retries that code too for this call,
		// with its jittered back-off, attempts and the request's deadline.
		_, err = org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(target)}, retryWhileEnabling)
		if isA[*types.PolicyTypeNotEnabledException](err) {
			return fmt.Errorf("attaching Organizations policy (%s) to target %s: %w; policy type %s was enabled in root %s but is not usable yet (enabling is asynchronous); retry the stack operation", id, target, awsclient.Short(err), typ, root)
		}
	}
	if err != nil && !isA[*types.DuplicatePolicyAttachmentException](err) {
		return fmt.Errorf("attaching Organizations policy (%s) to target %s: %w", id, target, awsclient.Short(err))
	}
	logger(ctx).Info("attached policy", slog.String("policyId", id), slog.String("target", target))
	return nil
}

// detach detaches a policy from a target; not attached, or a target or
// policy that no longer exists, is done.
func detach(ctx context.Context, org organizationsAPI, id, target string) error {
	_, err := org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(target)})
	if err != nil && !isA[*types.PolicyNotAttachedException](err) && !awsclient.IsNotFound(err) {
		return fmt.Errorf("detaching Organizations policy (%s) from target %s: %w", id, target, awsclient.Short(err))
	}
	logger(ctx).Info("detached policy", slog.String("policyId", id), slog.String("target", target))
	return nil
}

// apply carries out a plan: exactly its steps, in their order.
func apply(ctx context.Context, org organizationsAPI, a actualPolicy, p policyPlan) error {
	logger(ctx).Info("reconciling policy", slog.String("policyId", a.ID), slog.String("changes", p.summary()))
	for _, s := range p.steps(a) {
		var err error
		switch s.Operation {
		case OpUpdatePolicy:
			_, err = org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{
				PolicyId: aws.String(a.ID), Name: p.Name, Description: p.Description, Content: p.Content,
			})
			if err != nil {
				err = fmt.Errorf("updating Organizations policy (%s): %w", a.ID, awsclient.Short(err))
			}
		case OpTagResource:
			if _, err = org.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(a.ID), Tags: orgTags(s.Tags)}); err != nil {
				err = fmt.Errorf("tagging Organizations policy (%s): %w", a.ID, awsclient.Short(err))
			}
		case OpUntagResource:
			if _, err = org.UntagResource(ctx, &organizations.UntagResourceInput{ResourceId: aws.String(a.ID), TagKeys: s.TagKeys}); err != nil {
				err = fmt.Errorf("untagging Organizations policy (%s): %w", a.ID, awsclient.Short(err))
			}
		case OpAttachPolicy:
			err = attach(ctx, org, a.ID, a.Type, s.Target, p.EnableType)
		case OpDetachPolicy:
			err = detach(ctx, org, a.ID, s.Target)
		default:
			err = fmt.Errorf("reconciling Organizations policy (%s): step %s is not an in-place change", a.ID, s.Operation)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// deleteRounds bounds how often Delete detaches again when someone attaches
// the policy between the detachments and DeletePolicy (PolicyInUse).
const deleteRounds = 3

// deletePolicy detaches a policy from every target and deletes it. A policy
// that is already gone is deleted; a policy whose ownership tags name
// another resource is left alone.
func deletePolicy(ctx context.Context, org organizationsAPI, id string, owner policyOwner) error {
	log := logger(ctx).With(slog.String("policyId", id))
	tags, err := findTags(ctx, org, id)
	if awsclient.IsNotFound(err) {
		log.Info("policy already deleted")
		return nil
	}
	if err != nil {
		return err
	}
	if o, known := ownership(tags); known && o != owner {
		log.Warn("policy is owned by another resource; leaving it untouched", slog.String("owner", o.String()))
		return nil
	}
	for round := 1; ; round++ {
		targets, err := findTargets(ctx, org, id)
		if awsclient.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, t := range targets {
			if err := detach(ctx, org, id, t); err != nil {
				return err
			}
		}
		_, err = org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String(id)})
		switch {
		case err == nil:
			log.Info("deleted policy")
			return nil
		case awsclient.IsNotFound(err):
			return nil
		case isA[*types.PolicyInUseException](err) && round < deleteRounds:
			log.Warn("policy was attached again while being deleted; detaching again")
		default:
			return fmt.Errorf("deleting Organizations policy (%s): %w", id, awsclient.Short(err))
		}
	}
}
