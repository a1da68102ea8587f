// Package invocation holds the time rule both functions keep before their
// Lambda deadline: the answer (a custom-resource response, a backfill
// summary) must go out before the invocation ends, or nobody gets it.
package invocation

import "time"

// DefaultMargin is the time kept free before the deadline when the
// invocation has plenty.
const DefaultMargin = 10 * time.Second

// Margin is the time to keep free before deadline for the answer: limit
// (DefaultMargin unless configured), but never more than a third of the time
// left, so that a short deadline (a test, an invocation near its end) still
// leaves most of its time to the work. It is never negative.
func Margin(deadline time.Time, limit time.Duration) time.Duration {
	return max(0, min(limit, time.Until(deadline)/3))
}
