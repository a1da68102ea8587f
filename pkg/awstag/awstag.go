// Package awstag holds the tagging rules AWS sets for every service, which
// both functions check before they write a tag.
package awstag

import "strings"

// ReservedPrefix starts the tag keys AWS keeps for itself: users cannot
// create, edit or delete them, and they do not count toward a resource's
// tag limit. The services' tag rules forbid it in any case: "Don't use
// aws:, AWS:, or any upper or lowercase combination of such as a prefix"
// (Amazon ECS API reference, Tag; AWS Batch user guide, "Tag
// restrictions"), so the test ignores case.
const ReservedPrefix = "aws:"

// Reserved reports whether key uses ReservedPrefix, in any case.
func Reserved(key string) bool {
	return len(key) >= len(ReservedPrefix) && strings.EqualFold(key[:len(ReservedPrefix)], ReservedPrefix)
}
