package awsemu_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	backuptypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	rgta "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
)

const member = "arn:aws:iam::444444444444:role/tag-reapplier"

func TestBackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	emu := awsemu.New(t, awsemu.Options{PageSize: 3})
	cl := backup.NewFromConfig(sdkConfig(t, emu, emu.CredentialsFor(member)))
	rp := "arn:aws:ec2:us-east-1::snapshot/snap-1"
	created := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	emu.AddRecoveryPoint(awsemu.RecoveryPoint{ARN: rp, VaultName: "v", ResourceARN: "arn:aws:ec2:us-east-1:444444444444:volume/vol-1", ResourceType: "EBS",
		Tags: map[string]string{"plan": "daily"}})
	efsRP := "arn:aws:backup:us-east-1:444444444444:recovery-point:6f1e2d3c-0001"
	emu.AddRecoveryPoint(awsemu.RecoveryPoint{ARN: efsRP, VaultName: "v", ResourceARN: "arn:aws:elasticfilesystem:us-east-1:444444444444:file-system/fs-1", ResourceType: "EFS",
		Tags: map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}})
	for i := range 7 {
		status := "COMPLETED"
		if i == 6 {
			status = "RUNNING"
		}
		emu.AddRestoreJob(awsemu.RestoreJob{
			ID: fmt.Sprintf("job-%d", i), VaultName: "v", RecoveryPointARN: rp, Status: status, ResourceType: "EBS",
			SourceResourceARN: "arn:aws:ec2:us-east-1:444444444444:volume/vol-1", CreatedResourceARN: fmt.Sprintf("arn:aws:ec2:us-east-1:444444444444:volume/vol-r%d", i),
			Created: created.Add(time.Duration(i) * time.Hour), BackupSizeInBytes: 1 << 30,
			ValidationStatus: "SUCCESSFUL", DeletionStatus: "DELETING", ParentJobID: "job-parent", StatusMessage: "done", RestoreTestingPlanARN: map[bool]string{true: "arn:aws:backup:us-east-1:444444444444:restore-testing-plan:weekly"}[i == 2],
		})
	}

	out, err := cl.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String("job-2")})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != backuptypes.RestoreJobStatusCompleted || aws.ToString(out.CreatedResourceArn) != "arn:aws:ec2:us-east-1:444444444444:volume/vol-r2" ||
		aws.ToString(out.BackupVaultArn) != "arn:aws:backup:us-east-1:444444444444:backup-vault:v" || aws.ToString(out.AccountId) != awsemu.BackupAccount ||
		!aws.ToTime(out.CreationDate).Equal(created.Add(2*time.Hour)) || aws.ToInt64(out.BackupSizeInBytes) != 1<<30 ||
		out.CreatedBy == nil || aws.ToString(out.CreatedBy.RestoreTestingPlanArn) == "" || aws.ToString(out.PercentDone) != "100.00%" ||
		out.ValidationStatus != backuptypes.RestoreValidationStatusSuccessful || out.DeletionStatus != backuptypes.RestoreDeletionStatusDeleting ||
		aws.ToString(out.ParentJobId) != "job-parent" || aws.ToString(out.StatusMessage) != "done" ||
		aws.ToTime(out.RecoveryPointCreationDate).IsZero() || aws.ToTime(out.CompletionDate).IsZero() || aws.ToInt64(out.ExpectedCompletionTimeMinutes) != 10 {
		t.Errorf("DescribeRestoreJob = %+v", out)
	}
	if _, err := cl.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String("nope")}); errorCode(err) != "ResourceNotFoundException" {
		t.Errorf("missing job: %v", err)
	}

	var ids []string
	pages := backup.NewListRestoreJobsPaginator(cl, &backup.ListRestoreJobsInput{ByStatus: backuptypes.RestoreJobStatusCompleted, ByCreatedAfter: aws.Time(created.Add(30 * time.Minute))})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range page.RestoreJobs {
			ids = append(ids, aws.ToString(j.RestoreJobId))
		}
	}
	if diff := cmp.Diff([]string{"job-5", "job-4", "job-3", "job-2", "job-1"}, ids); diff != "" {
		t.Errorf("completed jobs after the filter, newest first (-want +got):\n%s", diff)
	}

	tags := map[string]string{}
	tp := backup.NewListTagsPaginator(cl, &backup.ListTagsInput{ResourceArn: aws.String(efsRP)})
	for tp.HasMorePages() {
		page, err := tp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range page.Tags {
			tags[k] = v
		}
	}
	if len(tags) != 5 || emu.CountCalls("backup", "ListTags") != 2 {
		t.Errorf("ListTags gave %v in %d pages", tags, emu.CountCalls("backup", "ListTags"))
	}
	if _, err := cl.ListTags(ctx, &backup.ListTagsInput{ResourceArn: aws.String("arn:aws:backup:us-east-1:444444444444:recovery-point:gone")}); errorCode(err) != "ResourceNotFoundException" {
		t.Errorf("tags of a missing recovery point: %v", err)
	}
	// ListTags serves only resources fully managed by AWS Backup; an EBS
	// snapshot's tags are the snapshot's own, read through the Tagging API
	// under its account-qualified ARN.
	var re *smithyhttp.ResponseError
	if _, err := cl.ListTags(ctx, &backup.ListTagsInput{ResourceArn: aws.String(rp)}); errorCode(err) != "InvalidParameterValueException" || !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
		t.Errorf("ListTags of an EBS snapshot recovery point: %v", err)
	}
	tagging := rgta.NewFromConfig(sdkConfig(t, emu, emu.CredentialsFor(member)))
	for arn, want := range map[string]int{rp: 0, "arn:aws:ec2:us-east-1:444444444444:snapshot/snap-1": 1} {
		res, err := tagging.GetResources(ctx, &rgta.GetResourcesInput{ResourceARNList: []string{arn}})
		if err != nil || len(res.ResourceTagMappingList) != want {
			t.Errorf("GetResources(%s) = %+v, %v; want %d mappings", arn, res, err, want)
		}
	}
	rpOut, err := cl.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: aws.String("v"), RecoveryPointArn: aws.String(rp)})
	if err != nil || aws.ToString(rpOut.ResourceArn) != "arn:aws:ec2:us-east-1:444444444444:volume/vol-1" {
		t.Errorf("DescribeRecoveryPoint = %+v, %v", rpOut, err)
	}
	vaults, err := cl.ListBackupVaults(ctx, &backup.ListBackupVaultsInput{})
	if err != nil || len(vaults.BackupVaultList) != 1 || vaults.BackupVaultList[0].NumberOfRecoveryPoints != 2 {
		t.Errorf("ListBackupVaults = %+v, %v", vaults, err)
	}
}

func TestTagging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	emu := awsemu.New(t, awsemu.Options{})
	cl := rgta.NewFromConfig(sdkConfig(t, emu, emu.CredentialsFor(member)))
	vol := "arn:aws:ec2:us-east-1:444444444444:volume/vol-1"
	bucket := "arn:aws:s3:::data"
	untagged := "arn:aws:ec2:us-east-1:444444444444:volume/vol-2"
	elsewhere := "arn:aws:ec2:eu-west-1:444444444444:volume/vol-3"
	emu.AddResource(vol, map[string]string{"team": "a"})
	emu.AddResource(bucket, map[string]string{"env": "prod"})
	emu.AddResource(untagged, nil)
	emu.AddResource(elsewhere, map[string]string{"x": "y"})

	got, err := cl.GetResources(ctx, &rgta.GetResourcesInput{ResourceARNList: []string{vol, bucket, untagged, elsewhere, "arn:aws:ec2:us-east-1:444444444444:volume/vol-none"}})
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, m := range got.ResourceTagMappingList {
		found = append(found, aws.ToString(m.ResourceARN))
	}
	if diff := cmp.Diff([]string{vol, bucket}, found); diff != "" {
		t.Errorf("GetResources returns tagged resources of this account and Region only (-want +got):\n%s", diff)
	}

	manyARNs := make([]string, 21)
	for i := range manyARNs {
		manyARNs[i] = vol
	}
	manyTags := map[string]string{}
	for i := range 51 {
		manyTags[fmt.Sprintf("k%d", i)] = "v"
	}
	for name, in := range map[string]*rgta.TagResourcesInput{
		"21 ARNs":     {ResourceARNList: manyARNs, Tags: map[string]string{"a": "b"}},
		"51 tags":     {ResourceARNList: []string{vol}, Tags: manyTags},
		"aws: prefix": {ResourceARNList: []string{vol}, Tags: map[string]string{"aws:backup:source-resource": "x"}},
	} {
		if _, err := cl.TagResources(ctx, in); errorCode(err) != "InvalidParameterException" {
			t.Errorf("%s: %v", name, err)
		}
	}

	emu.FailTagging(untagged, http.StatusForbidden, "InvalidParameterException", "not authorized to perform: ec2:CreateTags")
	out, err := cl.TagResources(ctx, &rgta.TagResourcesInput{
		ResourceARNList: []string{vol, untagged, "arn:aws:ec2:us-east-1:444444444444:volume/vol-none", "arn:aws:timestream:us-east-1:444444444444:database/d/table/t"},
		Tags:            map[string]string{"restored": "yes"},
	})
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]int32{}
	for arn, f := range out.FailedResourcesMap {
		codes[arn] = f.StatusCode
	}
	wantCodes := map[string]int32{untagged: 403, "arn:aws:ec2:us-east-1:444444444444:volume/vol-none": 400, "arn:aws:timestream:us-east-1:444444444444:database/d/table/t": 400}
	if diff := cmp.Diff(wantCodes, codes); diff != "" {
		t.Errorf("FailedResourcesMap statuses (-want +got):\n%s", diff)
	}
	if tags, _ := emu.ResourceTags(vol); !cmp.Equal(tags, map[string]string{"team": "a", "restored": "yes"}) {
		t.Errorf("tags after TagResources: %v", tags)
	}
	if msg := aws.ToString(out.FailedResourcesMap[untagged].ErrorMessage); !strings.Contains(msg, "ec2:CreateTags") {
		t.Errorf("failure message %q", msg)
	}
}
