package awsclient

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// organizationsRetryableCodes are the Organizations errors that mean "try
// again later" but that the SDK's standard retryer does not retry
// (aws-sdk-go-v2 aws/retry: only throttling codes and 5xx are).
// terraform-provider-aws retries the same on its Organizations client. A
// function, so that no caller can change the set.
func organizationsRetryableCodes() []string {
	return []string{
		"ConcurrentModificationException",
		"PolicyChangesInProgressException",
		"FinalizingOrganizationException",
	}
}

// Organizations returns an Organizations client whose retryer also retries
// organizationsRetryableCodes.
func Organizations(cfg aws.Config, optFns ...func(*organizations.Options)) *organizations.Client {
	opts := append([]func(*organizations.Options){func(o *organizations.Options) {
		o.Retryer = retry.AddWithErrorCodes(o.Retryer, organizationsRetryableCodes()...)
	}}, optFns...)
	return organizations.NewFromConfig(cfg, opts...)
}
