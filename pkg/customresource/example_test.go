package customresource_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/backup-as-code/orgbackup/pkg/customresource"
)

func ExampleNewHandler() {
	// Stands for the presigned S3 URL CloudFormation puts in the event.
	responses := make(chan cfn.Response, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var resp cfn.Response
		_ = json.Unmarshal(body, &resp)
		responses <- resp
	}))
	defer srv.Close()
	hosts, err := customresource.ParseResponseHosts(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		panic(err)
	}

	h := customresource.NewHandler(func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
		if ev.ResourceProperties["PolicyName"] == nil {
			return "", nil, fmt.Errorf("PolicyName: required")
		}
		return "p-bk000001", map[string]any{"PolicyId": "p-bk000001"}, nil
	}, customresource.Options{
		Logger: slog.New(slog.DiscardHandler), LogStreamName: "example-stream",
		// In Lambda the defaults are the S3 hosts of the function's
		// partition and the function's own account.
		ResponseHosts: hosts, StackAccounts: []string{"222222222222"},
		Metrics: io.Discard, // stdout in Lambda
	})

	// In main: lambda.Start(h.Handle)
	_ = h.Handle(context.Background(), cfn.Event{
		RequestType: cfn.RequestCreate, RequestID: "req-1", ResponseURL: srv.URL,
		LogicalResourceID: "DailyPolicy", StackID: "arn:aws:cloudformation:us-east-1:222222222222:stack/s/1",
		ResourceProperties: map[string]any{},
	})
	resp := <-responses
	fmt.Println(resp.Status, resp.PhysicalResourceID)
	fmt.Println(resp.Reason)
	// Output:
	// FAILED req-1
	// PolicyName: required (log stream: example-stream)
}
