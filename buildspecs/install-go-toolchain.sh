#!/usr/bin/env bash
# Installs the Go toolchain go.mod names and prints its GOROOT:
#
#   export PATH="$(buildspecs/install-go-toolchain.sh)/bin:$PATH"
#
# CodeBuild's images ship Go releases older than go.mod's. GOTOOLCHAIN=<release>
# makes the image's go command (Go 1.21 or later) fetch exactly that release as
# the module golang.org/toolchain@v0.0.1-<release>.<GOOS>-<GOARCH> from GOPROXY,
# checked against GOSUMDB, into GOMODCACHE, and run it; it never switches to
# another release ("Go Toolchains", go.dev/doc/toolchain). With GOMODCACHE in the
# build's cache, later builds find it there. The buildspecs then run with
# GOTOOLCHAIN=local and this GOROOT first on PATH, so nothing else is fetched.
set -euo pipefail

mod=${1:-go.mod}
# The release go.mod selects: its toolchain line, else go<its go line>.
release=$(awk '$1 == "toolchain" { print $2; exit }' "$mod")
if [ -z "$release" ]; then
  version=$(awk '$1 == "go" { print $2; exit }' "$mod")
  if [ -z "$version" ]; then
    echo "install-go-toolchain: $mod has no go line" >&2
    exit 1
  fi
  release=go$version
fi

goroot=$(cd "$(dirname "$mod")" && GOTOOLCHAIN=$release go env GOROOT)
installed=$(cd "$(dirname "$mod")" && GOTOOLCHAIN=local "$goroot/bin/go" env GOVERSION)
if [ "$installed" != "$release" ]; then
  echo "install-go-toolchain: $goroot is $installed; $mod names $release" >&2
  exit 1
fi
echo "$goroot"
