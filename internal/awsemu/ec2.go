package awsemu

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Instance is an EC2 instance of the emulator's account, with the EBS
// volumes attached to it. Its tags and its volumes' tags are resources of
// the Tagging API (AddResource), with ARNs of its Region's partition.
type Instance struct {
	ID           string
	BlockDevices []BlockDevice
	// Region is the instance's Region; empty means Region. Only requests
	// signed for that Region see it.
	Region string
}

// instanceState is an instance as EC2 holds it.
type instanceState struct {
	Instance
	// terminated is when TerminateInstance ended it; zero while it runs.
	terminated time.Time
	// tags are the instance's tags when it was terminated.
	tags map[string]string
}

// terminatedVisibility is how long DescribeInstances keeps showing a
// terminated instance: "Terminated instances remain visible after
// termination (for approximately one hour)" (EC2 API reference,
// TerminateInstances; EC2 user guide, "Terminate your instance").
const terminatedVisibility = time.Hour

// BlockDevice is an EBS volume attached on a device name.
type BlockDevice struct {
	DeviceName, VolumeID string
}

// ec2Service is the part of Amazon EC2 the tag re-applier reads:
// DescribeInstances, for the volumes attached to an instance.
type ec2Service struct {
	pageSize  int
	instances map[string]*instanceState
	tagging   *taggingService
}

func newEC2(pageSize int, tagging *taggingService) *ec2Service {
	return &ec2Service{pageSize: pageSize, instances: map[string]*instanceState{}, tagging: tagging}
}

// EC2ARN is the ARN of an EC2 resource ("instance/i-…", "volume/vol-…")
// of the emulator's account and Region.
func EC2ARN(resource string) string { return EC2ARNIn(Region, resource) }

// EC2ARNIn is the ARN of an EC2 resource of the emulator's account in a
// Region, with that Region's partition (arn:aws-cn:ec2:cn-north-1:…).
func EC2ARNIn(region, resource string) string {
	if region == "" {
		region = Region
	}
	return fmt.Sprintf("arn:%s:ec2:%s:%s:%s", Partition(region), region, BackupAccount, resource)
}

// AddInstance creates an instance with its attached volumes; the instance
// and volumes that are not resources yet become untagged ones.
func (e *Emulator) AddInstance(inst Instance, tags map[string]string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if inst.Region == "" {
		inst.Region = Region
	}
	inst.BlockDevices = slices.Clone(inst.BlockDevices)
	e.ec2.instances[inst.ID] = &instanceState{Instance: inst}
	e.tagging.put(EC2ARNIn(inst.Region, "instance/"+inst.ID), tags)
	for _, d := range inst.BlockDevices {
		if e.tagging.resources[EC2ARNIn(inst.Region, "volume/"+d.VolumeID)] == nil {
			e.tagging.put(EC2ARNIn(inst.Region, "volume/"+d.VolumeID), nil)
		}
	}
}

// TerminateInstance terminates an instance: its volumes are deleted
// (DeleteOnTermination, the default for volumes created at launch) and it
// leaves the Tagging API, while DescribeInstances shows it for about an
// hour in state terminated, with its tags and no block device mappings.
func (e *Emulator) TerminateInstance(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inst := e.ec2.instances[id]
	if inst == nil || !inst.terminated.IsZero() {
		return
	}
	arn := EC2ARNIn(inst.Region, "instance/"+id)
	if r := e.tagging.resources[arn]; r != nil {
		inst.tags = maps.Clone(r.tags)
	}
	for _, d := range inst.BlockDevices {
		delete(e.tagging.resources, EC2ARNIn(inst.Region, "volume/"+d.VolumeID))
	}
	inst.BlockDevices, inst.terminated = nil, time.Now()
	delete(e.tagging.resources, arn)
}

// visible reports whether DescribeInstances, called for region at now,
// shows the instance.
func (i *instanceState) visible(region string, now time.Time) bool {
	return i.Region == region && (i.terminated.IsZero() || now.Sub(i.terminated) < terminatedVisibility)
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
// (InvalidInstanceID.NotFound), a filter only narrows the result;
// MaxResults (5 to 1000) cannot be combined with InstanceIds. The block
// device mappings give each volume's device name and volume ID; volume
// tags are not part of the answer. A recently terminated instance is
// listed in state terminated (code 48) without block device mappings.
func (s *ec2Service) describeInstances(c *call, form url.Values) (any, *APIError) {
	ids := queryList(form, "InstanceId")
	c.target = strings.Join(ids, ",")
	filters := map[string][]string{}
	for i := 1; ; i++ {
		name, ok := form["Filter."+strconv.Itoa(i)+".Name"]
		if !ok {
			break
		}
		values := queryList(form, "Filter."+strconv.Itoa(i)+".Value")
		// AWS accepts some 80 filters and * and ? wildcards in their
		// values; the emulator models instance-id and instance-state-name
		// with exact values only. Anything else is refused as an emulator
		// limit (not an AWS rule, and not an AWS error code), so a test
		// can never pass on a filter the emulator silently ignored.
		if name[0] != "instance-id" && name[0] != "instance-state-name" {
			return nil, notModelled("DescribeInstances filter %q not modelled by awsemu (it serves instance-id and instance-state-name)", name[0])
		}
		if slices.ContainsFunc(values, func(v string) bool { return strings.ContainsAny(v, "*?") }) {
			return nil, notModelled("DescribeInstances filter %q: wildcard values not modelled by awsemu", name[0])
		}
		filters[name[0]] = append(filters[name[0]], values...)
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
	region, now := c.region, time.Now()
	if region == "" {
		region = Region
	}
	seen := func(id string) bool {
		inst := s.instances[id]
		return inst != nil && c.caller.Account == BackupAccount && inst.visible(region, now)
	}
	var missing []string
	for _, id := range ids {
		if !seen(id) {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, clientError("InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
	}
	var all []ec2Reservation
	for _, id := range slices.Sorted(maps.Keys(s.instances)) {
		inst := s.instances[id]
		state, code := "running", 16
		if !inst.terminated.IsZero() {
			state, code = "terminated", 48
		}
		if !seen(id) || (len(ids) > 0 && !slices.Contains(ids, id)) ||
			(filters["instance-id"] != nil && !slices.Contains(filters["instance-id"], id)) ||
			(filters["instance-state-name"] != nil && !slices.Contains(filters["instance-state-name"], state)) {
			continue
		}
		out := ec2Instance{InstanceID: id}
		out.InstanceState.Code, out.InstanceState.Name = code, state
		for _, d := range inst.BlockDevices {
			bd := ec2BlockDevice{DeviceName: d.DeviceName}
			bd.Ebs.VolumeID, bd.Ebs.Status, bd.Ebs.DeleteOnTermination = d.VolumeID, "attached", true
			out.BlockDeviceMapping = append(out.BlockDeviceMapping, bd)
		}
		tags := inst.tags
		if r := s.tagging.resources[EC2ARNIn(inst.Region, "instance/"+id)]; r != nil {
			tags = r.tags
		}
		for _, k := range slices.Sorted(maps.Keys(tags)) {
			out.TagSet = append(out.TagSet, ec2Tag{k, tags[k]})
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
