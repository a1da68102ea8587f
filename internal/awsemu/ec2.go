package awsemu

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Instance is an EC2 instance of the emulator's account and Region, with
// the EBS volumes attached to it. Its tags and its volumes' tags are
// resources of the Tagging API (AddResource).
type Instance struct {
	ID           string
	BlockDevices []BlockDevice
}

// BlockDevice is an EBS volume attached on a device name.
type BlockDevice struct {
	DeviceName, VolumeID string
}

// ec2Service is the part of Amazon EC2 the tag re-applier reads:
// DescribeInstances, for the volumes attached to an instance.
type ec2Service struct {
	pageSize  int
	instances map[string]*Instance
	tagging   *taggingService
}

func newEC2(pageSize int, tagging *taggingService) *ec2Service {
	return &ec2Service{pageSize: pageSize, instances: map[string]*Instance{}, tagging: tagging}
}

// EC2ARN is the ARN of an EC2 resource ("instance/i-…", "volume/vol-…")
// of the emulator's account and Region.
func EC2ARN(resource string) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:%s", Region, BackupAccount, resource)
}

// AddInstance creates an instance with its attached volumes; the instance
// and volumes that are not resources yet become untagged ones.
func (e *Emulator) AddInstance(inst Instance, tags map[string]string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inst.BlockDevices = slices.Clone(inst.BlockDevices)
	e.ec2.instances[inst.ID] = &inst
	e.tagging.put(EC2ARN("instance/"+inst.ID), tags)
	for _, d := range inst.BlockDevices {
		if e.tagging.resources[EC2ARN("volume/"+d.VolumeID)] == nil {
			e.tagging.put(EC2ARN("volume/"+d.VolumeID), nil)
		}
	}
}

// TerminateInstance removes an instance and its volumes (deleted on
// termination, the default for volumes created at launch).
func (e *Emulator) TerminateInstance(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if inst := e.ec2.instances[id]; inst != nil {
		for _, d := range inst.BlockDevices {
			delete(e.tagging.resources, EC2ARN("volume/"+d.VolumeID))
		}
	}
	delete(e.ec2.instances, id)
	delete(e.tagging.resources, EC2ARN("instance/"+id))
}

func (s *ec2Service) operations() map[string]queryOp {
	return map[string]queryOp{"DescribeInstances": s.describeInstances}
}

var instanceIDPattern = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)

// queryList reads a flattened query list: prefix.1, prefix.2, ...
func queryList(form url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[prefix+"."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v...)
	}
}

type ec2Tag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type ec2BlockDevice struct {
	DeviceName string `xml:"deviceName"`
	Ebs        struct {
		VolumeID            string `xml:"volumeId"`
		Status              string `xml:"status"`
		DeleteOnTermination bool   `xml:"deleteOnTermination"`
	} `xml:"ebs"`
}

type ec2Instance struct {
	InstanceID    string `xml:"instanceId"`
	InstanceState struct {
		Code int    `xml:"code"`
		Name string `xml:"name"`
	} `xml:"instanceState"`
	BlockDeviceMapping []ec2BlockDevice `xml:"blockDeviceMapping>item"`
	TagSet             []ec2Tag         `xml:"tagSet>item,omitempty"`
}

type ec2Reservation struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	Instances     []ec2Instance `xml:"instancesSet>item"`
}

// describeInstances follows the EC2 API reference, DescribeInstances: an
// instance ID that does not exist fails the whole call
// (InvalidInstanceID.NotFound), an instance-id filter only narrows the
// result; MaxResults (5 to 1000) cannot be combined with InstanceIds. The
// block device mappings give each volume's device name and volume ID;
// volume tags are not part of the answer.
func (s *ec2Service) describeInstances(c *call, form url.Values) (any, *APIError) {
	ids := queryList(form, "InstanceId")
	c.target = strings.Join(ids, ",")
	var filterIDs []string
	filtered := false
	for i := 1; ; i++ {
		name, ok := form["Filter."+strconv.Itoa(i)+".Name"]
		if !ok {
			break
		}
		if name[0] != "instance-id" {
			return nil, clientError("InvalidParameterValue", "The filter '%s' is invalid (awsemu serves only instance-id)", name[0])
		}
		filtered = true
		filterIDs = append(filterIDs, queryList(form, "Filter."+strconv.Itoa(i)+".Value")...)
	}
	maxResults := 0
	if v := form.Get("MaxResults"); v != "" {
		if len(ids) > 0 {
			return nil, clientError("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 1000 {
			return nil, clientError("InvalidParameterValue", "Value ( %s ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", v)
		}
		maxResults = n
	}
	for _, id := range ids {
		if !instanceIDPattern.MatchString(id) {
			return nil, clientError("InvalidInstanceID.Malformed", "Invalid id: \"%s\"", id)
		}
	}
	var missing []string
	for _, id := range ids {
		if s.instances[id] == nil || c.caller.Account != BackupAccount {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, clientError("InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
	}
	var all []ec2Reservation
	for _, id := range slices.Sorted(maps.Keys(s.instances)) {
		if c.caller.Account != BackupAccount ||
			(len(ids) > 0 && !slices.Contains(ids, id)) ||
			(filtered && !slices.Contains(filterIDs, id)) {
			continue
		}
		inst := s.instances[id]
		out := ec2Instance{InstanceID: id}
		out.InstanceState.Code, out.InstanceState.Name = 16, "running"
		for _, d := range inst.BlockDevices {
			bd := ec2BlockDevice{DeviceName: d.DeviceName}
			bd.Ebs.VolumeID, bd.Ebs.Status, bd.Ebs.DeleteOnTermination = d.VolumeID, "attached", true
			out.BlockDeviceMapping = append(out.BlockDeviceMapping, bd)
		}
		if r := s.tagging.resources[EC2ARN("instance/"+id)]; r != nil {
			for _, k := range slices.Sorted(maps.Keys(r.tags)) {
				out.TagSet = append(out.TagSet, ec2Tag{k, r.tags[k]})
			}
		}
		all = append(all, ec2Reservation{ReservationID: "r-" + strings.TrimPrefix(id, "i-"), OwnerID: BackupAccount, Instances: []ec2Instance{out}})
	}
	page, next, ok := paginate("DescribeInstances", all, form.Get("NextToken"), maxResults, s.pageSize)
	if !ok {
		return nil, clientError("InvalidParameterValue", "The token '%s' is invalid.", form.Get("NextToken"))
	}
	return struct {
		Reservations []ec2Reservation `xml:"reservationSet>item"`
		NextToken    string           `xml:"nextToken,omitempty"`
	}{page, next}, nil
}
