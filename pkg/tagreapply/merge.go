package tagreapply

import (
	"maps"
	"slices"

	"github.com/backup-as-code/orgbackup/pkg/awstag"
)

// maxTags is the number of user tags a resource can have; aws: tags do not
// count (AWS tagging rules).
const maxTags = 50

// tagMerge is the result of merging tags for a restored resource.
type tagMerge struct {
	// Write are the tags to write.
	Write map[string]string
	// Kept are keys the restored resource already had with another value,
	// left as they were.
	Kept []string
	// Excluded are aws: keys and configured exclusions.
	Excluded []string
	// LeftOut did not fit in the resource's 50 tags.
	LeftOut []string
}

// skipped counts the tags not written, for metrics.
func (m tagMerge) skipped() int { return len(m.Kept) + len(m.Excluded) + len(m.LeftOut) }

type candidate struct{ key, value string }

// mergeTags decides which tags a restored resource gets. It is pure.
//
// Candidates come in priority order: the provenance tag, then the winning
// side's tags (the source resource's by default), then the other side's
// keys the winner lacks, each group in key order, so that what is left out
// at the 50-tag limit is the least authoritative and always the same. A key
// the resource already has is kept unless c.Overwrite; a key with the value
// it already has costs nothing. Running the merge again on its own result
// writes nothing: re-applying is idempotent.
func mergeTags(c Config, source, recoveryPoint, existing map[string]string, provenance string) tagMerge {
	first, second := source, recoveryPoint
	if c.Precedence == RecoveryPointFirst {
		first, second = recoveryPoint, source
	}
	var cands []candidate
	if c.ProvenanceKey != "" && provenance != "" {
		cands = append(cands, candidate{c.ProvenanceKey, provenance})
	}
	seen := map[string]bool{c.ProvenanceKey: c.ProvenanceKey != "" && provenance != ""}
	for _, side := range []map[string]string{first, second} {
		for _, k := range slices.Sorted(maps.Keys(side)) {
			if !seen[k] {
				seen[k] = true
				cands = append(cands, candidate{k, side[k]})
			}
		}
	}

	used := 0
	for k := range existing {
		if !awstag.Reserved(k) {
			used++
		}
	}
	m := tagMerge{Write: map[string]string{}}
	for _, cd := range cands {
		old, has := existing[cd.key]
		switch {
		case c.excluded(cd.key) && cd.key != c.ProvenanceKey:
			m.Excluded = append(m.Excluded, cd.key)
		case has && old == cd.value:
			// Already right.
		case has && !c.Overwrite:
			m.Kept = append(m.Kept, cd.key)
		case has:
			m.Write[cd.key] = cd.value
		case used >= maxTags:
			m.LeftOut = append(m.LeftOut, cd.key)
		default:
			used++
			m.Write[cd.key] = cd.value
		}
	}
	return m
}
