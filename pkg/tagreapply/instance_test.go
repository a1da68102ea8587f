package tagreapply_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
	"github.com/backup-as-code/orgbackup/pkg/tagreapply"
)

// TestInstanceRestoreVolumes: an EC2 instance restore tags each restored
// volume with the tags of the source volume on the same device name, and a
// volume with no source volume on its device with the instance's merged
// tags. AWS Backup copies neither ("Copy tags during a restore").
func TestInstanceRestoreVolumes(t *testing.T) {
	t.Parallel()
	f := fixtures[1]
	vol := func(id string) string { return awsemu.EC2ARN("volume/" + id) }
	root, data := vol(f.sourceDevices[0].VolumeID), vol(f.sourceDevices[1].VolumeID)
	rRoot, rData, rExtra := vol(f.createdDevices[0].VolumeID), vol(f.createdDevices[1].VolumeID), vol(f.createdDevices[2].VolumeID)
	instanceTags := map[string]string{"team": "payments", "env": "prod", "cost-center": "cc-42"}

	t.Run("source instance exists", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
		id := e.restore(t, "job-i", f, sourceTags, recoveryPointTags, nil)
		e.emu.AddResource(root, map[string]string{"Name": "web-root", "team": "payments"})
		e.emu.AddResource(data, map[string]string{"Name": "web-data", "backup": "hourly", "aws:ebs:x": "y"})
		e.emu.AddResource(rData, map[string]string{"Name": "restored-by-hand"})
		if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
			t.Fatal(err)
		}
		want := map[string]map[string]string{
			f.created: {"team": "payments", "env": "prod", "cost-center": "cc-42", "backup-plan": "daily", "secret-token-id": "abc"},
			rRoot:     {"Name": "web-root", "team": "payments"},
			rData:     {"Name": "restored-by-hand", "backup": "hourly"}, // an existing key keeps its value
			rExtra:    {"team": "payments", "env": "prod", "cost-center": "cc-42", "backup-plan": "daily", "secret-token-id": "abc"},
		}
		got := map[string]map[string]string{}
		for arn := range want {
			got[arn] = e.tags(t, arn)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
		// The instance and the unmatched volume get the same tags and
		// share a call; each source-volume set is a call of its own.
		wantCalls := map[string]int{"backup:DescribeRestoreJob": 1, "ec2:DescribeInstances": 1, "tagging:GetResources": 1, "tagging:TagResources": 3}
		if diff := cmp.Diff(wantCalls, e.callCounts()); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		rec := e.record(t, id)
		vols, _ := rec["volumes"].([]any)
		if len(vols) != 3 {
			t.Fatalf("record lists volumes %v", rec["volumes"])
		}
		from := map[string]any{}
		for _, v := range vols {
			m := v.(map[string]any)
			from[m["deviceName"].(string)] = m["tagsFrom"]
		}
		if diff := cmp.Diff(map[string]any{"/dev/xvda": "source-volume", "/dev/sdf": "source-volume", "/dev/sdg": "instance"}, from); diff != "" {
			t.Errorf("tagsFrom per device (-want +got):\n%s", diff)
		}
		if got := e.metric(t, "EC2", "TagsApplied"); got != 5+2+1+5 {
			t.Errorf("TagsApplied metric %v, want 13 (instance 5, volumes 2, 1 and 5)", got)
		}

		e.emu.ResetCalls()
		if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
			t.Fatal(err)
		}
		if n := e.emu.CountCalls("tagging", "TagResources"); n != 0 {
			t.Errorf("redelivery made %d TagResources calls", n)
		}
	})

	t.Run("source instance terminated", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
		id := e.restore(t, "job-t", f, instanceTags, recoveryPointTags, nil)
		e.emu.TerminateInstance(instanceID(f.source))
		if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"env": "prod-at-backup-time", "backup-plan": "daily"}
		for _, arn := range []string{f.created, rRoot, rData, rExtra} {
			if diff := cmp.Diff(want, e.tags(t, arn)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", arn, diff)
			}
		}
		// The terminated source is still described (state terminated, no
		// block devices: EC2 API reference, TerminateInstances), so every
		// restored volume falls back to the instance's tags.
		if rec := e.record(t, id); rec["result"] != "tagged" || !strings.Contains(fmt.Sprint(rec["reason"]), "3 restored volumes have no source volume") {
			t.Errorf("record %v", rec)
		}
		// One TagResources call for the instance and its three volumes.
		wantCalls := map[string]int{"backup:DescribeRestoreJob": 1, "ec2:DescribeInstances": 1, "tagging:GetResources": 1, "tagging:TagResources": 1}
		if diff := cmp.Diff(wantCalls, e.callCounts()); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
	})

	t.Run("restored instance gone", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
		id := e.restore(t, "job-g", f, instanceTags, recoveryPointTags, nil)
		e.emu.TerminateInstance(instanceID(f.created))
		if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
			t.Fatalf("a permanent failure returned %v", err)
		}
		if rec := e.record(t, id); rec["result"] != "failed" {
			t.Errorf("record %v", rec)
		}
		if n := e.emu.CountCalls("tagging", "TagResources"); n != 0 {
			t.Errorf("%d TagResources calls", n)
		}
	})
}

// TestInstanceRestoreManyVolumes: an instance with 30 volumes makes 62
// ARNs to read, within one GetResources call (up to 100 ARNs), which AWS
// answers whole: a request with ResourceARNList takes no pagination
// parameters (Resource Groups Tagging API reference, GetResources).
func TestInstanceRestoreManyVolumes(t *testing.T) {
	t.Parallel()
	const n = 30
	var src, dst []awsemu.BlockDevice
	for i := range n {
		dev := fmt.Sprintf("/dev/sd%c%c", 'b'+i/26, 'a'+i%26)
		src = append(src, awsemu.BlockDevice{DeviceName: dev, VolumeID: fmt.Sprintf("vol-0a1b2c3d4e5f7%04d", i)})
		dst = append(dst, awsemu.BlockDevice{DeviceName: dev, VolumeID: fmt.Sprintf("vol-0a1b2c3d4e5f8%04d", i)})
	}
	f := fixtures[1]
	f.sourceDevices, f.createdDevices = src, dst
	e := newEnv(t, tagreapply.Config{}, awsemu.Options{})
	id := e.restore(t, "job-many", f, sourceTags, recoveryPointTags, nil)
	for i, d := range src {
		e.emu.AddResource(awsemu.EC2ARN("volume/"+d.VolumeID), map[string]string{"Name": fmt.Sprintf("data-%d", i)})
	}
	if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
		t.Fatal(err)
	}
	for i, d := range dst {
		if diff := cmp.Diff(map[string]string{"Name": fmt.Sprintf("data-%d", i)}, e.tags(t, awsemu.EC2ARN("volume/"+d.VolumeID))); diff != "" {
			t.Errorf("volume on %s (-want +got):\n%s", d.DeviceName, diff)
		}
	}
	// The instance's tags, then one call per distinct volume tag set.
	wantCalls := map[string]int{"backup:DescribeRestoreJob": 1, "ec2:DescribeInstances": 1, "tagging:GetResources": 1, "tagging:TagResources": 1 + n}
	if diff := cmp.Diff(wantCalls, e.callCounts()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// TestInstanceRestoreOtherPartitions: outside the aws partition (China,
// AWS GovCloud (US)) the restored volumes' ARNs carry the restored
// instance's partition, as every ARN of those Regions does (AWS General
// Reference, "Amazon Resource Names"); an arn:aws: volume ARN would be no
// resource of the Region and its tags would be neither read nor written.
func TestInstanceRestoreOtherPartitions(t *testing.T) {
	t.Parallel()
	for _, region := range []string{"cn-north-1", "us-gov-west-1"} {
		t.Run(region, func(t *testing.T) {
			t.Parallel()
			partition := awsemu.Partition(region)
			in := func(resource string) string { return awsemu.EC2ARNIn(region, resource) }
			f := fixtures[1]
			f.source, f.created = in("instance/"+instanceID(f.source)), in("instance/"+instanceID(f.created))
			f.recoveryPoint = fmt.Sprintf("arn:%s:ec2:%s::image/ami-0a1b2c3d4e5f60001", partition, region)
			e := newEnvIn(t, region, tagreapply.Config{}, awsemu.Options{})
			id := e.restore(t, "job-p", f, sourceTags, recoveryPointTags, nil)
			e.emu.AddResource(in("volume/"+f.sourceDevices[0].VolumeID), map[string]string{"Name": "web-root"})
			e.emu.AddResource(in("volume/"+f.sourceDevices[1].VolumeID), map[string]string{"Name": "web-data"})
			if err := e.handle(t, event(t, "restore-completed.json", id, f)); err != nil {
				t.Fatal(err)
			}
			if rec := e.record(t, id); rec["result"] != "tagged" {
				t.Fatalf("record %v", rec)
			}
			want := map[string]map[string]string{
				in("volume/" + f.createdDevices[0].VolumeID): {"Name": "web-root"},
				in("volume/" + f.createdDevices[1].VolumeID): {"Name": "web-data"},
				in("volume/" + f.createdDevices[2].VolumeID): e.tags(t, f.created),
			}
			for arn, tags := range want {
				if diff := cmp.Diff(tags, e.tags(t, arn)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", arn, diff)
				}
			}
			if len(e.tags(t, f.created)) == 0 {
				t.Error("the restored instance got no tags")
			}
			if diff := cmp.Diff(recoveryPointTags["backup-plan"], e.tags(t, f.created)["backup-plan"]); diff != "" {
				t.Errorf("the AMI's tags were not read (-want +got):\n%s", diff)
			}
		})
	}
}
