package orgpolicy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/pkg/backuppolicy"
)

func TestDecodeProperties(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		props    string
		defaults Defaults
		want     Properties
	}{
		{
			name:     "minimal with defaults",
			props:    `{"PolicyName":"daily","PolicyContent":"{}","ServiceToken":"arn:aws:lambda:us-east-1:222222222222:function:f"}`,
			defaults: Defaults{OrgManagementAccount: "111111111111", ExternalID: "ext-123"},
			want: Properties{
				PolicyName: "daily", PolicyType: "BACKUP_POLICY", Content: Content{Inline: "{}"},
				RegionsOperator: "@@append", OrgManagementAccount: "111111111111",
				OrgAdminRoleName: defaultOrgAdminRoleName, ExternalID: "ext-123", Tags: map[string]string{},
			},
		},
		{
			name: "lists as comma strings, deduplicated; resource overrides defaults",
			props: `{"PolicyName":"daily","PolicyContent":"{}","PolicyTargets":" r-a1b2 ,ou-a1b2-prod0001,r-a1b2,",
				"PolicyRegions":"us-east-1,eu-west-1","PolicyRegionsOperator":"@@assign",
				"OrgManagementAccount":"999999999999","OrgAdminRoleName":"path/to/Admin"}`,
			defaults: Defaults{OrgManagementAccount: "111111111111", OrgAdminRoleName: "FromEnv"},
			want: Properties{
				PolicyName: "daily", PolicyType: "BACKUP_POLICY", Content: Content{Inline: "{}"},
				Targets: []string{"r-a1b2", "ou-a1b2-prod0001"}, Regions: []string{"us-east-1", "eu-west-1"},
				RegionsOperator: "@@assign", OrgManagementAccount: "999999999999", OrgAdminRoleName: "path/to/Admin", Tags: map[string]string{},
			},
		},
		{
			name: "variables as a list of maps, a map, or JSON text; tags as a map",
			props: `{"PolicyName":"daily","PolicyContent":{"plans":{"p":{}}},
				"Variables":[{"$b":"2"},{"$a":"1"}],"Tags":{"team":"platform","env":""}}`,
			want: Properties{
				PolicyName: "daily", PolicyType: "BACKUP_POLICY", Content: Content{Inline: `{"plans":{"p":{}}}`},
				Variables:       []backuppolicy.Variable{{Placeholder: "$b", Value: "2"}, {Placeholder: "$a", Value: "1"}},
				RegionsOperator: "@@append", OrgAdminRoleName: defaultOrgAdminRoleName,
				Tags: map[string]string{"team": "platform", "env": ""},
			},
		},
		{
			name: "UpdateToken is accepted and changes nothing; inline objects keep <, > and & for Variables",
			props: `{"PolicyName":"daily","UpdateToken":"2026-12-02T04:00Z",
				"PolicyContent":{"plans":{"p":{"rules":{"r":{"copy_actions":{"<central_vault_arn>":{"target_backup_vault_arn":{"@@assign":"<central_vault_arn>"}}},"target_backup_vault_name":{"@@assign":"a&b"}}}}}},
				"Variables":[{"<central_vault_arn>":"arn:aws:backup:us-east-1:333333333333:backup-vault:central"}]}`,
			want: Properties{
				PolicyName: "daily", PolicyType: "BACKUP_POLICY",
				Content:         Content{Inline: `{"plans":{"p":{"rules":{"r":{"copy_actions":{"<central_vault_arn>":{"target_backup_vault_arn":{"@@assign":"<central_vault_arn>"}}},"target_backup_vault_name":{"@@assign":"a&b"}}}}}}`},
				Variables:       []backuppolicy.Variable{{Placeholder: "<central_vault_arn>", Value: "arn:aws:backup:us-east-1:333333333333:backup-vault:central"}},
				RegionsOperator: "@@append", OrgAdminRoleName: defaultOrgAdminRoleName, Tags: map[string]string{},
			},
		},
		{
			name:  "variables as JSON text, S3 content",
			props: `{"PolicyName":"daily","PolicyContent":{"S3":{"PolicyBucket":"b","PolicyKey":"k/p.json","VersionId":"v1"}},"Variables":"{\"$x\":\"y\"}"}`,
			want: Properties{
				PolicyName: "daily", PolicyType: "BACKUP_POLICY", Content: Content{S3: &S3Location{Bucket: "b", Key: "k/p.json", VersionID: "v1"}},
				Variables:       []backuppolicy.Variable{{Placeholder: "$x", Value: "y"}},
				RegionsOperator: "@@append", OrgAdminRoleName: defaultOrgAdminRoleName, Tags: map[string]string{},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var m map[string]any
			if err := json.Unmarshal([]byte(tt.props), &m); err != nil {
				t.Fatal(err)
			}
			got, err := DecodeProperties(m, tt.defaults)
			if err != nil {
				t.Fatalf("DecodeProperties: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodePropertiesErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		props string
		want  string
	}{
		"targets not a list":      {`{"PolicyName":"n","PolicyContent":"{}","PolicyTargets":{"a":1}}`, "PolicyTargets: must be a list or a comma-separated string, not an object"},
		"target not a string":     {`{"PolicyName":"n","PolicyContent":"{}","PolicyTargets":["r-a1b2",5]}`, "PolicyTargets[1]: must be a string, not float64"},
		"name not a string":       {`{"PolicyName":{"a":1},"PolicyContent":"{}"}`, "PolicyName: must be a string, not an object"},
		"empty content":           {`{"PolicyName":"n","PolicyContent":"  "}`, "PolicyContent: must not be empty"},
		"content a list":          {`{"PolicyName":"n","PolicyContent":[1]}`, "PolicyContent: must be a JSON string or an object, not a list"},
		"variable value a number": {`{"PolicyName":"n","PolicyContent":"{}","Variables":{"$x":1}}`, `Variables["$x"]: value must be a string`},
		"variable given twice":    {`{"PolicyName":"n","PolicyContent":"{}","Variables":[{"$x":"1"},{"$x":"2"}]}`, `Variables["$x"]: placeholder given twice`},
		"variables bad JSON":      {`{"PolicyName":"n","PolicyContent":"{}","Variables":"{nope"}`, "Variables: a string must hold JSON"},
		"tag value too long":      {`{"PolicyName":"n","PolicyContent":"{}","Tags":[{"Key":"k","Value":"` + strings.Repeat("v", 257) + `"}]}`, "Tags[0]: Value must be at most 256 characters"},
		"tag key twice":           {`{"PolicyName":"n","PolicyContent":"{}","Tags":[{"Key":"k","Value":"1"},{"Key":"k","Value":"2"}]}`, `Tags[1]: Key "k" given twice`},
		"description too long":    {`{"PolicyName":"n","PolicyContent":"{}","PolicyDescription":"` + strings.Repeat("d", 513) + `"}`, "PolicyDescription: 513 characters; at most 512 allowed"},
		"role name":               {`{"PolicyName":"n","PolicyContent":"{}","OrgAdminRoleName":"bad role"}`, `OrgAdminRoleName: "bad role" is not an IAM role name`},
		"external id":             {`{"PolicyName":"n","PolicyContent":"{}","ExternalId":"x"}`, "ExternalId: must be 2 to 1224 characters"},
		"enable policy type yes":  {`{"PolicyName":"n","PolicyContent":"{}","EnablePolicyType":"yes"}`, `EnablePolicyType: "yes"; allowed: "true", "false"`},
		"update token an object":  {`{"PolicyName":"n","PolicyContent":"{}","UpdateToken":{"a":1}}`, "UpdateToken: must be a string, not an object"},
		"unknown property":        {`{"PolicyName":"n","PolicyContent":"{}","PolicyTarget":"r-a1b2"}`, "PolicyTarget: unknown property; did you mean PolicyTargets? allowed: PolicyName, PolicyDescription, PolicyType, PolicyContent, Variables,"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var m map[string]any
			if err := json.Unmarshal([]byte(tt.props), &m); err != nil {
				t.Fatal(err)
			}
			_, err := DecodeProperties(m, Defaults{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestUnknownPropertySuggestion(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"PolicyTarget":        "PolicyTargets",        // one edit
		"PolicyTragets":       "PolicyTargets",        // a transposition is two
		"policytargets":       "PolicyTargets",        // case first
		"ExternalID":          "ExternalId",           // case, not the one-edit neighbour
		"OrgManagmentAccount": "OrgManagementAccount", //
		"Targets":             "PolicyTargets",        // the earlier solution's Policy prefix left out
		"Name":                "PolicyName",           //
		"Tag":                 "Tags",                 //
		"ServiceTimout":       "ServiceTimeout",       // CloudFormation's own names too
		"UpdateTokens":        "UpdateToken",          //
		"Colour":              "",                     // nothing close
		"Ta":                  "",                     // too short to guess
		"PolicyStuff":         "",                     // four edits from PolicyType
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := DecodeProperties(map[string]any{"PolicyName": "n", "PolicyContent": "{}", name: "x"}, Defaults{})
			if err == nil {
				t.Fatalf("%s accepted", name)
			}
			hint := ""
			if _, after, ok := strings.Cut(err.Error(), name+": unknown property; did you mean "); ok {
				hint, _, _ = strings.Cut(after, "?")
			} else if !strings.Contains(err.Error(), name+": unknown property; allowed: PolicyName,") {
				t.Fatalf("error = %v", err)
			}
			if hint != want {
				t.Errorf("suggestion %q, want %q (error: %v)", hint, want, err)
			}
		})
	}
}

// TestPropertyErrorDocument: a PropertyError says what the document can
// still be checked with, or why it cannot.
func TestPropertyErrorDocument(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		props     string
		document  *Properties
		unchecked string
	}{
		{
			name:     "a misspelt property: everything the document needs",
			props:    `{"PolicyName":"n","PolicyContent":"{}","PolicyTargest":"r-a1b2","Variables":{"$x":"y"},"PolicyRegions":"eu-west-1"}`,
			document: &Properties{PolicyType: "BACKUP_POLICY", Content: Content{Inline: "{}"}, Variables: []backuppolicy.Variable{{Placeholder: "$x", Value: "y"}}, Regions: []string{"eu-west-1"}, RegionsOperator: "@@append"},
		},
		{
			name:     "content in S3, for the caller to read or not",
			props:    `{"PolicyContent":{"S3":{"PolicyBucket":"b","PolicyKey":"k"}}}`,
			document: &Properties{PolicyType: "BACKUP_POLICY", Content: Content{S3: &S3Location{Bucket: "b", Key: "k"}}, RegionsOperator: "@@append"},
		},
		{
			name:     "invalid regions are left out",
			props:    `{"PolicyName":"n","PolicyContent":"{}","PolicyRegions":"useast1","PolicyRegionsOperator":"@@remove"}`,
			document: &Properties{PolicyType: "BACKUP_POLICY", Content: Content{Inline: "{}"}},
		},
		{
			name:     "regions of another type are left out",
			props:    `{"PolicyName":"n","PolicyContent":"{}","PolicyType":"TAG_POLICY","PolicyRegions":"us-east-1"}`,
			document: &Properties{PolicyType: "TAG_POLICY", Content: Content{Inline: "{}"}},
		},
		{name: "content invalid", props: `{"PolicyName":"n","PolicyContent":[1],"PolicyTargest":"r-a1b2"}`},
		{name: "content missing", props: `{"PolicyName":"n"}`},
		{
			name:      "invalid PolicyType",
			props:     `{"PolicyName":"n","PolicyContent":"{}","PolicyType":"BACKUP"}`,
			unchecked: "PolicyContent: not checked: its syntax depends on PolicyType, which is invalid",
		},
		{
			name:      "misspelt PolicyType",
			props:     `{"PolicyName":"n","PolicyContent":"{}","PolicyTyp":"TAG_POLICY"}`,
			unchecked: "PolicyContent: not checked: its syntax depends on PolicyType, which is invalid",
		},
		{
			name:      "invalid Variables",
			props:     `{"PolicyName":"n","PolicyContent":"{}","Variables":"{nope"}`,
			unchecked: "PolicyContent: not checked: its placeholders depend on Variables, which are invalid",
		},
		{
			name:      "misspelt Variables",
			props:     `{"PolicyName":"n","PolicyContent":"{}","variables":{"$x":"y"}}`,
			unchecked: "PolicyContent: not checked: its placeholders depend on Variables, which are invalid",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var m map[string]any
			if err := json.Unmarshal([]byte(tt.props), &m); err != nil {
				t.Fatal(err)
			}
			_, err := DecodeProperties(m, Defaults{})
			var pe *PropertyError
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v, want a PropertyError", err)
			}
			if diff := cmp.Diff(tt.document, pe.Document); diff != "" {
				t.Errorf("Document (-want +got):\n%s", diff)
			}
			if pe.Unchecked != tt.unchecked {
				t.Errorf("Unchecked = %q, want %q", pe.Unchecked, tt.unchecked)
			}
			if tt.unchecked != "" && !strings.HasSuffix(err.Error(), "; "+tt.unchecked) {
				t.Errorf("error = %v, want it to end with why the document is not checked", err)
			}
		})
	}
}

func TestTooManyTags(t *testing.T) {
	t.Parallel()
	tags := map[string]any{}
	for i := range 49 {
		tags[strings.Repeat("k", i+1)] = "v"
	}
	_, err := DecodeProperties(map[string]any{"PolicyName": "n", "PolicyContent": "{}", "Tags": tags}, Defaults{})
	if err == nil || !strings.Contains(err.Error(), "Tags: 49 tags; at most 48 allowed") {
		t.Errorf("error = %v", err)
	}
}

func TestAccessRoleARN(t *testing.T) {
	t.Parallel()
	p := Properties{OrgManagementAccount: "111111111111", OrgAdminRoleName: "Admin", ExternalID: "e"}
	if got := access(p, "arn:aws-us-gov:cloudformation:us-gov-west-1:222222222222:stack/s/1"); got.RoleARN != "arn:aws-us-gov:iam::111111111111:role/Admin" || got.ExternalID != "e" {
		t.Errorf("access = %+v", got)
	}
	if got := access(Properties{}, "arn:aws:cloudformation:us-east-1:222222222222:stack/s/1"); got != (orgAccess{}) {
		t.Errorf("without a management account the function's own credentials are used, got %+v", got)
	}
}

func FuzzDecodeProperties(f *testing.F) {
	f.Add(`{"PolicyName":"daily","PolicyContent":"{}","PolicyTargets":"r-a1b2,ou-a1b2-prod0001","Variables":[{"$a":"b"}],"Tags":[{"Key":"k","Value":"v"}]}`)
	f.Add(`{"PolicyContent":{"S3":{"PolicyBucket":1}},"Variables":"[1]","Tags":{"k":[]}}`)
	f.Fuzz(func(t *testing.T, data string) {
		var m map[string]any
		if json.Unmarshal([]byte(data), &m) != nil {
			return
		}
		p, err := DecodeProperties(m, Defaults{})
		if err == nil && (p.PolicyName == "" || (p.Content.Inline == "" && p.Content.S3 == nil)) {
			t.Fatalf("accepted properties without a name or content: %+v", p)
		}
	})
}

func TestAllowedPropertiesLeaveOutCloudFormationsOwn(t *testing.T) {
	t.Parallel()
	_, err := DecodeProperties(map[string]any{"PolicyName": "n", "PolicyContent": "{}", "Colour": "x", "ServiceToken": "arn:aws:lambda:us-east-1:222222222222:function:f", "ServiceTimeout": "960"}, Defaults{})
	if err == nil {
		t.Fatal("Colour accepted")
	}
	msg := err.Error()
	if !strings.Contains(msg, "UpdateToken") || strings.Contains(msg, "ServiceToken") || strings.Contains(msg, "ServiceTimeout") {
		t.Errorf("error = %v; want the resource's properties offered, CloudFormation's accepted but not offered", err)
	}
}
