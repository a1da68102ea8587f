package compliance

import (
	"slices"
	"strings"
)

// resourceTypes maps the resource type names a control scope takes
// (ComplianceResourceTypes: the names of AWS Backup API Reference,
// GetSupportedResourceTypes, and of UpdateRegionSettings'
// ResourceTypeOptInPreference for DSQL and Redshift Serverless) to the
// resource ARN patterns a backup policy selects them by (AWS Organizations
// User Guide, "Backup policy syntax and examples", "Supported resource
// types"). Aurora, DocumentDB and Neptune clusters share the RDS cluster
// ARN; RDS covers DB instances and Multi-AZ DB clusters.
var resourceTypes = map[string][]string{
	"aurora":                 {"arn:aws:rds:*:*:cluster:*"},
	"cloudformation":         {"arn:aws:cloudformation:*:*:stack/*"},
	"documentdb":             {"arn:aws:rds:*:*:cluster:*"},
	"dsql":                   {"arn:aws:dsql:*:*:cluster/*"},
	"dynamodb":               {"arn:aws:dynamodb:*:*:table/*"},
	"ebs":                    {"arn:aws:ec2:*:*:volume/*"},
	"ec2":                    {"arn:aws:ec2:*:*:instance/*"},
	"efs":                    {"arn:aws:elasticfilesystem:*:*:file-system/*"},
	"eks":                    {"arn:aws:eks:*:*:cluster/*"},
	"fsx":                    {"arn:aws:fsx:*:*:file-system/*", "arn:aws:fsx:*:*:volume/*"},
	"neptune":                {"arn:aws:rds:*:*:cluster:*"},
	"rds":                    {"arn:aws:rds:*:*:db:*", "arn:aws:rds:*:*:cluster:*"},
	"redshift":               {"arn:aws:redshift:*:*:cluster:*"},
	"redshift serverless":    {"arn:aws:redshift-serverless:*:*:namespace/*"},
	"s3":                     {"arn:aws:s3:::*"},
	"sap hana on amazon ec2": {"arn:aws:ssm-sap:*:*:HANA/*"},
	"storage gateway":        {"arn:aws:storagegateway:*:*:gateway/*"},
	"timestream":             {"arn:aws:timestream:*:*:database/*"},
	"virtualmachine":         {"arn:aws:backup-gateway:*:*:vm/*"},
}

// resourceTypeARNs returns the ARN patterns of a resource type name
// (case-insensitive: the API pages spell FSx both "FSx" and "FSX").
func resourceTypeARNs(name string) ([]string, bool) {
	p, ok := resourceTypes[strings.ToLower(name)]
	return p, ok
}

// ResourceTypes returns the resource type names a control scope can name,
// sorted.
func ResourceTypes() []string {
	names := []string{
		"Aurora", "CloudFormation", "DocumentDB", "DSQL", "DynamoDB", "EBS", "EC2", "EFS", "EKS", "FSx",
		"Neptune", "RDS", "Redshift", "Redshift Serverless", "S3", "SAP HANA on Amazon EC2",
		"Storage Gateway", "Timestream", "VirtualMachine",
	}
	slices.Sort(names)
	return names
}

// normalizePartition writes an ARN pattern in the aws partition: a policy
// is attached within one partition, and the GovCloud and China forms
// (arn:aws-us-gov:ec2:...) select the same resource types.
func normalizePartition(p string) string {
	rest, ok := strings.CutPrefix(p, "arn:")
	if !ok {
		return p
	}
	partition, tail, ok := strings.Cut(rest, ":")
	if ok && strings.HasPrefix(partition, "aws-") {
		return "arn:aws:" + tail
	}
	return p
}

// arnParts splits an ARN pattern into its partition, service, Region,
// account and resource (which may hold colons), or returns nil for a
// pattern that is not a whole ARN ("*").
func arnParts(p string) []string {
	parts := strings.SplitN(p, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return nil
	}
	return parts[1:]
}

// arnOverlap reports whether some ARN matches both patterns. A * stays
// within the ARN part it is written in, so arn:aws:ec2:*:*:instance/*
// does not reach volumes through the Region's *.
func arnOverlap(p, q string) bool { return byARNPart(p, q, overlap) }

// arnCovers reports whether every ARN q matches also matches p.
func arnCovers(p, q string) bool { return byARNPart(p, q, covers) }

// byARNPart applies match to each part of two ARN patterns, or to the
// whole patterns when either is not an ARN.
func byARNPart(p, q string, match func(p, q string) bool) bool {
	pp, qp := arnParts(p), arnParts(q)
	if pp == nil || qp == nil {
		return match(p, q)
	}
	for i := range pp {
		if !match(pp[i], qp[i]) {
			return false
		}
	}
	return true
}

// overlap reports whether some string matches both patterns, in which *
// matches any run of characters (the wildcard of resource_types and
// not_resource_types; AWS Organizations User Guide, "Backup policy syntax
// and examples").
func overlap(p, q string) bool {
	// ok[i][j]: p[i:] and q[j:] have a common match.
	ok := make([][]bool, len(p)+1)
	for i := range ok {
		ok[i] = make([]bool, len(q)+1)
	}
	for i := len(p); i >= 0; i-- {
		for j := len(q); j >= 0; j-- {
			switch {
			case i == len(p) && j == len(q):
				ok[i][j] = true
			case i < len(p) && p[i] == '*':
				// The star matches nothing, or takes q's next character.
				ok[i][j] = ok[i+1][j] || (j < len(q) && ok[i][j+1])
			case j < len(q) && q[j] == '*':
				ok[i][j] = ok[i][j+1] || (i < len(p) && ok[i+1][j])
			case i < len(p) && j < len(q):
				ok[i][j] = p[i] == q[j] && ok[i+1][j+1]
			}
		}
	}
	return ok[0][0]
}

// covers reports whether every string q matches also matches p: p matches
// q's text with each * of q matched by a * of p. (Sufficient, and exact
// for the patterns policies use.)
func covers(p, q string) bool {
	ok := make([][]bool, len(p)+1)
	for i := range ok {
		ok[i] = make([]bool, len(q)+1)
	}
	for i := len(p); i >= 0; i-- {
		for j := len(q); j >= 0; j-- {
			switch {
			case i == len(p):
				ok[i][j] = j == len(q)
			case p[i] == '*':
				ok[i][j] = ok[i+1][j] || (j < len(q) && ok[i][j+1])
			case j < len(q) && q[j] != '*':
				ok[i][j] = p[i] == q[j] && ok[i+1][j+1]
			}
		}
	}
	return ok[0][0]
}
