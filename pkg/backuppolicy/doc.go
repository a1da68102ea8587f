// Package backuppolicy reads, renders and checks AWS Organizations backup
// policy documents (policy type BACKUP_POLICY).
//
// Documents are parsed into an order-preserving tree that remembers where
// every value was written, so errors say both where in the policy
// (plans.Daily.rules.Nightly.lifecycle) and where in the text (line 12,
// column 9). Rendering applies the custom resource's Variables and
// PolicyRegions; Validate checks the policy syntax; Minify produces the form
// to send, because the Organizations API counts whitespace against the
// 10,000-character limit.
package backuppolicy
