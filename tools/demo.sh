#!/usr/bin/env bash
# The README's main job, end to end on the embedded default: a real blob server (Azurite) on loopback.
#
#   1. the backup service (simulator) provisions a VM: certificate, 4 disks as page blobs, handler folder, and
#      encrypted settings with fresh SAS URIs;
#   2. the extension runs `vmsnapshot enable` exactly as the guest agent would;
#   3. the backup service reads the status blob and verifies every snapshot (the recovery point);
#   4. a second backup job on the same VM (next sequence number), and a repeat of it ("already processed");
#   5. every captured settings fixture is replayed (testdata/protected_settings).
#
# Safe to repeat: each run uses a new work folder (kept, and printed) and its own Azurite, killed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
bazel build -c opt //snapshot:vmsnapshot //simulators/backup_service:backupsvc
BIN="$(bazel info -c opt bazel-bin 2>/dev/null)"
VMSNAPSHOT="$BIN/snapshot/vmsnapshot"
BACKUPSVC="$BIN/simulators/backup_service/backupsvc"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/vmbackup-demo.XXXXXX")"
AZLOG="$WORK/azurite.log"
(cd "$WORK" && exec "$OLDPWD/tools/node/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort 0 \
  --inMemoryPersistence --skipApiVersionCheck --loose >"$AZLOG" 2>&1) &
AZPID=$!
trap 'kill -9 $AZPID 2>/dev/null || true' EXIT
PORT=""
for _ in $(seq 1 300); do
  PORT="$(sed -n 's|.*listens on http://127.0.0.1:\([0-9]*\).*|\1|p' "$AZLOG" | head -1)"
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { echo "demo: Azurite did not start:"; cat "$AZLOG"; exit 1; }
ENDPOINT="http://127.0.0.1:$PORT/devstoreaccount1"
echo "== Azurite on $ENDPOINT (work folder $WORK)"

VM="$WORK/vm-web01"
echo "== 1. backup service prepares a backup job"
"$BACKUPSVC" prepare --vm-dir "$VM" --blob-endpoint "$ENDPOINT" --disks 4 --locale de-de
echo "== 2. the guest agent runs the extension"
"$VMSNAPSHOT" enable --handler-environment "$VM/HandlerEnvironment.json" --cert-dir "$VM/certs"
echo "-- status file $VM/status/0.status:"
cat "$VM/status/0.status"; echo
echo "== 3. backup service collects the recovery point"
"$BACKUPSVC" collect --vm-dir "$VM" --blob-endpoint "$ENDPOINT"
echo "== 4. next scheduled backup, then the agent repeating it"
"$BACKUPSVC" prepare --vm-dir "$VM" --blob-endpoint "$ENDPOINT" --disks 4 --locale de-de
"$VMSNAPSHOT" enable --handler-environment "$VM/HandlerEnvironment.json" --cert-dir "$VM/certs"
"$VMSNAPSHOT" enable --handler-environment "$VM/HandlerEnvironment.json" --cert-dir "$VM/certs"
"$BACKUPSVC" collect --vm-dir "$VM" --blob-endpoint "$ENDPOINT"
echo "== 5. replay of every captured settings fixture"
FIXTURES=()
for d in testdata/protected_settings/*/; do
  [ "$(basename "$d")" = test_cert ] || FIXTURES+=("$d")
done
"$VMSNAPSHOT" replay "${FIXTURES[@]}" --blob-endpoint "$ENDPOINT" --work-dir "$WORK/replay"
echo "== demo finished; everything it wrote is in $WORK"
