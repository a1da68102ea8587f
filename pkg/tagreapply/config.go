package tagreapply

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/backup-as-code/orgbackup/pkg/awstag"
	"github.com/backup-as-code/orgbackup/pkg/lambdalog"
)

// Precedence says whose tag wins when the source resource and the recovery
// point have the same key with different values.
type Precedence string

// Precedences.
const (
	SourceFirst        Precedence = "source"
	RecoveryPointFirst Precedence = "recovery-point"
)

// Config is the re-applier's behaviour, set per function.
type Config struct {
	// Exclusions are tag keys never written; an entry ending in "*" is a
	// prefix. aws: keys are never written in any case.
	Exclusions []string
	// Precedence defaults to SourceFirst: the source resource's current
	// tags are newer than the recovery point's copy.
	Precedence Precedence
	// Overwrite lets merged tags replace values the restored resource
	// already has; by default they are kept.
	Overwrite bool
	// ProvenanceKey, when set, adds a tag with this key whose value is the
	// recovery point ARN the resource was restored from.
	ProvenanceKey string
	// BackfillConcurrency bounds the restore jobs processed at once.
	BackfillConcurrency int
	// MetricsNamespace is the CloudWatch namespace of the EMF metrics.
	MetricsNamespace string
	// MetricsLevel is the "level" of the EMF records: with Lambda's JSON
	// log format, records below the function's ApplicationLogLevel are
	// dropped, so it is lambdalog.MetricLevel of that level.
	MetricsLevel string
}

// Environment variables read by ConfigFromEnv.
const (
	EnvExclusions  = "TAG_EXCLUSIONS"
	EnvPrecedence  = "TAG_PRECEDENCE"
	EnvOverwrite   = "OVERWRITE_EXISTING_TAGS"
	EnvProvenance  = "PROVENANCE_TAG_KEY"
	EnvConcurrency = "BACKFILL_CONCURRENCY"
	EnvNamespace   = "METRICS_NAMESPACE"
	// EnvLogLevel is set by Lambda from the function's ApplicationLogLevel.
	EnvLogLevel = "AWS_LAMBDA_LOG_LEVEL"
)

// DefaultMetricsNamespace is the namespace when none is configured.
const DefaultMetricsNamespace = "BackupAsCode/TagReapplier"

// ConfigFromEnv reads the configuration through getenv (os.Getenv),
// rejecting values it does not understand, naming the variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{Precedence: SourceFirst, BackfillConcurrency: 8, MetricsNamespace: DefaultMetricsNamespace}
	for _, e := range strings.Split(getenv(EnvExclusions), ",") {
		if e = strings.TrimSpace(e); e != "" {
			c.Exclusions = append(c.Exclusions, e)
		}
	}
	switch p := Precedence(strings.TrimSpace(getenv(EnvPrecedence))); p {
	case "":
	case SourceFirst, RecoveryPointFirst:
		c.Precedence = p
	default:
		return Config{}, fmt.Errorf("%s: %q; allowed: %s, %s", EnvPrecedence, p, SourceFirst, RecoveryPointFirst)
	}
	if s := strings.TrimSpace(getenv(EnvOverwrite)); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return Config{}, fmt.Errorf("%s: %q is not true or false", EnvOverwrite, s)
		}
		c.Overwrite = b
	}
	c.ProvenanceKey = strings.TrimSpace(getenv(EnvProvenance))
	if k := c.ProvenanceKey; k != "" && (len(k) > 128 || awstag.Reserved(k)) {
		return Config{}, fmt.Errorf("%s: %q must be 1 to 128 characters and not start with \"aws:\"", EnvProvenance, k)
	}
	if s := strings.TrimSpace(getenv(EnvConcurrency)); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 64 {
			return Config{}, fmt.Errorf("%s: %q; allowed: 1 to 64", EnvConcurrency, s)
		}
		c.BackfillConcurrency = n
	}
	if ns := strings.TrimSpace(getenv(EnvNamespace)); ns != "" {
		c.MetricsNamespace = ns
	}
	c.MetricsLevel = lambdalog.MetricLevel(getenv(EnvLogLevel))
	return c, nil
}

// excluded reports whether a key must never be written.
func (c Config) excluded(key string) bool {
	if awstag.Reserved(key) {
		return true
	}
	for _, e := range c.Exclusions {
		if prefix, ok := strings.CutSuffix(e, "*"); ok {
			if strings.HasPrefix(key, prefix) {
				return true
			}
		} else if key == e {
			return true
		}
	}
	return false
}
