package awsemu_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
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

	emu.TerminateInstance("i-0a1b2c3d4e5f60001")
	if _, ok := emu.ResourceTags(awsemu.EC2ARN("volume/vol-0a1b2c3d4e5f60001")); ok {
		t.Error("a terminated instance's volume is still there")
	}
	if _, err := cl.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0a1b2c3d4e5f60001"}}); errorCode(err) != "InvalidInstanceID.NotFound" {
		t.Errorf("terminated instance: %v", err)
	}
}
