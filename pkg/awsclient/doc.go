// Package awsclient builds the AWS SDK configuration every function uses:
// config.LoadDefaultConfig (so AWS_REGION, AWS_ENDPOINT_URL and the standard
// credential chain work unchanged), one retry policy, STS role credentials
// cached per role, and X-Ray instrumentation of every client.
package awsclient
