package awsemu_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	rgta "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
)

func TestEC2DescribeInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	emu := awsemu.New(t, awsemu.Options{PageSize: 2})
	cl := ec2.NewFromConfig(sdkConfig(t, emu, emu.CredentialsFor(member)))
	emu.AddInstance(awsemu.Instance{ID: "i-0a1b2c3d4e5f60001", BlockDevices: []awsemu.BlockDevice{
		{DeviceName: "/dev/xvda", VolumeID: "vol-0a1b2c3d4e5f60001"}, {DeviceName: "/dev/sdf", VolumeID: "vol-0a1b2c3d4e5f60002"},
	}}, map[string]string{"Name": "web"})
	emu.AddInstance(awsemu.Instance{ID: "i-0a1b2c3d4e5f60002"}, nil)
	emu.AddInstance(awsemu.Instance{ID: "i-0a1b2c3d4e5f60003"}, nil)

	devices := func(out *ec2.DescribeInstancesOutput) map[string]map[string]string {
		got := map[string]map[string]string{}
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				m := map[string]string{}
				for _, b := range i.BlockDeviceMappings {
					m[aws.ToString(b.DeviceName)] = aws.ToString(b.Ebs.VolumeId)
				}
				got[aws.ToString(i.InstanceId)] = m
			}
		}
		return got
	}
	out, err := cl.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0a1b2c3d4e5f60001"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{"i-0a1b2c3d4e5f60001": {"/dev/xvda": "vol-0a1b2c3d4e5f60001", "/dev/sdf": "vol-0a1b2c3d4e5f60002"}}
	if diff := cmp.Diff(want, devices(out)); diff != "" {
		t.Errorf("block devices (-want +got):\n%s", diff)
	}
	if tags := out.Reservations[0].Instances[0].Tags; len(tags) != 1 || aws.ToString(tags[0].Key) != "Name" {
		t.Errorf("instance tags %+v", tags)
	}
	// The volumes are resources of the Tagging API, untagged until tagged.
	if _, ok := emu.ResourceTags(awsemu.EC2ARN("volume/vol-0a1b2c3d4e5f60002")); !ok {
		t.Error("attached volume is not a resource")
	}

	// A filter narrows without failing on IDs that do not exist.
	out, err = cl.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: []string{"i-0a1b2c3d4e5f60002", "i-0a1b2c3d4e5f6ffff"}}}})
	if err != nil || len(devices(out)) != 1 {
		t.Errorf("filtered DescribeInstances = %v, %v", devices(out), err)
	}

	// Pages, with the SDK's paginator.
	n := 0
	pages := ec2.NewDescribeInstancesPaginator(cl, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Reservations)
	}
	if n != 3 || emu.CountCalls("ec2", "DescribeInstances") != 4 {
		t.Errorf("%d instances in %d calls, want 3 in 2 pages", n, emu.CountCalls("ec2", "DescribeInstances")-2)
	}

	errs := []struct {
		name   string
		in     *ec2.DescribeInstancesInput
		code   string
		status int
	}{
		{"unknown ID", &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0a1b2c3d4e5f60001", "i-0a1b2c3d4e5f6ffff"}}, "InvalidInstanceID.NotFound", 400},
		{"malformed ID", &ec2.DescribeInstancesInput{InstanceIds: []string{"vol-1"}}, "InvalidInstanceID.Malformed", 400},
		{"MaxResults with IDs", &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0a1b2c3d4e5f60001"}, MaxResults: aws.Int32(5)}, "InvalidParameterCombination", 400},
		{"MaxResults too small", &ec2.DescribeInstancesInput{MaxResults: aws.Int32(4)}, "InvalidParameterValue", 400},
	}
	for _, tt := range errs {
		_, err := cl.DescribeInstances(ctx, tt.in)
		var re *smithyhttp.ResponseError
		if errorCode(err) != tt.code || !errors.As(err, &re) || re.HTTPStatusCode() != tt.status {
			t.Errorf("%s: %v, want %s (%d)", tt.name, err, tt.code, tt.status)
		}
	}

	// A filter the emulator does not model is refused by the emulator
	// itself (501, a code no AWS service returns), never ignored.
	for _, f := range []ec2types.Filter{
		{Name: aws.String("tag:Name"), Values: []string{"web"}},
		{Name: aws.String("instance-id"), Values: []string{"i-0a1b2c3d4e5f6*"}},
	} {
		_, err := cl.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{f}})
		var re *smithyhttp.ResponseError
		if errorCode(err) != "AwsemuNotModelled" || !errors.As(err, &re) || re.HTTPStatusCode() != 501 || !strings.Contains(err.Error(), "not modelled by awsemu") {
			t.Errorf("filter %s=%v: %v, want the emulator's AwsemuNotModelled (501)", aws.ToString(f.Name), f.Values, err)
		}
	}

	// A terminated instance stays visible for about an hour, in state
	// terminated, with its tags and without its (deleted) volumes
	// (EC2 API reference, TerminateInstances).
	emu.TerminateInstance("i-0a1b2c3d4e5f60001")
	if _, ok := emu.ResourceTags(awsemu.EC2ARN("volume/vol-0a1b2c3d4e5f60001")); ok {
		t.Error("a terminated instance's volume is still there")
	}
	out, err = cl.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0a1b2c3d4e5f60001"}})
	if err != nil {
		t.Fatalf("terminated instance: %v", err)
	}
	inst := out.Reservations[0].Instances[0]
	if inst.State.Name != ec2types.InstanceStateNameTerminated || aws.ToInt32(inst.State.Code) != 48 || len(inst.BlockDeviceMappings) != 0 || len(inst.Tags) != 1 {
		t.Errorf("terminated instance described as state %s (%d), %d block devices, tags %+v", inst.State.Name, aws.ToInt32(inst.State.Code), len(inst.BlockDeviceMappings), inst.Tags)
	}
	out, err = cl.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"running"}}}})
	if got := devices(out); err != nil || len(got) != 2 || got["i-0a1b2c3d4e5f60001"] != nil {
		t.Errorf("running instances = %v, %v; want the two others", got, err)
	}
}

// TestEC2Partitions: an instance of cn-north-1 has aws-cn ARNs and is seen
// only by requests signed for cn-north-1, as each Region's endpoint serves
// its own resources.
func TestEC2Partitions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	emu := awsemu.New(t, awsemu.Options{})
	emu.AddInstance(awsemu.Instance{ID: "i-0a1b2c3d4e5f60001", Region: "cn-north-1", BlockDevices: []awsemu.BlockDevice{{DeviceName: "/dev/xvda", VolumeID: "vol-0a1b2c3d4e5f60001"}}}, map[string]string{"Name": "web"})
	vol := awsemu.EC2ARNIn("cn-north-1", "volume/vol-0a1b2c3d4e5f60001")
	if vol != "arn:aws-cn:ec2:cn-north-1:"+awsemu.BackupAccount+":volume/vol-0a1b2c3d4e5f60001" {
		t.Fatalf("volume ARN %s", vol)
	}
	emu.AddResource(vol, map[string]string{"Name": "root"})
	creds := emu.CredentialsFor(member)
	for _, tt := range []struct {
		region string
		want   int
	}{{"cn-north-1", 1}, {awsemu.Region, 0}} {
		cfg := sdkConfig(t, emu, creds)
		cfg.Region = tt.region
		out, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		if err != nil || len(out.Reservations) != tt.want {
			t.Errorf("DescribeInstances in %s: %v, %v; want %d instances", tt.region, out, err, tt.want)
		}
		res, err := rgta.NewFromConfig(cfg).GetResources(ctx, &rgta.GetResourcesInput{ResourceARNList: []string{vol}})
		if err != nil || len(res.ResourceTagMappingList) != tt.want {
			t.Errorf("GetResources(%s) in %s: %+v, %v; want %d mappings", vol, tt.region, res, err, tt.want)
		}
	}
}
