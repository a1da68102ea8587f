package tagreapply

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RestoreJob is what the pipeline needs to know of a restore job.
type RestoreJob struct {
	ID                 string
	Status             string
	ResourceType       string
	RecoveryPointARN   string
	SourceResourceARN  string
	CreatedResourceARN string
	// Account is the account the job ran in, when known.
	Account string
	// IsParent marks the parent job of a composite restore (an EKS
	// cluster, say), which restores nothing itself: its child jobs each
	// restore one resource and arrive as jobs of their own.
	IsParent bool
}

// Event is an EventBridge "Restore Job State Change" event.
type Event struct {
	ID         string
	DetailType string
	Source     string
	Account    string
	Region     string
	Time       time.Time
	Detail     RestoreJobDetail
}

// RestoreJobDetail is the event's detail. AWS Backup is inconsistent in
// it: some events say "status", others (CREATED) "state"; sizes and
// percentages arrive as strings or numbers. Decoding accepts all of these.
type RestoreJobDetail struct {
	RestoreJobID       string
	Status             string
	ResourceType       string
	BackupVaultARN     string
	RecoveryPointARN   string
	SourceResourceARN  string
	CreatedResourceARN string
	IAMRoleARN         string
	BackupSizeInBytes  int64
	PercentDone        float64
	CreationDate       time.Time
	CompletionDate     time.Time
}

// UnmarshalJSON decodes an EventBridge event.
func (e *Event) UnmarshalJSON(data []byte) error {
	var raw struct {
		ID         string          `json:"id"`
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
		Account    string          `json:"account"`
		Region     string          `json:"region"`
		Time       string          `json:"time"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*e = Event{ID: raw.ID, DetailType: raw.DetailType, Source: raw.Source, Account: raw.Account, Region: raw.Region}
	if raw.Time != "" {
		t, err := time.Parse(time.RFC3339, raw.Time)
		if err != nil {
			return fmt.Errorf("time: %w", err)
		}
		e.Time = t
	}
	if len(bytes.TrimSpace(raw.Detail)) == 0 || string(bytes.TrimSpace(raw.Detail)) == "null" {
		return nil
	}
	return e.Detail.decode(raw.Detail)
}

func (d *RestoreJobDetail) decode(data []byte) error {
	var m detailFields
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("detail: %w", err)
	}
	var err error
	fields := []struct {
		key string
		dst *string
	}{
		{"restoreJobId", &d.RestoreJobID}, {"resourceType", &d.ResourceType},
		{"backupVaultArn", &d.BackupVaultARN}, {"recoveryPointArn", &d.RecoveryPointARN},
		{"sourceResourceArn", &d.SourceResourceARN}, {"createdResourceArn", &d.CreatedResourceARN},
		{"iamRoleArn", &d.IAMRoleARN},
	}
	for _, f := range fields {
		if *f.dst, err = m.str(f.key); err != nil {
			return err
		}
	}
	if d.Status, err = m.status(); err != nil {
		return err
	}
	if d.BackupSizeInBytes, err = m.size("backupSizeInBytes"); err != nil {
		return err
	}
	if d.PercentDone, err = m.percent("percentDone"); err != nil {
		return err
	}
	if d.CreationDate, err = m.time("creationDate"); err != nil {
		return err
	}
	if d.CompletionDate, err = m.time("completionDate"); err != nil {
		return err
	}
	return nil
}

// detailFields are the raw fields of an event's detail, read leniently.
type detailFields map[string]json.RawMessage

// str reads a string field; a number where a string was expected is taken
// as its text, and a missing or null field is "".
func (m detailFields) str(key string) (string, error) {
	v, ok := m[key]
	if !ok || string(v) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf("detail.%s: want a string, got %s", key, v)
}

// status reads the job's status, upper case. "Some events report status:
// COMPLETED whereas other events report state: COMPLETED" (AWS Backup
// Developer Guide, EventBridge).
func (m detailFields) status() (string, error) {
	s, err := m.str("status")
	if err == nil && s == "" {
		s, err = m.str("state")
	}
	return strings.ToUpper(strings.TrimSpace(s)), err
}

// size reads a byte count given as a number or a string.
func (m detailFields) size(key string) (int64, error) {
	s, err := m.str(key)
	if err != nil || s == "" {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("detail.%s: %w", key, err)
	}
	return n, nil
}

// percent reads a percentage: a number, or a string with or without "%".
func (m detailFields) percent(key string) (float64, error) {
	s, err := m.str(key)
	if err != nil || s == "" {
		return 0, err
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("detail.%s: %w", key, err)
	}
	return f, nil
}

// time reads an RFC 3339 time; a missing one is the zero time.
func (m detailFields) time(key string) (time.Time, error) {
	s, err := m.str(key)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("detail.%s: %w", key, err)
	}
	return t, nil
}

// Job returns the restore job the event describes.
func (e Event) Job() RestoreJob {
	d := e.Detail
	return RestoreJob{
		ID: d.RestoreJobID, Status: d.Status, ResourceType: d.ResourceType,
		RecoveryPointARN: d.RecoveryPointARN, SourceResourceARN: d.SourceResourceARN,
		CreatedResourceARN: d.CreatedResourceARN, Account: e.Account,
	}
}

// Request is one invocation's input: a restore event or a backfill.
type Request struct {
	Event    *Event
	Backfill *BackfillRequest
}

// BackfillRequest asks to process completed restore jobs created after
// Since (all of them when zero), continuing from NextToken if given.
type BackfillRequest struct {
	Since     time.Time
	NextToken string
	DryRun    bool
}

// DecodeRequest recognizes the function's inputs: an EventBridge "Restore
// Job State Change" event from aws.backup; {"RefreshTagItems": "true"}, the
// earlier implementation's backfill; and {"Backfill": {"Since": RFC3339,
// "NextToken": …, "DryRun": bool}}.
func DecodeRequest(data []byte) (Request, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return Request{}, fmt.Errorf("input is not a JSON object: %w", err)
	}
	switch {
	case probe["detail-type"] != nil:
		var ev Event
		if err := json.Unmarshal(data, &ev); err != nil {
			return Request{}, fmt.Errorf("decoding restore event: %w", err)
		}
		if ev.Source != "aws.backup" || ev.DetailType != "Restore Job State Change" {
			return Request{}, fmt.Errorf("unsupported event: source %q, detail-type %q; expected aws.backup, Restore Job State Change", ev.Source, ev.DetailType)
		}
		if ev.Detail.RestoreJobID == "" {
			return Request{}, fmt.Errorf("restore event %s has no detail.restoreJobId", ev.ID)
		}
		return Request{Event: &ev}, nil
	case probe["RefreshTagItems"] != nil:
		var v any
		_ = json.Unmarshal(probe["RefreshTagItems"], &v)
		if fmt.Sprint(v) != "true" {
			return Request{}, fmt.Errorf("RefreshTagItems: %s; the only value is \"true\"", probe["RefreshTagItems"])
		}
		return Request{Backfill: &BackfillRequest{}}, nil
	case probe["Backfill"] != nil:
		var b struct {
			Since     string
			NextToken string
			DryRun    any
		}
		if err := json.Unmarshal(probe["Backfill"], &b); err != nil {
			return Request{}, fmt.Errorf("Backfill: %w", err)
		}
		req := &BackfillRequest{NextToken: b.NextToken}
		if b.Since != "" {
			t, err := time.Parse(time.RFC3339, b.Since)
			if err != nil {
				return Request{}, fmt.Errorf("Backfill.Since: %q is not an RFC 3339 time such as 2026-01-31T00:00:00Z", b.Since)
			}
			req.Since = t
		}
		switch v := b.DryRun.(type) {
		case nil:
		case bool:
			req.DryRun = v
		case string:
			d, err := strconv.ParseBool(v)
			if err != nil {
				return Request{}, fmt.Errorf("Backfill.DryRun: %q is not a boolean", v)
			}
			req.DryRun = d
		default:
			return Request{}, fmt.Errorf("Backfill.DryRun: must be a boolean")
		}
		return Request{Backfill: req}, nil
	}
	return Request{}, fmt.Errorf("unrecognized input: expected a Restore Job State Change event, {\"RefreshTagItems\": \"true\"} or {\"Backfill\": {…}}")
}
