#!/usr/bin/env bash
# The first `make test` of a new machine, phase by phase: a fresh clone with
# empty Go module and build caches and no pip cache, each phase of `make test`
# run alone and timed, so the README can say where a cold run's time goes.
# Needs the network (the Go module proxy, PyPI) and about 5 GB in $WORK.
#   bench/first-run.sh [WORK]   (default: a new directory under /tmp)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/first-run.XXXXXX)}
git clone -q "$repo" "$work/repo"
export GOPATH=$work/go GOCACHE=$work/gocache GOFLAGS=-modcacherw PIP_NO_CACHE_DIR=1 CI=true
cd "$work/repo"
phase() {
  local name=$1; shift
  local start=$SECONDS
  "$@" > "$work/$name.log" 2>&1 || { echo "$name failed: see $work/$name.log"; exit 1; }
  printf '%-16s %4d s\n' "$name" $((SECONDS - start))
}
echo "commit $(git rev-parse --short HEAD), $(nproc) CPUs, $(go version | cut -d' ' -f3)"
phase modules     go mod download
phase golangci    make "$PWD/.tools/bin/golangci-lint-v2.15.0"
phase lint        make lint
phase vet         make vet
phase tools       make -j3 tools
phase local       make local
phase unit        make unit
phase templates   make check-templates
phase policycheck make policy-check
echo "total            $SECONDS s"
du -sh .venv .tools bin "$GOPATH" "$GOCACHE" | sed 's/^/disk /'
