package awsemu

import "strconv"

// OrgFixture is the organization the emulator's Organizations serves.
type OrgFixture struct {
	// ID is the organization ID, o-<10-32 chars>.
	ID string
	// ManagementAccount may call every policy operation.
	ManagementAccount string
	// RootID is r-<4-32 chars>.
	RootID   string
	OUs      []OrgUnit
	Accounts []Account
	// EnabledPolicyTypes are enabled in the root; attaching a policy of
	// another type fails with PolicyTypeNotEnabledException.
	EnabledPolicyTypes []string
	// UnavailablePolicyTypes cannot be enabled in this organization:
	// EnablePolicyType answers PolicyTypeNotAvailableForOrganizationException.
	UnavailablePolicyTypes []string
	// EnableDelayRequests: a type enabled by EnablePolicyType is
	// PENDING_ENABLE (attaching still refused) until the
	// EnableDelayRequests-th further request of this organization, which
	// sees it ENABLED. EnablePolicyType is asynchronous (Organizations API Reference,
	// EnablePolicyType: "an asynchronous request that AWS performs in the
	// background"). 0 enables at once.
	EnableDelayRequests int
	// DelegatedAdministrators are member accounts allowed to manage
	// policies (through an Organizations resource policy).
	DelegatedAdministrators []string
}

// OrgUnit is an organizational unit; Parent is the root or another OU.
type OrgUnit struct {
	ID, Name, Parent string
}

// Account is a member account; Parent is the root or an OU.
type Account struct {
	ID, Name, Parent string
}

// Account IDs of the sample organization.
const (
	SampleManagementAccount = "111111111111"
	SampleSolutionAccount   = "222222222222"
	SampleCentralBackup     = "333333333333"
	SampleProdAccount       = "444444444444"
	SampleDevAccount        = "555555555555"
	SampleSandboxAccount    = "666666666666"
	SampleOrgID             = "o-a1b2c3d4e5"
	SampleRootID            = "r-a1b2"
	SampleWorkloadsOU       = "ou-a1b2-workload1"
	SampleProdOU            = "ou-a1b2-prod0001"
	SampleDevOU             = "ou-a1b2-dev00001"
	SampleSecurityOU        = "ou-a1b2-security"
)

// SampleOrganization is a small organization with nested OUs: Workloads
// (Prod, Dev) and Security under the root, the management and a sandbox
// account directly under the root. BACKUP_POLICY, TAG_POLICY and
// SERVICE_CONTROL_POLICY are enabled.
func SampleOrganization() OrgFixture {
	return OrgFixture{
		ID:                SampleOrgID,
		ManagementAccount: SampleManagementAccount,
		RootID:            SampleRootID,
		OUs: []OrgUnit{
			{ID: SampleWorkloadsOU, Name: "Workloads", Parent: SampleRootID},
			{ID: SampleProdOU, Name: "Prod", Parent: SampleWorkloadsOU},
			{ID: SampleDevOU, Name: "Dev", Parent: SampleWorkloadsOU},
			{ID: SampleSecurityOU, Name: "Security", Parent: SampleRootID},
		},
		Accounts: []Account{
			{ID: SampleManagementAccount, Name: "Management", Parent: SampleRootID},
			{ID: SampleSolutionAccount, Name: "Backup Solution Home", Parent: SampleSecurityOU},
			{ID: SampleCentralBackup, Name: "Central Backup", Parent: SampleSecurityOU},
			{ID: SampleProdAccount, Name: "Prod App", Parent: SampleProdOU},
			{ID: SampleDevAccount, Name: "Dev App", Parent: SampleDevOU},
			{ID: SampleSandboxAccount, Name: "Sandbox", Parent: SampleRootID},
		},
		EnabledPolicyTypes: []string{"SERVICE_CONTROL_POLICY", "TAG_POLICY", "BACKUP_POLICY"},
	}
}

// BackupPolicyDisabledOrganization is SampleOrganization before backup
// policies were enabled in its root (a new organization): attaching a
// BACKUP_POLICY fails with PolicyTypeNotEnabledException until
// EnablePolicyType, which takes two further requests to complete.
func BackupPolicyDisabledOrganization() OrgFixture {
	f := SampleOrganization()
	f.EnabledPolicyTypes = []string{"SERVICE_CONTROL_POLICY", "TAG_POLICY"}
	f.EnableDelayRequests = 2
	return f
}

// Account IDs of the second organization.
const (
	SecondManagementAccount = "888888888888"
	SecondMemberAccount     = "888888888801"
	SecondOrgID             = "o-z9y8x7w6v5"
	SecondRootID            = "r-z9y8"
	SecondWorkloadsOU       = "ou-z9y8-workload2"
)

// SecondOrganization is another organization, for what happens across
// organizations: its accounts are no members of SampleOrganization, and
// neither organization can see the other's policies. BACKUP_POLICY is
// enabled.
func SecondOrganization() OrgFixture {
	return OrgFixture{
		ID:                SecondOrgID,
		ManagementAccount: SecondManagementAccount,
		RootID:            SecondRootID,
		OUs:               []OrgUnit{{ID: SecondWorkloadsOU, Name: "Workloads", Parent: SecondRootID}},
		Accounts: []Account{
			{ID: SecondManagementAccount, Name: "Management", Parent: SecondRootID},
			{ID: SecondMemberAccount, Name: "Member", Parent: SecondWorkloadsOU},
		},
		EnabledPolicyTypes: []string{"BACKUP_POLICY"},
	}
}

// AddAccounts adds n member accounts under parent (the root or an OU of f)
// and returns their IDs, in order. The IDs are 12 digits starting with 9,
// which no sample account uses, so the sample IDs stay as they are;
// Organizations itself sets no limit on the entities one policy is attached
// to, and tests of large organizations need that many accounts.
func (f *OrgFixture) AddAccounts(parent string, n int) []string {
	used := map[string]bool{}
	for _, a := range f.Accounts {
		used[a.ID] = true
	}
	ids := make([]string, 0, n)
	for next := 900000000000; len(ids) < n; next++ {
		id := strconv.Itoa(next)
		if used[id] {
			continue
		}
		used[id] = true
		ids = append(ids, id)
		f.Accounts = append(f.Accounts, Account{ID: id, Name: "Member " + id, Parent: parent})
	}
	return ids
}
