#!/usr/bin/env bash
# Usage: check-primary-region.sh TARGET_REGIONS PRIMARY_REGION
# TARGET_REGIONS is the value of /backup-as-code/target-regions (a StringList:
# comma-separated), PRIMARY_REGION that of /backup-as-code/primary-region.
#
# member-backup.yaml creates the account-wide AWS Backup role only in the stack
# instance whose Region is PrimaryRegion (IAM is global); the StackSets deploy
# to TargetRegions only. A primary Region outside them means no account gets
# the role the backup policies name, and every backup job fails: refuse it
# before anything is deployed. CloudFormation Rules cannot check it: the two
# values are SSM parameters, resolved only at deployment.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 TARGET_REGIONS PRIMARY_REGION" >&2
  exit 2
fi
targets=$1 primary=$2
if [ -z "$primary" ]; then
  echo "PrimaryRegion (/backup-as-code/primary-region) is empty; set it to one of the target Regions: $targets" >&2
  exit 1
fi
IFS=, read -r -a regions <<<"$targets"
for r in "${regions[@]}"; do
  if [ "$r" = "$primary" ]; then
    exit 0
  fi
done
echo "PrimaryRegion (/backup-as-code/primary-region) is $primary, not one of the target Regions (/backup-as-code/target-regions): $targets; no member account would get the AWS Backup role. Set it to one of them." >&2
exit 1
