// Package awsemu is an in-process emulator of the AWS wire protocols the
// project's functions speak, so that unmodified aws-sdk-go-v2 clients can be
// pointed at it (BaseEndpoint or AWS_ENDPOINT_URL) in tests, benchmarks and the
// local demo.
//
// The emulator keeps protocols apart from service semantics:
//
//   - protocol_json.go (awsJson1_1), protocol_query.go (query),
//     protocol_ec2query.go (EC2's query), protocol_restjson.go (restJson1) and s3.go's REST-XML handling turn
//     HTTP into operation calls and results or errors back into HTTP,
//     exactly as the SDK's serializers expect;
//   - organizations.go, sts.go, s3.go, backup.go, tagging.go and ec2.go hold each
//     service's state and rules, including the real error codes;
//   - faults.go injects errors and latency per operation, calllog.go records
//     every call with the caller's identity so tests can count calls.
//
// Requests are routed by the service name in the SigV4 credential scope of
// the Authorization header, the same thing that tells real AWS endpoints
// which service a request is for. Signatures are not verified; the access key
// ID identifies the caller.
//
// awsemu is imported only by tests, benchmarks and the demo.
package awsemu
