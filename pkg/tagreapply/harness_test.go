package tagreapply_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/internal/logcapture"
	"github.com/backup-as-code/orgbackup/pkg/awsclient"
	"github.com/backup-as-code/orgbackup/pkg/tagreapply"
)

const (
	acct  = awsemu.BackupAccount
	vault = "org-backup-vault"
)

// env is one re-applier function instance in a member account.
type env struct {
	emu     *awsemu.Emulator
	r       *tagreapply.Reapplier
	logs    *logcapture.Buffer
	metrics *logcapture.Buffer
}

func newEnv(t testing.TB, c tagreapply.Config, opts awsemu.Options) *env {
	t.Helper()
	return newEnvIn(t, awsemu.Region, c, opts)
}

// newEnvIn is a function instance in region (and so its partition).
func newEnvIn(t testing.TB, region string, c tagreapply.Config, opts awsemu.Options) *env {
	t.Helper()
	e := &env{emu: awsemu.New(t, opts), logs: &logcapture.Buffer{}, metrics: &logcapture.Buffer{}}
	creds := e.emu.CredentialsFor("arn:" + awsemu.Partition(region) + ":sts::" + acct + ":assumed-role/tag-reapplier/tag-reapplier")
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{MaxBackoff: 5 * time.Millisecond, Tracing: true,
		ConfigOptions: append(e.emu.ConfigOptions(creds), config.WithRegion(region))})
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsNamespace == "" {
		c.MetricsNamespace = tagreapply.DefaultMetricsNamespace
	}
	if c.Precedence == "" {
		c.Precedence = tagreapply.SourceFirst
	}
	e.r = tagreapply.New(cfg, c, slog.New(slog.NewJSONHandler(e.logs, nil)), e.metrics)
	return e
}

// fixture is a restore of one resource type: the source resource, the
// recovery point and the resource the restore created, with ARNs of the
// real forms.
type fixture struct {
	resourceType                   string
	source, created, recoveryPoint string
	// sourceDevices and createdDevices are the volumes of EC2 instances.
	sourceDevices, createdDevices []awsemu.BlockDevice
}

// instanceID is the ID in an EC2 instance ARN, "" for other ARNs.
func instanceID(arn string) string {
	_, id, ok := strings.Cut(arn, ":instance/")
	if !ok {
		return ""
	}
	return id
}

// regionOf is the Region field of an ARN.
func regionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[3]
}

func arnOf(service, resource string) string {
	return fmt.Sprintf("arn:aws:%s:us-east-1:%s:%s", service, acct, resource)
}

var fixtures = []fixture{
	{"EBS", arnOf("ec2", "volume/vol-0a1b2c3d4e5f60001"), arnOf("ec2", "volume/vol-0a1b2c3d4e5f69001"), "arn:aws:ec2:us-east-1::snapshot/snap-0a1b2c3d4e5f60001", nil, nil},
	{"EC2", arnOf("ec2", "instance/i-0a1b2c3d4e5f60001"), arnOf("ec2", "instance/i-0a1b2c3d4e5f69001"), "arn:aws:ec2:us-east-1::image/ami-0a1b2c3d4e5f60001",
		[]awsemu.BlockDevice{{DeviceName: "/dev/xvda", VolumeID: "vol-0a1b2c3d4e5f6a001"}, {DeviceName: "/dev/sdf", VolumeID: "vol-0a1b2c3d4e5f6a002"}},
		[]awsemu.BlockDevice{{DeviceName: "/dev/xvda", VolumeID: "vol-0a1b2c3d4e5f6b001"}, {DeviceName: "/dev/sdf", VolumeID: "vol-0a1b2c3d4e5f6b002"}, {DeviceName: "/dev/sdg", VolumeID: "vol-0a1b2c3d4e5f6b003"}}},
	{"RDS", arnOf("rds", "db:orders"), arnOf("rds", "db:orders-restored"), arnOf("rds", "snapshot:awsbackup:job-0a1b2c3d-0001"), nil, nil},
	{"Aurora", arnOf("rds", "cluster:aurora-orders"), arnOf("rds", "cluster:aurora-orders-restored"), arnOf("rds", "cluster-snapshot:awsbackup:job-0a1b2c3d-0002"), nil, nil},
	{"DynamoDB", arnOf("dynamodb", "table/orders"), arnOf("dynamodb", "table/orders-restored"), arnOf("backup", "recovery-point:6f1e2d3c-0003"), nil, nil},
	{"EFS", arnOf("elasticfilesystem", "file-system/fs-0a1b2c3d"), arnOf("elasticfilesystem", "file-system/fs-9a1b2c3d"), arnOf("backup", "recovery-point:6f1e2d3c-0004"), nil, nil},
	{"FSx", arnOf("fsx", "file-system/fs-0123456789abcdef0"), arnOf("fsx", "file-system/fs-0fedcba987654321f"), arnOf("fsx", "backup/backup-0a1b2c3d4e5f60005"), nil, nil},
	{"S3", "arn:aws:s3:::orders-data", "arn:aws:s3:::orders-data-restored", arnOf("backup", "recovery-point:continuous:orders-data-6f1e2d3c"), nil, nil},
	{"Neptune", arnOf("rds", "cluster:graph"), arnOf("rds", "cluster:graph-restored"), arnOf("rds", "cluster-snapshot:awsbackup:job-0a1b2c3d-0006"), nil, nil},
	{"DocumentDB", arnOf("rds", "cluster:docs"), arnOf("rds", "cluster:docs-restored"), arnOf("rds", "cluster-snapshot:awsbackup:job-0a1b2c3d-0007"), nil, nil},
	{"Redshift", arnOf("redshift", "cluster:warehouse"), arnOf("redshift", "cluster:warehouse-restored"), arnOf("redshift", "snapshot:warehouse/awsbackup:job-0a1b2c3d-0008"), nil, nil},
	{"Storage Gateway", arnOf("storagegateway", "gateway/sgw-12A3456B/volume/vol-1122AABB"), arnOf("storagegateway", "gateway/sgw-12A3456B/volume/vol-9922AABB"), "arn:aws:ec2:us-east-1::snapshot/snap-0a1b2c3d4e5f60009", nil, nil},
}

// restore sets up a completed restore of f in the emulator and returns its
// job ID. Nil sourceTags means the source resource no longer exists.
func (e *env) restore(t testing.TB, id string, f fixture, sourceTags, rpTags, existing map[string]string) string {
	t.Helper()
	switch {
	case sourceTags == nil:
	case instanceID(f.source) != "":
		e.emu.AddInstance(awsemu.Instance{ID: instanceID(f.source), BlockDevices: f.sourceDevices, Region: regionOf(f.source)}, sourceTags)
	default:
		e.emu.AddResource(f.source, sourceTags)
	}
	if id := instanceID(f.created); id != "" {
		e.emu.AddInstance(awsemu.Instance{ID: id, BlockDevices: f.createdDevices, Region: regionOf(f.created)}, existing)
	} else if f.created != f.source || sourceTags == nil {
		e.emu.AddResource(f.created, existing)
	}
	e.emu.AddRecoveryPoint(awsemu.RecoveryPoint{ARN: f.recoveryPoint, VaultName: vault, ResourceARN: f.source, ResourceType: f.resourceType, Tags: rpTags})
	e.emu.AddRestoreJob(awsemu.RestoreJob{
		ID: id, VaultName: vault, RecoveryPointARN: f.recoveryPoint, SourceResourceARN: f.source,
		CreatedResourceARN: f.created, ResourceType: f.resourceType, Status: "COMPLETED",
		IAMRoleARN: arnOf("iam", "role/BackupOrgServiceRole"),
	})
	return id
}

// event returns a Restore Job State Change event for a job, built from
// events/restore-completed.json.
func event(t testing.TB, name, jobID string, f fixture) []byte {
	t.Helper()
	data, err := os.ReadFile("../../events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	d := ev["detail"].(map[string]any)
	d["restoreJobId"] = jobID
	if _, ok := d["createdResourceArn"]; ok {
		d["createdResourceArn"], d["sourceResourceArn"], d["recoveryPointArn"], d["resourceType"] = f.created, f.source, f.recoveryPoint, f.resourceType
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// handle invokes the handler as Lambda would.
func (e *env) handle(t testing.TB, payload []byte) error {
	t.Helper()
	_, err := e.r.Handle(context.Background(), payload)
	return err
}

func (e *env) tags(t testing.TB, arn string) map[string]string {
	t.Helper()
	tags, ok := e.emu.ResourceTags(arn)
	if !ok {
		t.Fatalf("resource %s does not exist", arn)
	}
	return tags
}

func (e *env) callCounts() map[string]int {
	out := map[string]int{}
	for _, c := range e.emu.Calls() {
		out[c.Service+":"+c.Operation]++
	}
	return out
}

// record returns the structured record logged for a job.
func (e *env) record(t testing.TB, jobID string) map[string]any {
	t.Helper()
	recs, err := e.logs.Records()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r["msg"] == "restore job processed" && r["restoreJobId"] == jobID {
			return r
		}
	}
	t.Fatalf("no record for restore job %s in:\n%s", jobID, e.logs.String())
	return nil
}

// metric returns a metric's value for a resource type from the EMF lines.
func (e *env) metric(t testing.TB, resourceType, name string) float64 {
	t.Helper()
	recs, err := e.metrics.Records()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, r := range recs {
		if r["ResourceType"] == resourceType {
			v, _ := r[name].(float64)
			total += v
		}
	}
	return total
}
