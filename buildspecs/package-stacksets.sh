#!/usr/bin/env bash
# Uploads what the StackSets deploy to every target Region's code bucket
# (<ARTIFACT_BUCKET_PREFIX>-<region>, cfn/code-buckets.yaml) under
# content-addressed keys, skipping objects that are already there, and
# writes stacksets-parameters.txt (Key=Value, for `aws cloudformation deploy
# --parameter-overrides`) naming those keys.
#
# CloudFormation updates a StackSet only when its TemplateURL or parameters
# change, so a key that changes exactly when the content does is what makes
# an update happen, and only then.
#
# First it checks that the primary Region is one of the target Regions (the SSM
# parameters stacksets.yaml reads, in this Region), or no member account would
# get the AWS Backup role (check-primary-region.sh).
#
# Environment: DEPLOY_REGIONS (space-separated), ARTIFACT_BUCKET_PREFIX.
set -euo pipefail
: "${DEPLOY_REGIONS:?}" "${ARTIFACT_BUCKET_PREFIX:?}"
repo=$(cd "$(dirname "$0")/.." && pwd)

# get-parameters lists names it did not find under InvalidParameters instead of
# failing (AWS Systems Manager API Reference, GetParameters): check them.
ssm=$(aws ssm get-parameters --names /backup-as-code/target-regions /backup-as-code/primary-region \
  --query "[Parameters[?Name=='/backup-as-code/target-regions'].Value | [0], Parameters[?Name=='/backup-as-code/primary-region'].Value | [0], join(',', InvalidParameters)]" \
  --output text)
# Text output: tab-separated, a missing value as None; the possibly empty list last
# (read collapses runs of tabs).
IFS=$'\t' read -r target_regions primary_region missing <<<"$ssm"
if [ -n "$missing" ]; then
  echo "SSM parameters missing in this Region: $missing (README, deployment step 3)" >&2
  exit 1
fi
"$repo/buildspecs/check-primary-region.sh" "$target_regions" "$primary_region"
dist=$(mktemp -d)
trap 'rm -rf "$dist"' EXIT

code_key=$("$repo/buildspecs/reapplier-zip.sh" "$dist")
declare -A uploads=(["$code_key"]="$dist/${code_key#tag-reapplier/}")
params=("TagReapplierCodeKey=$code_key" "CodeBucketPrefix=$ARTIFACT_BUCKET_PREFIX")
# StackSet template files: stacksets.yaml's Metadata.TemplateFile of each StackSet.
for entry in MemberBackupTemplateKey:member-backup TagReapplierTemplateKey:member-tag-reapplier AuditFrameworkTemplateKey:audit-framework; do
  param=${entry%%:*} name=${entry#*:}
  file="$repo/cfn/$name.yaml"
  key="templates/$name-$(sha256sum "$file" | cut -d' ' -f1).yaml"
  uploads[$key]=$file
  params+=("$param=$key")
done

for region in $DEPLOY_REGIONS; do
  bucket="$ARTIFACT_BUCKET_PREFIX-$region"
  for key in "${!uploads[@]}"; do
    # head-object fails with 404 for a missing key (the role has s3:ListBucket,
    # else S3 answers 403 for both: Amazon S3 API Reference, HeadObject).
    if aws s3api head-object --bucket "$bucket" --key "$key" --region "$region" >/dev/null 2>&1; then
      echo "s3://$bucket/$key: unchanged, not uploaded"
    else
      aws s3api put-object --bucket "$bucket" --key "$key" --body "${uploads[$key]}" --region "$region" >/dev/null
      echo "s3://$bucket/$key: uploaded"
    fi
  done
done
printf '%s\n' "${params[@]}" > stacksets-parameters.txt
cat stacksets-parameters.txt
