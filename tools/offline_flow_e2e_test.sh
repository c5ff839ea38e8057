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
command -v node >/dev/null || { echo "FAIL: node is not on PATH (tools/test.sh passes it): the requests are judged with it"; exit 1; }
BIN="$ROOT" WORK="$W/offline" ENDPOINT="$ENDPOINT" SIZE_MIB="${SIZE_MIB:-96}" SUMMARY="$W/summary.tsv" \
  RECORD_REQUESTS="$W/requests.jsonl" "$ROOT/tools/offline_flow.sh" 2>&1 | tee "$W/terminal.log"
[ -s "$W/offline/killed-runs.log" ] && echo "killed runs: output in $W/offline/killed-runs.log"
column -t -s $'\t' "$W/summary.tsv"
grep -q "byte-identical" "$W/summary.tsv"

# Every request the tools sent to the Import/Export API, judged by Microsoft's SDK (its operation specs and mappers:
# path, method, api-version, body fields and JSON types), not by our simulator.
node "$ROOT/tools/azure_sdk_judge/check_requests.js" --answers --failures-only "$W/requests.jsonl" | tee "$W/request-check.log"
grep -E "^[0-9]+ passed, 0 failed" "$W/request-check.log" >/dev/null

# Secret hygiene: the recovery passwords and private keys the flow made appear nowhere but in the files meant to
# hold them (each 0600): not in the terminal output, logs, journals, job records on this computer, drive logs or
# any blob written to the storage account (Azurite keeps blobs as files under its data folder).
O="$W/offline"
HOLDERS=("$O"/staging/diskprep/*.recovery-password "$O"/agent/certs/*.prv "$O/mgmt.key" "$O/mgmt.p12"
         "$O/backup.publishsettings" "$O/plane/state.json")
SECRETS=()
for f in "$O"/staging/diskprep/*.recovery-password; do SECRETS+=("$(cat "$f")"); done
for f in "$O"/agent/certs/*.prv "$O/mgmt.key"; do SECRETS+=("$(sed -n 5p "$f")"); done  # a line of each key's body
[ "${#SECRETS[@]}" -ge 4 ] || { echo "FAIL: expected recovery passwords and keys to check, found ${#SECRETS[@]}"; exit 1; }
for f in "${HOLDERS[@]}"; do
  mode="$(stat -c %a "$f")"
  [ "$mode" = 600 ] || { echo "FAIL: $f holds a secret but has mode $mode"; exit 1; }
done
hits=0
for secret in "${SECRETS[@]}"; do
  while IFS= read -r f; do
    allowed=0
    for h in "${HOLDERS[@]}"; do [ "$f" = "$h" ] && allowed=1; done
    if [ "$allowed" = 0 ]; then echo "FAIL: a secret appears in $f"; hits=$((hits + 1)); fi
  done < <(grep -rlF -- "$secret" "$W" 2>/dev/null || true)
done
[ "$hits" = 0 ] || exit 1
echo "secret hygiene: ${#SECRETS[@]} secrets, found only in their ${#HOLDERS[@]} holder files (all 0600)"
