package awsemu

import (
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region the emulator's clients are configured for.
const Region = "us-east-1"

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
