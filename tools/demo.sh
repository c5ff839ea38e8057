#!/usr/bin/env bash
# The README's main job, end to end on the embedded default: a real blob server (Azurite) on loopback.
#
#   1. the backup service (simulator) protects a VM: certificate, 4 disks as page blobs with data;
#   2. a backup job: it installs the extension, writes encrypted settings with fresh SAS URIs, runs the real
#      `vmsnapshot enable` as a subprocess (as the guest agent does), reads the status blob, verifies every
#      snapshot and records the recovery point;
#   3. a second backup, and the agent repeating it ("already processed", no new snapshot);
#   4. a recovery point restored as VHD files (checked with qemu-img);
#   5. application consistency: a guest app writes transactions across two disks while backups run with the
#      vss-sim freeze provider; every restored recovery point holds only whole transactions;
#   6. every captured settings fixture is replayed (testdata/protected_settings).
#
# Safe to repeat: each run uses a new work folder (kept, and printed) and its own Azurite, killed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
bazel build -c opt //snapshot:vmsnapshot //simulators/backup_service:backupsvc //simulators/vss:guestapp
BIN="$(bazel info -c opt bazel-bin 2>/dev/null)"
VMSNAPSHOT="$BIN/snapshot/vmsnapshot"
BACKUPSVC="$BIN/simulators/backup_service/backupsvc"
GUESTAPP="$BIN/simulators/vss/guestapp"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/vmbackup-demo.XXXXXX")"
AZLOG="$WORK/azurite.log"
(cd "$WORK" && exec "$OLDPWD/tools/node/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort 0 \
  --inMemoryPersistence --skipApiVersionCheck --loose >"$AZLOG" 2>&1) &
AZPID=$!
APPPID=""
trap 'kill $APPPID 2>/dev/null || true; kill -9 $AZPID 2>/dev/null || true' EXIT
PORT=""
for _ in $(seq 1 300); do
  PORT="$(sed -n 's|.*listens on http://127.0.0.1:\([0-9]*\).*|\1|p' "$AZLOG" | head -1)"
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { echo "demo: Azurite did not start:"; cat "$AZLOG"; exit 1; }
ENDPOINT="http://127.0.0.1:$PORT/devstoreaccount1"
echo "== Azurite on $ENDPOINT (work folder $WORK)"

STATE="$WORK/backup-service"
SVC=("$BACKUPSVC" --state-dir "$STATE")
echo "== 1. protect a VM (4 disks as page blobs, its certificate) with DefaultPolicy"
"${SVC[@]}" enable-for-vm --vm web01 --policy DefaultPolicy --blob-endpoint "$ENDPOINT" --disks 4 --locale de-de
echo "== 2. backup now: the service installs the extension, writes encrypted settings, runs vmsnapshot enable"
"${SVC[@]}" backup --vm web01 --vmsnapshot "$VMSNAPSHOT"
echo "-- the extension's status file ($STATE/vms/web01/status/0.status):"
cat "$STATE/vms/web01/status/0.status"; echo
"${SVC[@]}" extension list --vm web01
echo "== 3. the next scheduled backup, then the agent re-running the same sequence number"
"${SVC[@]}" backup --vm web01 --vmsnapshot "$VMSNAPSHOT"
(cd "$STATE/vms/web01" && ConfigSequenceNumber=1 "$VMSNAPSHOT" enable --cert-dir "$STATE/vms/web01/certs")
"${SVC[@]}" list --vm web01
echo "== 4. restore recovery point rp-1 as VHD files"
"${SVC[@]}" restore --vm web01 --recovery-point rp-1 --output "$WORK/restore-rp-1"
qemu-img info --image-opts "driver=vpc,force_size_calc=current_size,file.filename=$WORK/restore-rp-1/web01-disk0.vhd" | head -3
echo "== 5. application consistency: a guest app writes two-disk transactions flat out; backups with vss-sim"
"${SVC[@]}" enable-for-vm --vm app01 --policy DefaultPolicy --blob-endpoint "$ENDPOINT" --disks 2
"$BACKUPSVC" prepare --vm-dir "$STATE/vms/app01" --blob-endpoint "$ENDPOINT" --disks 2 >/dev/null  # creates the disks
VSS_SOCKET="$(mktemp -u /tmp/vmbk-vss-XXXXXX.sock)"
"$GUESTAPP" run --blob-endpoint "$ENDPOINT" --log-disk app01-vhds/app01-disk0.vhd \
  --data-disk app01-vhds/app01-disk1.vhd --vss-socket "$VSS_SOCKET" &
APPPID=$!
sleep 1
for i in 1 2 3; do
  "${SVC[@]}" backup --vm app01 --vmsnapshot "$VMSNAPSHOT" --freeze-provider vss-sim --vss-socket "$VSS_SOCKET"
done
kill $APPPID; wait $APPPID || true; APPPID=""
for rp in rp-1 rp-2 rp-3; do
  "${SVC[@]}" restore --vm app01 --recovery-point $rp --output "$WORK/restore-app01-$rp" >/dev/null
  echo -n "$rp: "
  "$GUESTAPP" check --log-vhd "$WORK/restore-app01-$rp/app01-disk0.vhd" --data-vhd "$WORK/restore-app01-$rp/app01-disk1.vhd"
done
echo "== 6. replay of every captured settings fixture"
FIXTURES=()
for d in testdata/protected_settings/*/; do
  [ "$(basename "$d")" = test_cert ] || FIXTURES+=("$d")
done
"$VMSNAPSHOT" replay "${FIXTURES[@]}" --blob-endpoint "$ENDPOINT" --work-dir "$WORK/replay"
echo "== demo finished; everything it wrote is in $WORK"
