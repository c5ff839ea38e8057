#!/usr/bin/env bash
# The offline seeding flow end to end (tools/offline_flow.sh) with the built binaries against a real Azurite:
# source tree to staging, drives, shipping, datacenter import, vault copy, 1% change, incremental, restore compared
# with the source. SIZE_MIB (default 96) sets the source size.
set -euo pipefail
: "${AZURITE_BLOB:?run through tools/test.sh --all (it passes --test_env=AZURITE_BLOB)}"
ROOT="$PWD"
source "$ROOT/tools/lib.sh"
W="${TEST_TMPDIR:-$(mktemp -d)}/e2e"
mkdir -p "$W"
start_azurite "$W/azurite" "$AZURITE_BLOB"
trap 'kill -9 $AZPID 2>/dev/null || true' EXIT
BIN="$ROOT" WORK="$W/offline" ENDPOINT="$ENDPOINT" SIZE_MIB="${SIZE_MIB:-96}" SUMMARY="$W/summary.tsv" \
  "$ROOT/tools/offline_flow.sh"
column -t -s $'\t' "$W/summary.tsv"
grep -q "byte-identical" "$W/summary.tsv"
