package awsclient

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// OrganizationsRetryableCodes are the Organizations errors that mean "try
// again later" but that the SDK's standard retryer does not retry
// (aws-sdk-go-v2 aws/retry: only throttling codes and 5xx are).
// terraform-provider-aws retries the same on its Organizations client.
var OrganizationsRetryableCodes = []string{
	"ConcurrentModificationException",
	"PolicyChangesInProgressException",
	"FinalizingOrganizationException",
}

// Organizations returns an Organizations client whose retryer also retries
// OrganizationsRetryableCodes.
func Organizations(cfg aws.Config, optFns ...func(*organizations.Options)) *organizations.Client {
	opts := append([]func(*organizations.Options){func(o *organizations.Options) {
		o.Retryer = retry.AddWithErrorCodes(o.Retryer, OrganizationsRetryableCodes...)
	}}, optFns...)
	return organizations.NewFromConfig(cfg, opts...)
}
