package tagreapply

import (
	"encoding/json"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/backup-as-code/orgbackup/pkg/lambdalog"
)

// metricCounts counts what an invocation did, by resource type, and writes the
// counts as CloudWatch Embedded Metric Format records: JSON log lines that
// CloudWatch Logs turns into metrics without any API call.
type metricCounts struct {
	mu     sync.Mutex
	byType map[string]*counts
}

type counts struct {
	EventsProcessed, EventsIgnored, TagsApplied, TagsSkipped, Failures, Unsupported int
}

func (m *metricCounts) add(resourceType string, f func(*counts)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byType == nil {
		m.byType = map[string]*counts{}
	}
	if resourceType == "" {
		resourceType = "Unknown"
	}
	c := m.byType[resourceType]
	if c == nil {
		c = &counts{}
		m.byType[resourceType] = c
	}
	f(c)
}

// record counts one job's outcome.
func (m *metricCounts) record(o jobOutcome) {
	m.add(o.ResourceType, func(c *counts) {
		switch o.Result {
		case resultIgnored:
			c.EventsIgnored++
			return
		case resultFailed, resultRetry:
			c.Failures++
		case resultUnsupported:
			c.Unsupported++
		}
		c.EventsProcessed++
		c.TagsApplied += o.tagsApplied()
		c.TagsSkipped += o.tagsSkipped()
	})
}

// metricNames are the metrics of every record, in order.
var metricNames = []string{"EventsProcessed", "EventsIgnored", "TagsApplied", "TagsSkipped", "Failures", "Unsupported"}

// flush writes one EMF record per resource type and resets the counts.
// level is the record's "level" (lambdalog.MetricLevel: one the function's
// ApplicationLogLevel never filters out; INFO when empty). requestID, when
// set, is added as a property (not a dimension) so the records can be
// matched to the invocation's log.
func (m *metricCounts) flush(w io.Writer, namespace, level, requestID string, now time.Time) error {
	if level == "" {
		level = "INFO"
	}
	m.mu.Lock()
	byType := m.byType
	m.byType = nil
	m.mu.Unlock()
	defs := make([]map[string]string, len(metricNames))
	for i, n := range metricNames {
		defs[i] = map[string]string{"Name": n, "Unit": "Count"}
	}
	var out []byte
	for _, rt := range slices.Sorted(maps.Keys(byType)) {
		c := byType[rt]
		rec := map[string]any{
			"_aws": map[string]any{
				"Timestamp": now.UnixMilli(),
				"CloudWatchMetrics": []any{map[string]any{
					"Namespace":  namespace,
					"Dimensions": [][]string{{"ResourceType"}},
					"Metrics":    defs,
				}},
			},
			// The EMF specification lets the root node hold members
			// besides the metrics ("The root node MAY contain any other
			// members"); Lambda needs a valid RFC 3339 "timestamp" to keep
			// the record's level (Lambda developer guide, "Log-level
			// filtering").
			lambdalog.TimestampKey: lambdalog.Timestamp(now),
			"level":                level,
			"ResourceType":         rt,
			"EventsProcessed":      c.EventsProcessed,
			"EventsIgnored":        c.EventsIgnored,
			"TagsApplied":          c.TagsApplied,
			"TagsSkipped":          c.TagsSkipped,
			"Failures":             c.Failures,
			"Unsupported":          c.Unsupported,
		}
		if requestID != "" {
			rec["awsRequestId"] = requestID
		}
		line, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		out = append(append(out, line...), '\n')
	}
	// One write for all the records: one system call, and a reader of the
	// function's output sees the invocation's records together.
	if len(out) == 0 {
		return nil
	}
	_, err := w.Write(out)
	return err
}
