package customresource_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/backup-as-code/orgbackup/pkg/customresource"
)

func TestDecodeEvent(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"create", "update", "delete"} {
		data, err := os.ReadFile("testdata/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		ev, err := customresource.DecodeEvent(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if ev.ResourceType != "Custom::BackupOrgPolicy" || ev.ResourceProperties["PolicyName"] != "daily" {
			t.Errorf("%s decoded as %+v", name, ev)
		}
	}
	tests := map[string]struct{ raw, want, wantURL string }{
		"properties not an object": {`{"RequestType":"Create","RequestId":"r","ResponseURL":"https://x","ResourceProperties":[1]}`, "cannot unmarshal array", "https://x"},
		"unknown request type":     {`{"RequestType":"Upsert","RequestId":"r","ResponseURL":"https://x"}`, `RequestType "Upsert"`, "https://x"},
		"no response URL":          {`{"RequestType":"Create","RequestId":"r"}`, "ResponseURL and RequestId are required", ""},
		"not JSON":                 {`{"RequestType":`, "malformed custom resource event", ""},
	}
	for name, tt := range tests {
		ev, err := customresource.DecodeEvent([]byte(tt.raw))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", name, err, tt.want)
		}
		if ev.ResponseURL != tt.wantURL {
			t.Errorf("%s: kept ResponseURL %q, want %q", name, ev.ResponseURL, tt.wantURL)
		}
	}
}

func TestHandleRawAnswersMalformedEvents(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	called := false
	handler := h.handler(func(context.Context, cfn.Event) (string, map[string]any, error) {
		called = true
		return "", nil, nil
	}, customresource.Options{})
	raw, _ := json.Marshal(map[string]any{
		"RequestType": "Create", "RequestId": "req-9", "ResponseURL": h.emu.ResponseURL(responseName),
		"StackId": "arn:aws:cloudformation:us-east-1:222222222222:stack/s/1", "LogicalResourceId": "P",
		"ResourceProperties": "not an object",
	})
	if err := handler.HandleRaw(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	got, _ := h.response(t)
	if got.Status != cfn.StatusFailed || got.PhysicalResourceID != "req-9" || !strings.Contains(got.Reason, "malformed custom resource event") {
		t.Errorf("response %+v", got)
	}
	if called {
		t.Error("the resource function ran on a malformed event")
	}
	if err := handler.HandleRaw(context.Background(), []byte(`{"RequestType":"Create"}`)); err == nil {
		t.Error("an event with nowhere to answer did not fail the invocation")
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, name := range []string{"create", "update", "delete"} {
		data, _ := os.ReadFile("testdata/" + name + ".json")
		f.Add(data)
	}
	f.Add([]byte(`{"RequestType":"Create","ResourceProperties":[]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := customresource.DecodeEvent(raw)
		if err == nil && (ev.ResponseURL == "" || ev.RequestID == "") {
			t.Fatalf("accepted an event without ResponseURL or RequestId: %+v", ev)
		}
	})
}
