package cfnresponse

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/cfn"
)

func FuzzFitReason(f *testing.F) {
	f.Add("short reason", 4096)
	// Small seeds with small limits still force the cut; large seeds make
	// the fuzzer spend its time minimizing.
	f.Add(strings.Repeat("é\"<>&\x00\u2028", 40), 600)
	f.Add(strings.Repeat("x", 700), 600)
	f.Fuzz(func(t *testing.T, reason string, limit int) {
		if limit < 600 || limit > 8192 || len(reason) > 1<<14 {
			return
		}
		r := &cfn.Response{
			Status: cfn.StatusFailed, RequestID: "3f4c2f6e-2b8a-4d4e-9a51-0c8a0f8d7e11",
			LogicalResourceID: "DailyBackupPolicy", PhysicalResourceID: "p-bk000001",
			StackID: "arn:aws:cloudformation:us-east-1:222222222222:stack/backup-org-policies/5b1e7a40-8c2d-11ef-9f1a-0affd3b1c9a1",
		}
		suffix := " (log stream: 2026/11/22/[$LATEST]0123456789abcdef)"
		body, err := fitReason(r, reason, suffix, limit)
		if err != nil {
			t.Fatalf("fitReason: %v", err)
		}
		if len(body) > limit {
			t.Fatalf("body %d bytes > limit %d", len(body), limit)
		}
		var back cfn.Response
		if err := json.Unmarshal(body, &back); err != nil {
			t.Fatalf("body is not JSON: %v", err)
		}
		if !strings.HasSuffix(back.Reason, suffix) {
			t.Fatalf("reason lost the log stream: %q", back.Reason)
		}
		if utf8.ValidString(reason) && !utf8.ValidString(back.Reason) {
			t.Fatalf("cut split a character: %q", back.Reason)
		}
	})
}
