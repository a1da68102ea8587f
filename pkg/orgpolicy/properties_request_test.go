package orgpolicy_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
)

// The earlier solution's templates write placeholders as <name>; in an
// inline PolicyContent object (a YAML map) they must be replaced like any
// other, also in copy action keys.
func TestInlineContentPlaceholdersWithAngleBrackets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	const vault = "arn:aws:backup:us-east-1:333333333333:backup-vault:central"
	content := map[string]any{"plans": map[string]any{"daily": map[string]any{
		"regions": map[string]any{"@@assign": []any{"us-east-1"}},
		"rules": map[string]any{"nightly": map[string]any{
			"schedule_expression":      map[string]any{"@@assign": "cron(0 5 ? * * *)"},
			"target_backup_vault_name": map[string]any{"@@assign": "<vault_name>"},
			"copy_actions": map[string]any{"<central_vault_arn>": map[string]any{
				"target_backup_vault_arn": map[string]any{"@@assign": "<central_vault_arn>"},
			}},
		}},
		"selections": map[string]any{"tags": map[string]any{"tagged": map[string]any{
			"iam_role_arn": map[string]any{"@@assign": "arn:aws:iam::$account:role/BackupServiceRole"},
			"tag_key":      map[string]any{"@@assign": "backup"},
			"tag_value":    map[string]any{"@@assign": []any{"R&D"}},
		}}},
	}}}
	resp := e.create(t, props(t, map[string]any{
		"PolicyContent": content,
		"PolicyRegions": nil,
		"Variables":     []any{map[string]any{"<central_vault_arn>": vault}, map[string]any{"<vault_name>": "org-vault"}},
	}))
	got := e.policy(t, resp.PhysicalResourceID).Content
	want := `"copy_actions":{"` + vault + `":{"target_backup_vault_arn":{"@@assign":"` + vault + `"}}}`
	if !strings.Contains(got, want) || !strings.Contains(got, `"target_backup_vault_name":{"@@assign":"org-vault"}`) {
		t.Errorf("content sent:\n%s\nwant the placeholders replaced: %s", got, want)
	}
	if !strings.Contains(got, `"R&D"`) {
		t.Errorf("content sent:\n%s\nwant & kept as written", got)
	}
}

// UpdateToken exists to force an Update without other changes (templates
// change it to re-run the resource); such an Update converges a policy that
// is already right and so writes nothing.
func TestUpdateTokenForcesAnUpdateThatChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	old := props(t, map[string]any{"UpdateToken": "2026-12-01"})
	id := e.create(t, old).PhysicalResourceID
	before := e.policy(t, id)

	e.emu.ResetCalls()
	resp := e.do(t, request{typ: cfn.RequestUpdate, physicalID: id, props: props(t, map[string]any{"UpdateToken": "2026-12-02"}), oldProps: old})
	mustSucceed(t, resp)
	if resp.PhysicalResourceID != id {
		t.Errorf("physical ID %s, want %s kept", resp.PhysicalResourceID, id)
	}
	if w := e.writes(); len(w) != 0 {
		t.Errorf("an Update that changes only UpdateToken made write calls: %v", w)
	}
	if after := e.policy(t, id); after.Content != before.Content || len(after.Targets) != len(before.Targets) {
		t.Errorf("policy changed: %+v", after)
	}
}
