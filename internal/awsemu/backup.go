package awsemu

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// BackupAccount is the account whose AWS Backup the emulator serves (one
// member account, where the tag re-applier runs).
const BackupAccount = SampleProdAccount

// RecoveryPoint is a backup held in a vault.
type RecoveryPoint struct {
	// ARN is the recovery point ARN; its form depends on the resource type
	// (an EBS snapshot ARN, an RDS snapshot ARN, an AWS Backup ARN...).
	ARN          string
	VaultName    string
	ResourceARN  string
	ResourceType string
	Created      time.Time
	Tags         map[string]string
}

// RestoreJob is a restore job with the fields DescribeRestoreJob returns.
type RestoreJob struct {
	ID                 string
	VaultName          string
	RecoveryPointARN   string
	SourceResourceARN  string
	CreatedResourceARN string
	ResourceType       string
	IAMRoleARN         string
	// Status is PENDING, RUNNING, COMPLETED, ABORTED or FAILED.
	Status        string
	StatusMessage string
	Created       time.Time
	Completed     time.Time
	// RecoveryPointCreated defaults to Created minus a day.
	RecoveryPointCreated time.Time
	BackupSizeInBytes    int64
	// RestoreTestingPlanARN is set for jobs a restore testing plan ran.
	RestoreTestingPlanARN string
	// ParentJobID and IsParent link the jobs of a composite restore.
	ParentJobID string
	IsParent    bool
	// DeletionStatus (DELETING, FAILED, SUCCESSFUL) and ValidationStatus
	// (FAILED, SUCCESSFUL, TIMED_OUT, VALIDATING) concern restore testing.
	DeletionStatus, DeletionStatusMessage     string
	ValidationStatus, ValidationStatusMessage string
}

type backupService struct {
	pageSize int
	vaults   []string // names, in creation order
	points   map[string]*RecoveryPoint
	jobs     map[string]*RestoreJob
}

func newBackup(pageSize int) *backupService {
	return &backupService{pageSize: pageSize, points: map[string]*RecoveryPoint{}, jobs: map[string]*RestoreJob{}}
}

func vaultARN(name string) string {
	return fmt.Sprintf("arn:aws:backup:%s:%s:backup-vault:%s", Region, BackupAccount, name)
}

// AddBackupVault creates a vault and returns its ARN.
func (e *Emulator) AddBackupVault(name string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !slices.Contains(e.backup.vaults, name) {
		e.backup.vaults = append(e.backup.vaults, name)
	}
	return vaultARN(name)
}

// AddRecoveryPoint stores a recovery point (its vault is created if needed).
//
// Only recovery points with an arn:aws:backup ARN (EFS, DynamoDB with
// advanced features, S3...) keep their tags in AWS Backup. The others are
// resources of their own service (an EBS snapshot, an AMI, an RDS or
// Redshift snapshot, an FSx backup) whose tags the Tagging API serves,
// under their account-qualified ARN: AWS Backup names EC2 snapshots and
// images without the account, the Tagging API names every resource with
// it. A DynamoDB backup without advanced features has no tags at all
// (AWS Backup developer guide, "Copying tags onto backups": DynamoDB does
// not support tags on backups unless Advanced DynamoDB backup is on); a
// fixture giving it tags is a mistake and panics.
func (e *Emulator) AddRecoveryPoint(rp RecoveryPoint) {
	e.AddBackupVault(rp.VaultName)
	e.mu.Lock()
	defer e.mu.Unlock()
	rp.Tags = maps.Clone(rp.Tags)
	if rp.Created.IsZero() {
		rp.Created = time.Now().Add(-24 * time.Hour).UTC()
	}
	e.backup.points[rp.ARN] = &rp
	switch {
	case isBackupARN(rp.ARN):
	case isDynamoDBBackupARN(rp.ARN):
		if len(rp.Tags) > 0 {
			panic("awsemu: DynamoDB backups without advanced features carry no tags: " + rp.ARN)
		}
	default:
		e.tagging.put(accountQualified(rp.ARN), rp.Tags)
	}
}

// DeleteRecoveryPoint removes a recovery point (expired by its lifecycle).
func (e *Emulator) DeleteRecoveryPoint(arn string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.backup.points, arn)
	if !isBackupARN(arn) {
		delete(e.tagging.resources, accountQualified(arn))
	}
}

// isBackupARN reports an ARN of AWS Backup itself (arn:<partition>:backup:).
func isBackupARN(s string) bool {
	a, err := arn.Parse(s)
	return err == nil && a.Service == "backup"
}

// isDynamoDBBackupARN reports a DynamoDB backup taken without advanced
// features: arn:aws:dynamodb:region:acct:table/T/backup/ID.
func isDynamoDBBackupARN(s string) bool {
	a, err := arn.Parse(s)
	return err == nil && a.Service == "dynamodb" && strings.Contains(a.Resource, "/backup/")
}

// accountQualified fills in the emulator's account where an ARN names none
// (arn:aws:ec2:us-east-1::snapshot/snap-…).
func accountQualified(s string) string {
	a, err := arn.Parse(s)
	if err != nil || a.AccountID != "" || a.Service == "s3" {
		return s
	}
	a.AccountID = BackupAccount
	return a.String()
}

// AddRestoreJob stores a restore job.
func (e *Emulator) AddRestoreJob(j RestoreJob) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if j.Created.IsZero() {
		j.Created = time.Now().Add(-time.Hour).UTC()
	}
	if j.RecoveryPointCreated.IsZero() {
		j.RecoveryPointCreated = j.Created.Add(-24 * time.Hour)
	}
	if j.Status == "COMPLETED" && j.Completed.IsZero() {
		j.Completed = j.Created.Add(10 * time.Minute)
	}
	e.backup.jobs[j.ID] = &j
}

func (b *backupService) protocol() *restJSONProtocol {
	return &restJSONProtocol{
		routes: []restRoute{
			{http.MethodGet, "/restore-jobs/{restoreJobId}", "DescribeRestoreJob", b.describeRestoreJob},
			{http.MethodGet, "/restore-jobs", "ListRestoreJobs", b.listRestoreJobs},
			{http.MethodGet, "/tags/{resourceArn}", "ListTags", b.listTags},
			{http.MethodGet, "/backup-vaults/{backupVaultName}/recovery-points/{recoveryPointArn}", "DescribeRecoveryPoint", b.describeRecoveryPoint},
			{http.MethodGet, "/backup-vaults", "ListBackupVaults", b.listBackupVaults},
		},
		invalid: unrecognizedClientJSON,
	}
}

func resourceNotFound(format string, args ...any) *APIError {
	return clientError("ResourceNotFoundException", format, args...)
}

func invalidParameter(format string, args ...any) *APIError {
	return clientError("InvalidParameterValueException", format, args...)
}

// epoch renders a timestamp the way restJson1 bodies carry them: seconds
// since the epoch, with a fraction.
func epoch(t time.Time) *float64 {
	if t.IsZero() {
		return nil
	}
	v := float64(t.UnixMilli()) / 1000
	return &v
}

type restoreJobOutput struct {
	AccountID                     string             `json:"AccountId"`
	BackupSizeInBytes             int64              `json:"BackupSizeInBytes"`
	BackupVaultArn                string             `json:"BackupVaultArn,omitempty"`
	CompletionDate                *float64           `json:"CompletionDate,omitempty"`
	CreatedBy                     *restoreJobCreator `json:"CreatedBy,omitempty"`
	CreatedResourceArn            string             `json:"CreatedResourceArn,omitempty"`
	CreationDate                  *float64           `json:"CreationDate,omitempty"`
	DeletionStatus                string             `json:"DeletionStatus,omitempty"`
	DeletionStatusMessage         string             `json:"DeletionStatusMessage,omitempty"`
	ExpectedCompletionTimeMinutes int64              `json:"ExpectedCompletionTimeMinutes"`
	IamRoleArn                    string             `json:"IamRoleArn,omitempty"`
	IsParent                      bool               `json:"IsParent"`
	ParentJobID                   string             `json:"ParentJobId,omitempty"`
	PercentDone                   string             `json:"PercentDone"`
	RecoveryPointArn              string             `json:"RecoveryPointArn,omitempty"`
	RecoveryPointCreationDate     *float64           `json:"RecoveryPointCreationDate,omitempty"`
	ResourceType                  string             `json:"ResourceType,omitempty"`
	RestoreJobID                  string             `json:"RestoreJobId"`
	SourceResourceArn             string             `json:"SourceResourceArn,omitempty"`
	Status                        string             `json:"Status"`
	StatusMessage                 string             `json:"StatusMessage,omitempty"`
	ValidationStatus              string             `json:"ValidationStatus,omitempty"`
	ValidationStatusMessage       string             `json:"ValidationStatusMessage,omitempty"`
}

type restoreJobCreator struct {
	RestoreTestingPlanArn string `json:"RestoreTestingPlanArn,omitempty"`
}

func (j *RestoreJob) output() restoreJobOutput {
	out := restoreJobOutput{
		AccountID:                     BackupAccount,
		BackupSizeInBytes:             j.BackupSizeInBytes,
		BackupVaultArn:                vaultARN(j.VaultName),
		CompletionDate:                epoch(j.Completed),
		CreatedResourceArn:            j.CreatedResourceARN,
		CreationDate:                  epoch(j.Created),
		IamRoleArn:                    j.IAMRoleARN,
		PercentDone:                   "0.00%",
		RecoveryPointArn:              j.RecoveryPointARN,
		ResourceType:                  j.ResourceType,
		RestoreJobID:                  j.ID,
		SourceResourceArn:             j.SourceResourceARN,
		Status:                        j.Status,
		StatusMessage:                 j.StatusMessage,
		IsParent:                      j.IsParent,
		ParentJobID:                   j.ParentJobID,
		DeletionStatus:                j.DeletionStatus,
		DeletionStatusMessage:         j.DeletionStatusMessage,
		ValidationStatus:              j.ValidationStatus,
		ValidationStatusMessage:       j.ValidationStatusMessage,
		ExpectedCompletionTimeMinutes: 10,
	}
	out.RecoveryPointCreationDate = epoch(j.RecoveryPointCreated)
	if j.Status == "COMPLETED" {
		out.PercentDone = "100.00%"
	}
	if j.RestoreTestingPlanARN != "" {
		out.CreatedBy = &restoreJobCreator{RestoreTestingPlanArn: j.RestoreTestingPlanARN}
	}
	return out
}

func (b *backupService) describeRestoreJob(c *call, req restRequest) (any, *APIError) {
	id := req.labels["restoreJobId"]
	c.target = id
	j := b.jobs[id]
	if j == nil {
		return nil, resourceNotFound("Cannot find restore job with ID %s", id)
	}
	return j.output(), nil
}

func (b *backupService) listRestoreJobs(c *call, req restRequest) (any, *APIError) {
	q := req.query
	maxResults := 0
	if s := q.Get("maxResults"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return nil, invalidParameter("maxResults must be between 1 and 1000")
		}
		maxResults = n
	}
	timeFilter := func(name string) (time.Time, *APIError) {
		s := q.Get(name)
		if s == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, invalidParameter("%s: %v", name, err)
		}
		return t, nil
	}
	after, err := timeFilter("createdAfter")
	if err != nil {
		return nil, err
	}
	before, err := timeFilter("createdBefore")
	if err != nil {
		return nil, err
	}
	status := q.Get("status")
	switch status {
	case "", "PENDING", "RUNNING", "COMPLETED", "ABORTED", "FAILED":
	default:
		return nil, invalidParameter("status %q is not a restore job status", status)
	}
	var all []restoreJobOutput
	jobs := slices.Collect(maps.Values(b.jobs))
	// Newest first, as the console lists them; the ID breaks ties so the
	// order, and so the pages, are stable.
	slices.SortFunc(jobs, func(x, y *RestoreJob) int {
		if c := y.Created.Compare(x.Created); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	for _, j := range jobs {
		if (status != "" && j.Status != status) ||
			(!after.IsZero() && !j.Created.After(after)) ||
			(!before.IsZero() && !j.Created.Before(before)) ||
			(q.Get("resourceType") != "" && j.ResourceType != q.Get("resourceType")) {
			continue
		}
		all = append(all, j.output())
	}
	page, next, ok := paginate("ListRestoreJobs:"+q.Get("status")+q.Get("createdAfter"), all, q.Get("nextToken"), maxResults, b.pageSize)
	if !ok {
		return nil, invalidParameter("The next token is not valid.")
	}
	return struct {
		RestoreJobs []restoreJobOutput `json:"RestoreJobs"`
		NextToken   string             `json:"NextToken,omitempty"`
	}{nonNil(page), next}, nil
}

func (b *backupService) listTags(c *call, req restRequest) (any, *APIError) {
	arn := req.labels["resourceArn"]
	c.target = arn
	// AWS Backup API reference, ListTags: for a resourceArn other than
	// arn:aws:backup it "may return" InvalidParameterValueException (400);
	// only resource types fully managed by AWS Backup have one.
	if !isBackupARN(arn) {
		return nil, invalidParameter("Invalid resource ARN %s: ListTags supports only resources fully managed by AWS Backup (ARNs beginning arn:aws:backup)", arn)
	}
	var tags map[string]string
	if rp := b.points[arn]; rp != nil {
		tags = rp.Tags
	} else if !slices.ContainsFunc(b.vaults, func(n string) bool { return vaultARN(n) == arn }) {
		return nil, resourceNotFound("Resource %s not found", arn)
	}
	maxResults := 0
	if s := req.query.Get("maxResults"); s != "" {
		maxResults, _ = strconv.Atoi(s)
	}
	keys := slices.Sorted(maps.Keys(tags))
	page, next, ok := paginate("ListTags:"+arn, keys, req.query.Get("nextToken"), maxResults, b.pageSize)
	if !ok {
		return nil, invalidParameter("The next token is not valid.")
	}
	out := map[string]string{}
	for _, k := range page {
		out[k] = tags[k]
	}
	return struct {
		Tags      map[string]string `json:"Tags"`
		NextToken string            `json:"NextToken,omitempty"`
	}{out, next}, nil
}

func (b *backupService) describeRecoveryPoint(c *call, req restRequest) (any, *APIError) {
	arn, vault := req.labels["recoveryPointArn"], req.labels["backupVaultName"]
	c.target = arn
	rp := b.points[arn]
	if rp == nil || rp.VaultName != vault {
		return nil, resourceNotFound("Recovery point %s not found in vault %s", arn, vault)
	}
	return struct {
		RecoveryPointArn string   `json:"RecoveryPointArn"`
		BackupVaultName  string   `json:"BackupVaultName"`
		BackupVaultArn   string   `json:"BackupVaultArn"`
		ResourceArn      string   `json:"ResourceArn"`
		ResourceType     string   `json:"ResourceType"`
		CreationDate     *float64 `json:"CreationDate"`
		Status           string   `json:"Status"`
	}{rp.ARN, rp.VaultName, vaultARN(rp.VaultName), rp.ResourceARN, rp.ResourceType, epoch(rp.Created), "COMPLETED"}, nil
}

func (b *backupService) listBackupVaults(_ *call, req restRequest) (any, *APIError) {
	type vault struct {
		BackupVaultArn         string `json:"BackupVaultArn"`
		BackupVaultName        string `json:"BackupVaultName"`
		NumberOfRecoveryPoints int64  `json:"NumberOfRecoveryPoints"`
		VaultType              string `json:"VaultType"`
	}
	all := make([]vault, 0, len(b.vaults))
	for _, name := range b.vaults {
		n := int64(0)
		for _, rp := range b.points {
			if rp.VaultName == name {
				n++
			}
		}
		all = append(all, vault{vaultARN(name), name, n, "BACKUP_VAULT"})
	}
	maxResults, _ := strconv.Atoi(req.query.Get("maxResults"))
	page, next, ok := paginate("ListBackupVaults", all, req.query.Get("nextToken"), maxResults, b.pageSize)
	if !ok {
		return nil, invalidParameter("The next token is not valid.")
	}
	return struct {
		BackupVaultList []vault `json:"BackupVaultList"`
		NextToken       string  `json:"NextToken,omitempty"`
	}{nonNil(page), next}, nil
}
