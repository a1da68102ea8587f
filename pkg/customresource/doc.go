// Package customresource implements the CloudFormation custom-resource
// protocol for Lambda-backed resources on top of aws-lambda-go's cfn types,
// and fixes what cfn.LambdaWrap leaves to chance:
//
//   - exactly one response is delivered for every request, on every path:
//     success, error, panic and timeout;
//   - the resource's work runs under a deadline that leaves a safety margin
//     before the Lambda deadline, so a FAILED response still goes out when
//     the work cannot finish (otherwise the stack waits for the custom
//     resource's ServiceTimeout, one hour by default);
//   - panics are recovered into FAILED responses with the stack logged;
//   - Reason is cut so the response body stays within CloudFormation's
//     4,096-byte limit ("Response object is too long"), keeping the start
//     and the root cause of the error and the log stream name;
//   - the response PUT is retried on network errors and 5xx;
//   - PhysicalResourceId follows stable rules (see Handler);
//   - whoever can invoke the function cannot make it answer an untrusted
//     host or act for a stack of an untrusted account: an event whose
//     ResponseURL is not https on an allowed host is refused unanswered,
//     and one whose StackId is outside the allowed accounts is answered
//     FAILED, both before the resource function runs (Options.ResponseHosts,
//     Options.StackAccounts);
//   - every request writes one CloudWatch Embedded Metric Format record
//     (Requests, FailedRequests by RequestType and errorKind), so an alarm
//     can see FAILED answers, which Lambda's Errors metric never counts.
package customresource
