package compliance

import "testing"

func TestARNPatterns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p, q            string
		overlap, covers bool
	}{
		{"*", "arn:aws:ec2:*:*:volume/*", true, true},
		{"arn:aws:ec2:*:*:volume/*", "arn:aws:ec2:*:*:volume/*", true, true},
		{"arn:aws:ec2:*:*:volume/vol-1", "arn:aws:ec2:*:*:volume/*", true, false},
		{"arn:aws:ec2:us-east-1:*:volume/*", "arn:aws:ec2:*:*:volume/*", true, false},
		{"arn:aws:ec2:*:*:*", "arn:aws:ec2:*:*:volume/*", true, true},
		// A * stays within its ARN part.
		{"arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:*:*:volume/*", false, false},
		{"arn:aws:rds:*:*:db:*", "arn:aws:rds:*:*:cluster:*", false, false},
		{"arn:aws:rds:*:*:*", "arn:aws:rds:*:*:cluster:*", true, true},
		{"arn:aws:s3:::*", "arn:aws:s3:::*", true, true},
		{"arn:aws:s3:::logs-*", "arn:aws:s3:::*", true, false},
		{"arn:aws:dynamodb:*:*:table/*", "arn:aws:s3:::*", false, false},
		{"arn:aws:ec2:*:*:volume/*", "*vol-0123", true, false},
		{"arn:aws:ec2:*:*:volume/vol-1", "*vol-0123", false, false},
	}
	for _, tt := range tests {
		if got := arnOverlap(tt.p, tt.q); got != tt.overlap {
			t.Errorf("arnOverlap(%q, %q) = %v, want %v", tt.p, tt.q, got, tt.overlap)
		}
		if got := arnCovers(tt.p, tt.q); got != tt.covers {
			t.Errorf("arnCovers(%q, %q) = %v, want %v", tt.p, tt.q, got, tt.covers)
		}
	}
}

func TestNormalizePartition(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"arn:aws-us-gov:ec2:*:*:volume/*": "arn:aws:ec2:*:*:volume/*",
		"arn:aws-cn:s3:::*":               "arn:aws:s3:::*",
		"arn:aws:ec2:*:*:volume/*":        "arn:aws:ec2:*:*:volume/*",
		"*":                               "*",
	} {
		if got := normalizePartition(in); got != want {
			t.Errorf("normalizePartition(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResourceTypesAllMapped(t *testing.T) {
	t.Parallel()
	if len(ResourceTypes()) != len(resourceTypes) {
		t.Fatalf("ResourceTypes() lists %d names, the table has %d", len(ResourceTypes()), len(resourceTypes))
	}
	for _, name := range ResourceTypes() {
		arns, ok := resourceTypeARNs(name)
		if !ok || len(arns) == 0 {
			t.Errorf("%s: no ARN patterns", name)
		}
	}
	if _, ok := resourceTypeARNs("FSX"); !ok {
		t.Error("FSX (as GetSupportedResourceTypes spells it in one revision) is not recognized")
	}
}
