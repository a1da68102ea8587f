// Package orgpolicy implements the Custom::BackupOrgPolicy resource: it
// decodes the resource's properties, renders the policy document and
// reconciles one AWS Organizations policy (content, attachments, tags) with
// them on Create, Update and Delete.
//
// Each request flows one way: properties -> desired state -> the policy's
// actual state -> a policyPlan of changes (pure) -> the writes. Policies carry
// ownership tags naming the stack and logical ID that manage them; a policy
// owned by someone else is never modified or deleted.
package orgpolicy
