package awsemu_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	rgta "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	rgtatypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/backup-as-code/orgbackup/internal/awsemu"
)

// TestGetResourcesARNList: a request with ResourceARNList takes no filter
// and no pagination parameter (InvalidParameterException, 400), and its
// answer holds every listed resource at once, whatever the page size.
func TestGetResourcesARNList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	emu := awsemu.New(t, awsemu.Options{PageSize: 2})
	cl := rgta.NewFromConfig(sdkConfig(t, emu, emu.CredentialsFor(member)))
	var arns []string
	for i := range 5 {
		arn := awsemu.EC2ARN(fmt.Sprintf("volume/vol-0a1b2c3d4e5f6%04d", i))
		emu.AddResource(arn, map[string]string{"n": fmt.Sprint(i)})
		arns = append(arns, arn)
	}
	out, err := cl.GetResources(ctx, &rgta.GetResourcesInput{ResourceARNList: arns})
	if err != nil || len(out.ResourceTagMappingList) != 5 || aws.ToString(out.PaginationToken) != "" {
		t.Fatalf("GetResources(5 ARNs) = %d mappings, token %q, %v; want 5 and no token", len(out.ResourceTagMappingList), aws.ToString(out.PaginationToken), err)
	}

	refused := []struct {
		name string
		in   *rgta.GetResourcesInput
	}{
		{"PaginationToken", &rgta.GetResourcesInput{ResourceARNList: arns, PaginationToken: aws.String("x")}},
		{"ResourcesPerPage", &rgta.GetResourcesInput{ResourceARNList: arns, ResourcesPerPage: aws.Int32(2)}},
		{"TagsPerPage", &rgta.GetResourcesInput{ResourceARNList: arns, TagsPerPage: aws.Int32(100)}},
		{"ResourceTypeFilters", &rgta.GetResourcesInput{ResourceARNList: arns, ResourceTypeFilters: []string{"ec2:volume"}}},
		{"TagFilters", &rgta.GetResourcesInput{ResourceARNList: arns, TagFilters: []rgtatypes.TagFilter{{Key: aws.String("n")}}}},
	}
	for _, tt := range refused {
		_, err := cl.GetResources(ctx, tt.in)
		var re *smithyhttp.ResponseError
		var ipe *rgtatypes.InvalidParameterException
		if !errors.As(err, &ipe) || !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
			t.Errorf("ResourceARNList with %s: %v, want InvalidParameterException (400)", tt.name, err)
		}
	}

	// Without an ARN list, the answer pages.
	n, calls := 0, 0
	pages := rgta.NewGetResourcesPaginator(cl, &rgta.GetResourcesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n, calls = n+len(page.ResourceTagMappingList), calls+1
	}
	if n != 5 || calls != 3 {
		t.Errorf("paged GetResources: %d resources in %d pages, want 5 in 3", n, calls)
	}
}
