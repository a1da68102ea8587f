package awsemu

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region the emulator's clients are configured for.
const Region = "us-east-1"

// Partition returns the partition of a Region: its ARNs begin
// arn:<partition>: (AWS General Reference, "Amazon Resource Names":
// aws, aws-cn for the China Regions, aws-us-gov for AWS GovCloud (US)).
// A request is served for the Region it is signed for, so a client
// configured for cn-north-1 sees the aws-cn resources of cn-north-1.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	}
	return "aws"
}

// ConfigOptions point config.LoadDefaultConfig at the emulator with the
// given credentials, the way AWS_ENDPOINT_URL and the key variables do for
// a process.
func (e *Emulator) ConfigOptions(c Credentials) []func(*config.LoadOptions) error {
	return []func(*config.LoadOptions) error{
		config.WithBaseEndpoint(e.URL()),
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)),
		// Shared config files of the machine running the tests must not
		// leak in.
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	}
}

// Env returns the environment variables that make a process's SDK talk to
// the emulator with the given credentials.
func (e *Emulator) Env(c Credentials) []string {
	env := []string{
		"AWS_ENDPOINT_URL=" + e.URL(),
		"AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=" + c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey,
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
	}
	if c.SessionToken != "" {
		env = append(env, "AWS_SESSION_TOKEN="+c.SessionToken)
	}
	return env
}
