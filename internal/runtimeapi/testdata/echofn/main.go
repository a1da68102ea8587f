// Command echofn is a test function for the local Runtime API: it fails or
// panics as asked, or reports what Lambda told it about the invocation.
package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Action string `json:"action"`
}

type reply struct {
	RequestID    string `json:"requestId"`
	FunctionARN  string `json:"functionArn"`
	FunctionName string `json:"functionName"`
	TraceID      string `json:"traceId"`
	Remaining    int64  `json:"remainingMs"`
}

func main() {
	lambda.Start(func(ctx context.Context, r request) (reply, error) {
		switch r.Action {
		case "fail":
			return reply{}, errors.New("asked to fail")
		case "panic":
			panic("asked to panic")
		}
		lc, _ := lambdacontext.FromContext(ctx)
		deadline, _ := ctx.Deadline()
		return reply{
			RequestID: lc.AwsRequestID, FunctionARN: lc.InvokedFunctionArn,
			FunctionName: lambdacontext.FunctionName, TraceID: os.Getenv("_X_AMZN_TRACE_ID"),
			Remaining: time.Until(deadline).Milliseconds(),
		}, nil
	})
}
