package tagreapply

import (
	"fmt"
	"slices"
	"strings"
)

// ARN is a parsed Amazon Resource Name.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// ParseARN splits arn:partition:service:region:account:resource.
func ParseARN(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return ARN{}, fmt.Errorf("%q is not an ARN", s)
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}

// tagAPIServices are the services whose resources AWS Backup restores and
// the Resource Groups Tagging API can tag ("Services that support the
// Resource Groups Tagging API"). DocumentDB and Neptune clusters have rds
// ARNs. Timestream and VMware VMs are not among them.
var tagAPIServices = []string{"ec2", "rds", "dynamodb", "elasticfilesystem", "fsx", "s3", "redshift", "storagegateway"}

func taggable(a ARN) bool { return slices.Contains(tagAPIServices, a.Service) }
