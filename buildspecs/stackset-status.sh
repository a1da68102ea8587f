#!/usr/bin/env bash
# Waits for the operations of the StackSets of a stacksets.yaml stack
# (those CloudFormation started, and auto-deployments queued behind them)
# and prints every stack instance that did not end CURRENT with its status
# reason; exits 1 if there is one.
#
#   buildspecs/stackset-status.sh STACK_NAME CALL_AS [DEADLINE_SECONDS]
set -euo pipefail
stack=${1:?usage: stackset-status.sh STACK_NAME CALL_AS [DEADLINE_SECONDS]}
call_as=${2:?}
deadline=$(( $(date +%s) + ${3:-3600} ))

# The StackSets are the stack's outputs *StackSetId (name:uuid).
mapfile -t sets < <(aws cloudformation describe-stacks --stack-name "$stack" \
  --query "Stacks[0].Outputs[?ends_with(OutputKey, 'StackSetId')].OutputValue" --output text | tr '\t' '\n' | sed '/^$/d')
failed=0
for id in "${sets[@]}"; do
  name=${id%%:*}
  # ListStackSetOperations returns the newest first; QUEUED, RUNNING and
  # STOPPING are not final (CloudFormation API Reference, StackSetOperationSummary).
  while :; do
    pending=$(aws cloudformation list-stack-set-operations --stack-set-name "$name" --call-as "$call_as" \
      --query "length(Summaries[?Status=='RUNNING' || Status=='QUEUED' || Status=='STOPPING'])" --output text)
    [ "$pending" = 0 ] && break
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "$name: $pending operation(s) still running at the deadline" >&2
      failed=1
      break
    fi
    echo "$name: waiting for $pending operation(s)"
    sleep 15  # poll interval of the wait above, bounded by the deadline
  done
  aws cloudformation list-stack-set-operations --stack-set-name "$name" --call-as "$call_as" --max-results 1 \
    --query 'Summaries[0].[OperationId,Action,Status,StatusReason]' --output text
  # Every instance that is not CURRENT, with why (StackInstanceSummary.StatusReason).
  bad=$(aws cloudformation list-stack-instances --stack-set-name "$name" --call-as "$call_as" \
    --query "Summaries[?Status!='CURRENT'].[Account,Region,Status,StackInstanceStatus.DetailedStatus,StatusReason]" --output text)
  if [ -n "$bad" ]; then
    echo "$name: stack instances not CURRENT (account, Region, status, detailed status, reason):" >&2
    echo "$bad" >&2
    failed=1
  else
    echo "$name: every stack instance is CURRENT"
  fi
done
exit "$failed"
