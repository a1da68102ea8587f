package tagreapply

import (
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
)

// transient reports whether retrying later might succeed. The SDK has
// already retried throttling and 5xx by the time an error arrives here;
// such errors, network errors and deadlines are still transient (Lambda
// retries the event, then sends it to the on-failure destination). Other
// 4xx answers (access denied, resource gone, invalid input) and failures
// TagResources reports per resource with a 4xx status are permanent.
func transient(err error) bool {
	if err == nil {
		return false
	}
	if awsclient.IsNotFound(err) {
		return false
	}
	var tf *tagFailure
	if errors.As(err, &tf) {
		return tf.Info.StatusCode >= http.StatusInternalServerError || tf.Info.ErrorCode == "InternalServiceException"
	}
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary {
		return true
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode() >= http.StatusInternalServerError || re.HTTPStatusCode() == http.StatusTooManyRequests
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorFault() != smithy.FaultClient
	}
	return true
}
