package backuppolicy

import "regexp"

// knownRegions are the Region codes of the aws, aws-cn and aws-us-gov
// partitions and the AWS European Sovereign Cloud (AWS General Reference,
// "AWS Regions"; https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html).
// Checked against the Regions of aws-sdk-go-v2 v1.47.7
// (internal/endpoints/awsrulesfn/partitions.json): the same set but the ISO
// partitions' (us-iso-east-1…), left out since organizations there are
// rare, so they warn. A well-formed code missing here is only a warning:
// AWS adds Regions faster than this table is updated.
var knownRegions = map[string]bool{
	"us-east-1": true, "us-east-2": true, "us-west-1": true, "us-west-2": true,
	"af-south-1": true, "ap-east-1": true, "ap-east-2": true,
	"ap-south-1": true, "ap-south-2": true,
	"ap-southeast-1": true, "ap-southeast-2": true, "ap-southeast-3": true, "ap-southeast-4": true,
	"ap-southeast-5": true, "ap-southeast-6": true, "ap-southeast-7": true,
	"ap-northeast-1": true, "ap-northeast-2": true, "ap-northeast-3": true,
	"ca-central-1": true, "ca-west-1": true,
	"eu-central-1": true, "eu-central-2": true, "eu-west-1": true, "eu-west-2": true, "eu-west-3": true,
	"eu-south-1": true, "eu-south-2": true, "eu-north-1": true,
	"il-central-1": true, "me-south-1": true, "me-central-1": true, "mx-central-1": true, "sa-east-1": true,
	"cn-north-1": true, "cn-northwest-1": true,
	"us-gov-west-1": true, "us-gov-east-1": true,
	"eusc-de-east-1": true,
}

// regionCode is the shape of every Region code: area, optional
// partition qualifier, direction, number (us-gov-west-1, eusc-de-east-1).
var regionCode = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]{2,4})?-(central|north|south|east|west|northeast|northwest|southeast|southwest)-[1-9][0-9]?$`)

// IsRegionCode reports whether s has the shape of a Region code of any
// partition (us-east-1, us-gov-west-1, eusc-de-east-1), known to the table
// or not.
func IsRegionCode(s string) bool { return regionCode.MatchString(s) }
