package tagreapply

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestMergeTags(t *testing.T) {
	t.Parallel()
	many := func(prefix string, n int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("%s%02d", prefix, i)] = "v"
		}
		return m
	}
	tests := []struct {
		name                 string
		cfg                  Config
		source, rp, existing map[string]string
		provenance           string
		want                 tagMerge
	}{
		{
			name:   "source wins, aws keys excluded",
			source: map[string]string{"env": "prod", "aws:x": "1"},
			rp:     map[string]string{"env": "old", "plan": "daily"},
			want:   tagMerge{Write: map[string]string{"env": "prod", "plan": "daily"}, Excluded: []string{"aws:x"}},
		},
		{
			name:   "recovery point wins",
			cfg:    Config{Precedence: RecoveryPointFirst},
			source: map[string]string{"env": "prod"},
			rp:     map[string]string{"env": "old"},
			want:   tagMerge{Write: map[string]string{"env": "old"}},
		},
		{
			name:     "existing keys kept, equal values free",
			source:   map[string]string{"env": "prod", "team": "a"},
			existing: map[string]string{"env": "restored", "team": "a"},
			want:     tagMerge{Write: map[string]string{}, Kept: []string{"env"}},
		},
		{
			name:     "overwrite",
			cfg:      Config{Overwrite: true},
			source:   map[string]string{"env": "prod"},
			existing: map[string]string{"env": "restored"},
			want:     tagMerge{Write: map[string]string{"env": "prod"}},
		},
		{
			name:   "prefix and exact exclusions",
			cfg:    Config{Exclusions: []string{"tmp-*", "owner"}},
			source: map[string]string{"tmp-a": "1", "tmp": "2", "owner": "x", "AWS:Case": "y"},
			want:   tagMerge{Write: map[string]string{"tmp": "2"}, Excluded: []string{"AWS:Case", "owner", "tmp-a"}},
		},
		{
			name:       "provenance first, even past exclusions",
			cfg:        Config{ProvenanceKey: "restored-from", Exclusions: []string{"restored-*"}},
			source:     many("s", 50),
			provenance: "arn:aws:ec2:us-east-1::snapshot/snap-1",
			want: tagMerge{
				Write:   merged(map[string]string{"restored-from": "arn:aws:ec2:us-east-1::snapshot/snap-1"}, many("s", 49)),
				LeftOut: []string{"s49"},
			},
		},
		{
			name:     "limit counts existing user tags, not aws ones",
			source:   many("s", 10),
			rp:       many("r", 10),
			existing: merged(many("e", 45), map[string]string{"aws:cloudformation:stack-id": "x"}),
			want: tagMerge{
				Write:   many("s", 5),
				LeftOut: []string{"s05", "s06", "s07", "s08", "s09", "r00", "r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08", "r09"},
			},
		},
		{
			name:     "resource already full",
			source:   map[string]string{"new": "1"},
			existing: many("e", 50),
			want:     tagMerge{Write: map[string]string{}, LeftOut: []string{"new"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := mergeTags(tt.cfg, tt.source, tt.rp, tt.existing, tt.provenance)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// Idempotent: merging onto the result writes nothing.
			again := mergeTags(tt.cfg, tt.source, tt.rp, merged(tt.existing, got.Write), tt.provenance)
			if len(again.Write) != 0 && !tt.cfg.Overwrite {
				t.Errorf("second merge writes %v", again.Write)
			}
		})
	}
}

func merged(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func FuzzMergeTags(f *testing.F) {
	f.Add("env=prod,aws:x=1", "env=old,plan=d", "env=r", "tmp-*", true, false)
	f.Fuzz(func(t *testing.T, src, rp, existing, exclusions string, overwrite, rpFirst bool) {
		parse := func(s string) map[string]string {
			m := map[string]string{}
			for _, kv := range strings.Split(s, ",") {
				if k, v, _ := strings.Cut(kv, "="); k != "" {
					m[k] = v
				}
			}
			return m
		}
		cfg := Config{Exclusions: strings.Split(exclusions, ","), Overwrite: overwrite, Precedence: SourceFirst}
		if rpFirst {
			cfg.Precedence = RecoveryPointFirst
		}
		ex := parse(existing)
		m := mergeTags(cfg, parse(src), parse(rp), ex, "")
		userExisting, added := 0, 0
		for k := range ex {
			if !strings.HasPrefix(strings.ToLower(k), "aws:") {
				userExisting++
			}
		}
		for k := range m.Write {
			if cfg.excluded(k) {
				t.Fatalf("wrote excluded key %q", k)
			}
			if _, had := ex[k]; had && !overwrite {
				t.Fatalf("overwrote %q without Overwrite", k)
			} else if !had {
				added++
			}
		}
		if added > 0 && userExisting+added > maxTags {
			t.Fatalf("%d existing + %d new tags exceed %d", userExisting, added, maxTags)
		}
	})
}
