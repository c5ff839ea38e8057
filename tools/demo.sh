#!/usr/bin/env bash
# The README's main job: the whole product end to end on the embedded defaults (a real blob server, Azurite, and the
# simulators on loopback), then a summary table. Every process it starts is stopped when it ends.
#
# Snapshot flow (the VMSnapshot extension):
#   1. the backup service (simulator) protects a VM: certificate, 4 disks as page blobs with data;
#   2. a backup job: it installs the extension, writes encrypted settings with fresh SAS URIs, runs the real
#      `vmsnapshot enable` as a subprocess (as the guest agent does), reads the status blob, verifies every
#      snapshot and records the recovery point; then the agent repeating it ("already processed", no new snapshot);
#   3. a recovery point restored as VHD files (checked with qemu-img);
#   4. application consistency: a VM with four VHD disks runs a guest app writing transactions across two of them
#      while three backups run with the vss-sim freeze provider; a restored recovery point holds only whole
#      transactions;
#   5. every captured settings fixture is replayed (testdata/protected_settings).
# Offline seeding flow (tools/offline_flow.sh): a generated 2 GiB source tree, seedagent initiate, certgen,
#   diskprep s: across two simulated drives, diskprep u:, the datacenter import, the vault copy (recovery point 1),
#   a change to 1% of the files, an incremental backup, a restore compared byte for byte with the source.
#
# Options (or KEY=VALUE lines in a --config file: BLOB_ENDPOINT, ACCOUNT_KEY_FILE, CONTROL_PLANE, TOKEN_FILE,
# SIZE_MIB):
#   --blob-endpoint URL      use this storage account instead of starting Azurite (https://<account>.blob...)
#   --account-key-file FILE  its key (a file only you can read)
#   --control-plane URL      an Import/Export API instead of the simulator; --token-file FILE its bearer token
#   --size-mib N             the offline source tree's size (default 2048)
#   --keep 1                 keep the bulky data (source, staging, drives, blobs, restores) in the work folder
#   --bin DIR                use binaries already built under DIR (bazel-bin layout) instead of setup + build
#   --work DIR               the work folder (default: a new one under $TMPDIR)
#   --azurite PATH           the azurite-blob to start (default: tools/node/node_modules/.bin/azurite-blob)
# Safe to repeat: each run uses a new work folder (kept, and printed).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/lib.sh

BLOB_ENDPOINT="" ACCOUNT_KEY_FILE="" CONTROL_PLANE="" TOKEN_FILE="" SIZE_MIB=2048 KEEP=0 BIN="" WORK=""
AZURITE="$PWD/tools/node/node_modules/.bin/azurite-blob"
set_option() {
  case "$1" in
    BLOB_ENDPOINT|blob-endpoint) BLOB_ENDPOINT="$2" ;;
    ACCOUNT_KEY_FILE|account-key-file) ACCOUNT_KEY_FILE="$2" ;;
    CONTROL_PLANE|control-plane) CONTROL_PLANE="$2" ;;
    TOKEN_FILE|token-file) TOKEN_FILE="$2" ;;
    SIZE_MIB|size-mib) SIZE_MIB="$2" ;;
    KEEP|keep) KEEP="$2" ;;
    BIN|bin) BIN="$2" ;;
    WORK|work) WORK="$2" ;;
    AZURITE|azurite) AZURITE="$2" ;;
    *) echo "demo: unknown option $1 (see the top of tools/demo.sh)" >&2; exit 2 ;;
  esac
}
while [ $# -gt 0 ]; do
  case "$1" in
    --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --config)
      [ -r "${2:-}" ] || { echo "demo: cannot read the config file ${2:-}" >&2; exit 2; }
      while IFS='=' read -r k v; do
        case "$k" in ''|'#'*) continue ;; esac
        set_option "$k" "$v"
      done <"$2"
      shift 2 ;;
    --*) [ $# -ge 2 ] || { echo "demo: $1 needs a value" >&2; exit 2; }; set_option "${1#--}" "$2"; shift 2 ;;
    *) echo "demo: unexpected argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ -z "$BIN" ]; then
  tools/setup.sh
  bazel build -c opt //snapshot:vmsnapshot //simulators/backup_service:backupsvc //simulators/vss:guestapp \
    //offline_seed/agent:seedagent //offline_seed/certgen //offline_seed/diskprep //simulators/sata:diskprep //simulators/sata:satasim \
    //simulators/import_export:server //simulators/import_export:datacenter
  BIN="$(bazel info -c opt bazel-bin 2>/dev/null)"
fi
VMSNAPSHOT="$BIN/snapshot/vmsnapshot"
BACKUPSVC="$BIN/simulators/backup_service/backupsvc"
GUESTAPP="$BIN/simulators/vss/guestapp"

if [ -z "$WORK" ]; then WORK="$(mktemp -d "${TMPDIR:-/tmp}/vmbackup-demo.XXXXXX")"; else mkdir -p "$WORK"; fi
SUMMARY="$WORK/summary.tsv"
: >"$SUMMARY"
AZPID="" APPPID=""
trap 'kill $APPPID 2>/dev/null || true; [ -n "$AZPID" ] && kill -9 $AZPID 2>/dev/null; true' EXIT
DEMO_START=$(now)
# consistency STATUS_FILE: "code N, <consistency>" from an extension status file.
consistency() {
  local code sc
  code="$(grep -o '"code":[0-9]*' "$1" | head -1 | cut -d: -f2)"
  sc="$(grep -o 'snapshotConsistency[^0-9]*[0-9]' "$1" | head -1 | grep -o '[0-9]$' || true)"
  case "$code/$sc" in
    0/*) echo "code 0, application-consistent" ;;
    1/2) echo "code 1, file-system consistent" ;;
    1/3) echo "code 1, crash-consistent" ;;
    *) echo "code $code (see $1)" ;;
  esac
}
KEY_ARGS=()
if [ -n "$ACCOUNT_KEY_FILE" ]; then  # every tool reads the key from the file; it never goes on a command line
  KEY_ARGS=(--account-key-file "$ACCOUNT_KEY_FILE")
  export VMBACKUP_ACCOUNT_KEY_FILE="$ACCOUNT_KEY_FILE"
fi
if [ -n "$BLOB_ENDPOINT" ]; then
  ENDPOINT="$BLOB_ENDPOINT"
else
  start_azurite "$WORK/azurite" "$AZURITE"
fi
echo "== storage: $ENDPOINT (work folder $WORK)"

STATE="$WORK/backup-service"
SVC=("$BACKUPSVC" --state-dir "$STATE" "${KEY_ARGS[@]}")
echo "== 1. protect a VM (4 disks as page blobs, its certificate) with DefaultPolicy"
"${SVC[@]}" enable-for-vm --vm web01 --policy DefaultPolicy --blob-endpoint "$ENDPOINT" --disks 4 --locale de-de
echo "== 2. backup now: the service installs the extension, writes encrypted settings, runs vmsnapshot enable"
start=$(now)
"${SVC[@]}" backup --vm web01 --vmsnapshot "$VMSNAPSHOT"
row "snapshot: backup job, 4 disks (none)" "4 disks" "$(secs "$start")" "-" "$(consistency "$STATE/vms/web01/status/0.status")"
echo "-- the extension's status file ($STATE/vms/web01/status/0.status):"
cat "$STATE/vms/web01/status/0.status"; echo
"${SVC[@]}" extension list --vm web01
echo "-- the agent re-running the same sequence number: already processed, no new snapshot"
(cd "$STATE/vms/web01" && ConfigSequenceNumber=0 "$VMSNAPSHOT" enable --cert-dir "$STATE/vms/web01/certs")
"${SVC[@]}" list --vm web01
echo "== 3. restore recovery point rp-1 as VHD files"
start=$(now)
"${SVC[@]}" restore --vm web01 --recovery-point rp-1 --output "$WORK/restore-rp-1"
qemu-img info --image-opts "driver=vpc,force_size_calc=current_size,file.filename=$WORK/restore-rp-1/web01-disk0.vhd" | head -3
row "snapshot: restore rp-1 to VHD files" "$(du -sb --apparent-size "$WORK/restore-rp-1" | cut -f1) B" "$(secs "$start")" "-" "qemu-img reads them"

echo "== 4. application consistency: a VM with 4 VHD disks, a guest app writing two-disk transactions; vss-sim backups"
"${SVC[@]}" enable-for-vm --vm app01 --policy DefaultPolicy --blob-endpoint "$ENDPOINT" --disks 4
"$BACKUPSVC" prepare --vm-dir "$STATE/vms/app01" --blob-endpoint "$ENDPOINT" --disks 4 "${KEY_ARGS[@]}" >/dev/null
VSS_SOCKET="$(mktemp -u /tmp/vmbk-vss-XXXXXX.sock)"
"$GUESTAPP" run --blob-endpoint "$ENDPOINT" --log-disk app01-vhds/app01-disk0.vhd \
  --data-disk app01-vhds/app01-disk1.vhd --vss-socket "$VSS_SOCKET" "${KEY_ARGS[@]}" &
APPPID=$!
sleep 1
for i in 1 2 3; do
  start=$(now)
  "${SVC[@]}" backup --vm app01 --vmsnapshot "$VMSNAPSHOT" --freeze-provider vss-sim --vss-socket "$VSS_SOCKET"
  row "snapshot: backup $i of app01 under load (vss-sim)" "4 disks" "$(secs "$start")" "-" \
    "$(consistency "$(ls -t "$STATE"/vms/app01/status/*.status | head -1)")"
done
kill $APPPID; wait $APPPID || true; APPPID=""
"${SVC[@]}" restore --vm app01 --recovery-point rp-3 --output "$WORK/restore-app01-rp-3" >/dev/null
if "$GUESTAPP" check --log-vhd "$WORK/restore-app01-rp-3/app01-disk0.vhd" --data-vhd "$WORK/restore-app01-rp-3/app01-disk1.vhd"; then
  row "snapshot: restore app01 rp-3, check transactions" "2 of 4 disks" "-" "-" "consistent"
else
  row "snapshot: restore app01 rp-3, check transactions" "2 of 4 disks" "-" "-" "TORN"
  echo "FAIL: the restored recovery point holds a torn transaction"; exit 1
fi
echo "== 5. replay of every captured settings fixture"
FIXTURES=()
for d in testdata/protected_settings/*/; do
  [ "$(basename "$d")" = test_cert ] || FIXTURES+=("$d")
done
start=$(now)
"$VMSNAPSHOT" replay "${FIXTURES[@]}" --blob-endpoint "$ENDPOINT" --work-dir "$WORK/replay"
row "snapshot: replay of the captured fixtures" "${#FIXTURES[@]} fixtures" "$(secs "$start")" "-" "every code as expected"

echo "== offline seeding"
TOKEN=""
[ -n "$TOKEN_FILE" ] && TOKEN="$(cat "$TOKEN_FILE")"
BIN="$BIN" WORK="$WORK/offline" ENDPOINT="$ENDPOINT" SIZE_MIB="$SIZE_MIB" SUMMARY="$SUMMARY" \
  CONTROL_PLANE="$CONTROL_PLANE" TOKEN="$TOKEN" tools/offline_flow.sh

echo
echo "== summary (work folder $WORK)"
{ printf 'what\tsize\tseconds\tthroughput\tresult\n'; cat "$SUMMARY"; } | column -t -s $'\t'
echo "total: $(secs "$DEMO_START") s"
if [ "$KEEP" != 1 ]; then  # the bulky data goes; logs, states and the summary stay
  rm -rf "$WORK/offline/source" "$WORK/offline/staging/images" "$WORK/offline/bay" "$WORK/offline/restore" \
    "$WORK/azurite/data" "$WORK"/restore-* 2>/dev/null || true
  echo "(bulky data removed; run with --keep 1 to keep it)"
fi
