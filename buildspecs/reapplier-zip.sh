#!/usr/bin/env bash
# Builds the member tag re-applier's Lambda zip reproducibly and prints its
# content-addressed key, tag-reapplier/<sha256 of the zip>.zip: the same
# source and Go release give the same bytes, so unchanged code keeps its key
# and the StackSet does not update the functions.
#
#   buildspecs/reapplier-zip.sh OUT_DIR    writes OUT_DIR/<sha256>.zip
#
# Reproducible: the binary is the Makefile's Lambda build (-trimpath, no
# build ID differences across checkouts); the zip holds one file with a fixed
# mode and mtime (1980-01-01, zip's epoch) and no extra attributes (zip -X:
# no uid/gid or extended timestamps), written with a fixed compression level.
set -euo pipefail
out=${1:?usage: reapplier-zip.sh OUT_DIR}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
make --no-print-directory -C "$repo" build-TagReapplierFunction ARTIFACTS_DIR="$work/pkg" >&2
chmod 0755 "$work/pkg/bootstrap"
TZ=UTC touch -t 198001010000 "$work/pkg/bootstrap"
(cd "$work/pkg" && TZ=UTC zip -X -q -9 "$work/code.zip" bootstrap)
sum=$(sha256sum "$work/code.zip" | cut -d' ' -f1)
mkdir -p "$out"
mv "$work/code.zip" "$out/$sum.zip"
echo "tag-reapplier/$sum.zip"
