// Package policysource reads Organizations policies from the files users
// write: a JSON policy document, or a CloudFormation template whose
// Custom::BackupOrgPolicy (this project's), Custom::OrgPolicy (the earlier
// Python solution's, same properties) and AWS::Organizations::Policy
// resources it evaluates for one deployment (parameters, pseudo parameters,
// conditions, intrinsic functions) and renders exactly as the policy
// manager does: orgpolicy.DecodeProperties, then orgpolicy.RenderDocument.
// Every problem is reported at a line and column of the file, so the
// checks run before deployment point where the user edits.
package policysource
