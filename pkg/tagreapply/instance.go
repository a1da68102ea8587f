package tagreapply

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsarn "github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/backup-as-code/orgbackup/pkg/awsclient"
)

// An EC2 instance restore creates the instance and its EBS volumes. AWS
// Backup does not copy the source volumes' tags to the restored volumes
// (AWS Backup developer guide, "Copy tags during a restore"), so the
// re-applier tags each restored volume with the tags of the source
// instance's volume on the same device name, and a volume with no such
// source volume with the instance's merged tags. DescribeInstances gives
// each instance's volumes by device name (BlockDeviceMappings: DeviceName,
// Ebs.VolumeId; EC2 API reference, InstanceBlockDeviceMapping) but not
// their tags: those are read in the job's one GetResources call.

// Where a restored volume's tags come from.
const (
	fromSourceVolume = "source-volume"
	fromInstance     = "instance"
)

// volumeOutcome is what one restored volume of an instance gets.
type volumeOutcome struct {
	ARN, DeviceName string
	// From is "source-volume" or "instance".
	From  string
	Merge tagMerge
}

// instanceRestore is the block devices of the restored and, while it
// exists, the source instance.
type instanceRestore struct {
	// restoredARN is the restored instance's; its volumes' ARNs share its
	// partition, Region and account.
	restoredARN awsarn.ARN
	// restored and source map device names to volume IDs; source is nil
	// when the source instance was not read or no longer exists.
	restored, source map[string]string
	unmatchedCount   int
}

func isInstance(a awsarn.ARN) bool {
	return a.Service == "ec2" && strings.HasPrefix(a.Resource, "instance/")
}

// describeInstances reads both instances in one call. It filters on
// instance-id rather than passing InstanceIds: an ID that no longer exists
// (a source instance terminated since the backup) fails a call with
// InstanceIds with InvalidInstanceID.NotFound, while a filter just leaves
// it out (EC2 API reference, DescribeInstances).
func (r *Reapplier) describeInstances(ctx context.Context, created, source awsarn.ARN, readSource bool) (*instanceRestore, error) {
	createdID := strings.TrimPrefix(created.Resource, "instance/")
	ids := []string{createdID}
	sourceID := ""
	if readSource && isInstance(source) {
		sourceID = strings.TrimPrefix(source.Resource, "instance/")
		ids = append(ids, sourceID)
	}
	in := &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: ids}}}
	devices := map[string]map[string]string{}
	pages := ec2.NewDescribeInstancesPaginator(r.instances, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describing instances %s: %w", strings.Join(ids, ", "), awsclient.Short(err))
		}
		for _, res := range page.Reservations {
			for _, inst := range res.Instances {
				// A terminated instance stays visible for about an hour,
				// without block device mappings (EC2 API reference,
				// TerminateInstances): it has no volumes to read or tag.
				if s := inst.State; s != nil && (s.Name == ec2types.InstanceStateNameTerminated || s.Name == ec2types.InstanceStateNameShuttingDown) {
					continue
				}
				m := map[string]string{}
				for _, b := range inst.BlockDeviceMappings {
					if b.Ebs != nil && aws.ToString(b.Ebs.VolumeId) != "" {
						m[aws.ToString(b.DeviceName)] = aws.ToString(b.Ebs.VolumeId)
					}
				}
				devices[aws.ToString(inst.InstanceId)] = m
			}
		}
	}
	restored, ok := devices[createdID]
	if !ok {
		return nil, &awsclient.NotFoundError{Resource: "restored instance " + createdID, Detail: "or is terminated"}
	}
	ir := &instanceRestore{restoredARN: created, restored: restored}
	if sourceID != "" {
		ir.source = devices[sourceID]
	}
	return ir, nil
}

func (ir *instanceRestore) volumeARN(id string) string {
	a := ir.restoredARN
	a.Resource = "volume/" + id
	return a.String()
}

// addReads adds the restored volumes (their existing tags count) and the
// source volumes (the tags to copy) to the job's GetResources call.
func (ir *instanceRestore) addReads(t *tagReads) {
	for _, dev := range slices.Sorted(maps.Keys(ir.restored)) {
		t.add(ir.volumeARN(ir.restored[dev]))
		if id, ok := ir.source[dev]; ok {
			t.add(ir.volumeARN(id))
		}
	}
}

// merge decides each restored volume's tags, in device name order.
func (ir *instanceRestore) merge(c Config, t *tagReads, sourceTags, rpTags map[string]string, provenance string) []volumeOutcome {
	var out []volumeOutcome
	ir.unmatchedCount = 0
	for _, dev := range slices.Sorted(maps.Keys(ir.restored)) {
		arn := ir.volumeARN(ir.restored[dev])
		existing, _ := t.tags(arn)
		v := volumeOutcome{ARN: arn, DeviceName: dev}
		if id, ok := ir.source[dev]; ok {
			// The source volume exists (it is attached to the source
			// instance); absent from GetResources, it has no tags.
			srcTags, _ := t.tags(ir.volumeARN(id))
			v.From, v.Merge = fromSourceVolume, mergeTags(c, srcTags, nil, existing, provenance)
		} else {
			ir.unmatchedCount++
			v.From, v.Merge = fromInstance, mergeTags(c, sourceTags, rpTags, existing, provenance)
		}
		out = append(out, v)
	}
	return out
}

func (ir *instanceRestore) unmatched() int { return ir.unmatchedCount }
