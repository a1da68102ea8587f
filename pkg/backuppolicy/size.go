package backuppolicy

import "fmt"

// maxChars are the Organizations limits on policy documents, by policy type
// (Organizations User Guide, "Quotas for AWS Organizations").
var maxChars = map[string]int{
	"BACKUP_POLICY":             10000,
	"TAG_POLICY":                10000,
	"SERVICE_CONTROL_POLICY":    5120,
	"RESOURCE_CONTROL_POLICY":   5120,
	"AISERVICES_OPT_OUT_POLICY": 2500,
}

// MaxChars is the largest document a policy type allows, 0 if not known.
func MaxChars(policyType string) int { return maxChars[policyType] }

// CheckSize checks minified content against its type's limit. The API
// stores content as sent and whitespace counts, which is why only the
// minified form is ever sent.
func CheckSize(minified []byte, policyType string) error {
	limit := MaxChars(policyType)
	if n := Chars(minified); limit > 0 && n > limit {
		return fmt.Errorf("the policy is %d characters even minified; AWS Organizations allows at most %d for %s", n, limit, policyType)
	}
	return nil
}
