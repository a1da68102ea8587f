package awsemu

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsarn "github.com/aws/aws-sdk-go-v2/aws/arn"
)

// taggingService is the Resource Groups Tagging API over the emulator's
// resources: GetResources by ARN list and TagResources with its limits and
// per-resource failures (resourcegroupstaggingapi API reference).
type taggingService struct {
	pageSize  int
	resources map[string]*taggedResource
	failures  map[string]tagFailure
}

type taggedResource struct {
	tags map[string]string
	// tagged is true once the resource had a tag: GetResources returns
	// only "tagged or previously tagged" resources.
	tagged bool
}

type tagFailure struct {
	status     int
	code, text string
}

// taggableServices are the ARN services whose resources TagResources can
// tag (the API reference's "supported services" list, restricted to what
// AWS Backup restores).
var taggableServices = []string{"ec2", "rds", "dynamodb", "elasticfilesystem", "fsx", "s3", "redshift", "storagegateway", "backup"}

// serviceTagActions are the permissions TagResources checks, besides
// tag:TagResources, for a resource: the service's own tagging action
// ("To add tags to a resource, you need the necessary permissions for the
// service that the resource belongs to").
func serviceTagActions(s string) []string {
	a, err := awsarn.Parse(s)
	if err != nil {
		return nil
	}
	switch a.Service {
	case "ec2":
		return []string{"ec2:CreateTags"}
	case "rds":
		return []string{"rds:AddTagsToResource"}
	case "redshift":
		return []string{"redshift:CreateTags"}
	case "s3":
		return []string{"s3:GetBucketTagging", "s3:PutBucketTagging"}
	case "storagegateway":
		return []string{"storagegateway:AddTagsToResource"}
	case "dynamodb", "elasticfilesystem", "fsx", "backup":
		return []string{a.Service + ":TagResource"}
	}
	return nil
}

func newTagging(pageSize int) *taggingService {
	return &taggingService{pageSize: pageSize, resources: map[string]*taggedResource{}, failures: map[string]tagFailure{}}
}

// AddResource creates a resource with tags (nil for none).
func (e *Emulator) AddResource(arn string, tags map[string]string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tagging.put(arn, tags)
}

func (t *taggingService) put(arn string, tags map[string]string) {
	r := &taggedResource{tags: maps.Clone(tags), tagged: len(tags) > 0}
	if r.tags == nil {
		r.tags = map[string]string{}
	}
	t.resources[arn] = r
}

// RemoveResource deletes a resource (the source of a restore, say).
func (e *Emulator) RemoveResource(arn string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.tagging.resources, arn)
}

// ResourceTags returns a resource's tags; ok is false if it does not exist.
func (e *Emulator) ResourceTags(arn string) (tags map[string]string, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.tagging.resources[arn]
	if r == nil {
		return nil, false
	}
	return maps.Clone(r.tags), true
}

// FailTagging makes TagResources report this resource in FailedResourcesMap
// with the given status, error code and message (403 for a missing
// service permission such as ec2:CreateTags, for example).
func (e *Emulator) FailTagging(arn string, status int, code, message string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tagging.failures[arn] = tagFailure{status, code, message}
}

func (t *taggingService) operations() map[string]jsonOp {
	return map[string]jsonOp{
		"GetResources": t.getResources,
		"TagResources": t.tagResources,
	}
}

func taggingInvalid(format string, args ...any) *APIError {
	return clientError("InvalidParameterException", format, args...)
}

type tagMapping struct {
	ResourceARN string   `json:"ResourceARN"`
	Tags        []orgTag `json:"Tags"`
}

func (t *taggingService) getResources(c *call, body []byte) (any, *APIError) {
	var in struct {
		ResourceARNList     []string
		TagFilters          []struct{ Key string }
		ResourceTypeFilters []string
		PaginationToken     *string
		ResourcesPerPage    *int
		TagsPerPage         *int
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if len(in.ResourceARNList) > 100 {
		return nil, taggingInvalid("ResourceARNList has %d ARNs; at most 100 are allowed", len(in.ResourceARNList))
	}
	// Resource Groups Tagging API reference, GetResources, ResourceARNList:
	// "You can't specify both this parameter and the ResourceTypeFilters
	// parameter", nor TagFilters, nor "any of the pagination parameters
	// (ResourcesPerPage, TagsPerPage, PaginationToken) in the same request.
	// If you do, you get an Invalid Parameter exception." An ARN-list answer
	// is therefore never paged.
	if len(in.ResourceARNList) > 0 {
		var with []string
		for name, set := range map[string]bool{
			"TagFilters": len(in.TagFilters) > 0, "ResourceTypeFilters": len(in.ResourceTypeFilters) > 0,
			"PaginationToken": in.PaginationToken != nil, "ResourcesPerPage": in.ResourcesPerPage != nil, "TagsPerPage": in.TagsPerPage != nil,
		} {
			if set {
				with = append(with, name)
			}
		}
		if len(with) > 0 {
			slices.Sort(with)
			return nil, taggingInvalid("ResourceARNList cannot be combined with %s", strings.Join(with, ", "))
		}
	}
	c.target = strings.Join(in.ResourceARNList, ",")
	var arns []string
	if len(in.ResourceARNList) > 0 {
		arns = in.ResourceARNList
	} else {
		arns = slices.Sorted(maps.Keys(t.resources))
	}
	var all []tagMapping
	for _, arn := range arns {
		r := t.resources[arn]
		if r == nil || !r.tagged || !inCallerScope(c, arn) {
			continue
		}
		m := tagMapping{ResourceARN: arn, Tags: []orgTag{}}
		for _, k := range slices.Sorted(maps.Keys(r.tags)) {
			m.Tags = append(m.Tags, orgTag{Key: k, Value: r.tags[k]})
		}
		all = append(all, m)
	}
	if len(in.ResourceARNList) > 0 {
		return struct {
			ResourceTagMappingList []tagMapping `json:"ResourceTagMappingList"`
			PaginationToken        string       `json:"PaginationToken"`
		}{nonNil(all), ""}, nil
	}
	page, next, ok := paginate("GetResources", all, aws.ToString(in.PaginationToken), aws.ToInt(in.ResourcesPerPage), t.pageSize)
	if !ok {
		return nil, taggingInvalid("The pagination token is not valid.")
	}
	return struct {
		ResourceTagMappingList []tagMapping `json:"ResourceTagMappingList"`
		PaginationToken        string       `json:"PaginationToken"`
	}{nonNil(page), next}, nil
}

// inCallerScope reports whether a resource is in the caller's account and
// in the Region (and partition) the call is signed for: "You can only tag
// resources that are located in the specified Region for the AWS account"
// (API reference, TagResources); GetResources "returns all the tagged or
// previously tagged resources that are located in the specified Region for
// the AWS account". S3 ARNs have no Region but have a partition.
func inCallerScope(c *call, s string) bool {
	a, err := awsarn.Parse(s)
	if err != nil {
		return false
	}
	region := c.region
	if region == "" {
		region = Region
	}
	return a.Partition == Partition(region) && (a.Region == "" || a.Region == region) && (a.AccountID == "" || a.AccountID == c.caller.Account)
}

type failureInfo struct {
	StatusCode   int    `json:"StatusCode"`
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

func (t *taggingService) tagResources(c *call, body []byte) (any, *APIError) {
	var in struct {
		ResourceARNList []string
		Tags            map[string]string
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	c.target = strings.Join(in.ResourceARNList, ",")
	switch {
	case len(in.ResourceARNList) < 1 || len(in.ResourceARNList) > 20:
		return nil, taggingInvalid("ResourceARNList must have 1 to 20 ARNs, not %d", len(in.ResourceARNList))
	case len(in.Tags) < 1 || len(in.Tags) > 50:
		return nil, taggingInvalid("Tags must have 1 to 50 tags, not %d", len(in.Tags))
	}
	for k, v := range in.Tags {
		switch {
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return nil, taggingInvalid("Tag keys starting with aws: are reserved for AWS use: %q", k)
		case k == "" || utf8.RuneCountInString(k) > 128:
			return nil, taggingInvalid("Tag keys must be 1 to 128 characters")
		case utf8.RuneCountInString(v) > 256:
			return nil, taggingInvalid("Tag values must be at most 256 characters")
		}
	}
	failed := map[string]failureInfo{}
	for _, arn := range in.ResourceARNList {
		c.actions = append(c.actions, serviceTagActions(arn)...)
		if f, ok := t.failures[arn]; ok {
			failed[arn] = failureInfo{f.status, f.code, f.text}
			continue
		}
		if a, err := awsarn.Parse(arn); err != nil || !slices.Contains(taggableServices, a.Service) {
			failed[arn] = failureInfo{http.StatusBadRequest, "InvalidParameterException", "The resource type of " + arn + " is not supported by the Resource Groups Tagging API"}
			continue
		}
		r := t.resources[arn]
		if r == nil || !inCallerScope(c, arn) {
			failed[arn] = failureInfo{http.StatusBadRequest, "InvalidParameterException", "The resource " + arn + " does not exist"}
			continue
		}
		merged := maps.Clone(r.tags)
		maps.Copy(merged, in.Tags)
		n := 0
		for k := range merged {
			if !strings.HasPrefix(k, "aws:") {
				n++
			}
		}
		if n > maxTagsPerResource {
			failed[arn] = failureInfo{http.StatusBadRequest, "InvalidParameterException", "Tagging " + arn + " would exceed 50 tags"}
			continue
		}
		r.tags, r.tagged = merged, true
	}
	return struct {
		FailedResourcesMap map[string]failureInfo `json:"FailedResourcesMap"`
	}{failed}, nil
}
