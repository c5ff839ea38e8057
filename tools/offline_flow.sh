#!/usr/bin/env bash
# The offline seeding flow end to end with the real binaries (seed 004): a generated source tree, certgen, the
# initial backup to staging, diskprep s: across two simulated SATA drives, diskprep u: (shipping), the datacenter
# import into the storage account, the vault copy (recovery point 1), a change to 1% of the files, an incremental
# backup, and a restore compared byte for byte (and by mode, time and link target) with the source.
#
# Environment: BIN (folder holding the built binaries in their package paths: bazel-bin, or a test's runfiles),
# WORK (a new folder), ENDPOINT (the blob account, e.g. Azurite's http://127.0.0.1:PORT/devstoreaccount1),
# SIZE_MIB (source size, default 2048), SUMMARY (tab-separated rows are appended; see tools/lib.sh).
# SMALL_FILES=N adds N small files (0.5-2 KB, 1000 to a folder: tools/make_small_files.py) to the source, 1% of them
# rewritten before the incremental backup. SPARSE_GIB=N adds a VM-image-like sparse file of N GiB apparent, 1% of it
# data (1 MiB extents 100 MiB apart, half random, half text), a tenth of its extents rewritten before the incremental.
# After the incremental, a second one with nothing changed must send nothing. Each step's row notes its peak memory
# (RSS, from /usr/bin/time).
# Optional: CONTROL_PLANE and TOKEN (an Import/Export API to use instead of starting the simulator);
# RECORD_REQUESTS=FILE: every request the tools send to it goes through tools/azure_sdk_judge/proxy.js and is
# recorded in FILE (JSON lines, tokens redacted) for tools/azure_sdk_judge/check_requests.js (needs node).
# HOSTILE=1: a second source folder, the hostile tree of tools/treecheck (owners, xattrs and ACLs, hard links, a
# sparse file, extreme times, FIFO, devices, a socket), goes all the way too; the restore of it is judged by
# treecheck (content, type, mode, owner, xattrs, links, holes, times).
# Kill-and-resume mode (issue 8): KILL_DISKPREP, KILL_IMPORT, KILL_BACKUP (how many times diskprep s:, the
# datacenter import and the vault copy are killed with SIGKILL at random moments before they may finish; see
# run_killed in lib.sh), KILL_SEED (default 20261123). The staging location must come out unchanged, the drives
# must import with every range verified, and the restore must still equal the source.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/lib.sh"
: "${BIN:?}" "${WORK:?}" "${ENDPOINT:?}"
SIZE_MIB="${SIZE_MIB:-2048}" SMALL_FILES="${SMALL_FILES:-0}" SPARSE_GIB="${SPARSE_GIB:-0}"
SUMMARY="${SUMMARY:-$WORK/summary.tsv}"
SUB="1f2e3d4c-0000-4000-8000-00000000c0de"
JOB="seedjob$(date +%s)"
ACCOUNT="devstoreaccount1"
SEEDAGENT="$BIN/offline_seed/agent/seedagent"
DISKPREP="$BIN/simulators/sata/diskprep"  # diskprep's command line with --bay (the simulated drives)
mkdir -p "$WORK"
RANDOM="${KILL_SEED:-20261123}"
KILL_DISKPREP="${KILL_DISKPREP:-0}" KILL_IMPORT="${KILL_IMPORT:-0}" KILL_BACKUP="${KILL_BACKUP:-0}"
PLANEPID="" PROXYPID=""
trap '[ -n "$PLANEPID" ] && kill $PLANEPID 2>/dev/null; [ -n "$PROXYPID" ] && kill $PROXYPID 2>/dev/null; true' EXIT

if [ -z "${CONTROL_PLANE:-}" ]; then
  start_control_plane "$WORK/plane" "$BIN/simulators/import_export/server"
fi
if [ -n "${RECORD_REQUESTS:-}" ]; then
  : >"$WORK/proxy.log"
  node "$HERE/azure_sdk_judge/proxy.js" --upstream "$CONTROL_PLANE" --record "$RECORD_REQUESTS" >"$WORK/proxy.log" 2>&1 &
  PROXYPID=$!
  PROXIED=""
  for _ in $(seq 1 100); do
    PROXIED="$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$WORK/proxy.log" | head -1)"
    [ -n "$PROXIED" ] && break
    sleep 0.1
  done
  [ -n "$PROXIED" ] || { echo "the recording proxy did not start:"; cat "$WORK/proxy.log"; exit 1; }
  CONTROL_PLANE="$PROXIED"
fi
export VMBACKUP_CONTROL_PLANE="$CONTROL_PLANE" VMBACKUP_TOKEN="$TOKEN" VMBACKUP_BLOB_ENDPOINT="$ENDPOINT"
# This is the source computer (seedagent's folder and the scratch folder certgen registers the application in);
# diskprep s: runs as the copy computer below, with its own folder.
export VMBACKUP_AGENT_DIR="$WORK/agent" VMBACKUP_SCRATCH_DIR="$WORK/agent/scratch"
echo "== offline seeding: control plane $CONTROL_PLANE, storage $ENDPOINT, work folder $WORK"
# The job's storage account, as the admin created it in the portal.
curl -sSf -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"location":"westeurope","kind":"StorageV2","sku":{"name":"Standard_LRS"}}' \
  "$CONTROL_PLANE/subscriptions/$SUB/resourceGroups/offlinebackup/providers/Microsoft.Storage/storageAccounts/$ACCOUNT?api-version=2021-06-01" >/dev/null

echo "== a ${SIZE_MIB} MiB source tree (half incompressible, half text; non-ASCII names, a symlink, empty file and folder)"
SRC="$WORK/source"
mkdir -p "$SRC/data" "$SRC/logs" "$SRC/empty folder" "$SRC/Ärger/åäö"
# random_stream SEED: endless pseudo-random bytes (AES-CTR keystream: fast, reproducible per seed).
random_stream() { openssl enc -aes-128-ctr -pass pass:"$1" -nosalt -pbkdf2 -in /dev/zero 2>/dev/null; }
FILE_MIB=$(( SIZE_MIB >= 256 ? 8 : 1 ))
FILES=$(( SIZE_MIB / FILE_MIB ))
start=$(now)
for i in $(seq 1 $(( FILES / 2 ))); do
  head -c $(( FILE_MIB << 20 )) < <(random_stream "bin$i") >"$SRC/data/block-$i.bin"
  head -c $(( FILE_MIB * 786432 )) < <(random_stream "txt$i") | base64 -w 76 >"$SRC/logs/app-$i.log"
done
if [ "$SMALL_FILES" != 0 ]; then python3 "$HERE/make_small_files.py" "$SRC/small" "$SMALL_FILES"; fi
IMAGE="$SRC/vm/disk.img" EXTENTS=$(( SPARSE_GIB * 1024 / 100 ))
# image_extent I SEED: 1 MiB of data at the image's I-th extent (random for even I, text for odd).
image_extent() {
  if (( $1 % 2 == 0 )); then head -c 1048576 < <(random_stream "$2$1"); else
    head -c 786432 < <(random_stream "$2$1") | base64 -w 76; fi |
    dd of="$IMAGE" bs=1M seek=$(( $1 * 100 )) conv=notrunc status=none iflag=fullblock
}
if [ "$SPARSE_GIB" != 0 ]; then
  mkdir -p "$SRC/vm" && truncate -s "${SPARSE_GIB}G" "$IMAGE"
  for i in $(seq 0 $(( EXTENTS - 1 ))); do image_extent "$i" img; done
fi
echo "Grüße aus Köln" >"$SRC/Ärger/åäö/naïve café.txt"
: >"$SRC/empty"
chmod 0600 "$SRC/data/block-1.bin"
ln -s "data/block-1.bin" "$SRC/latest"
SRC_BYTES=$(du -sb --apparent-size "$SRC" | cut -f1)
echo "   $(find "$SRC" -type f | wc -l) files, $SRC_BYTES bytes, generated in $(secs "$start") s"

echo "== certgen: the offline application and its certificate"
"$BIN/offline_seed/certgen/certgen" CreateNewApplication SubscriptionId:$SUB --control-plane "$CONTROL_PLANE" \
  --token "$TOKEN" --user-id demo --cert-store "$WORK/agent/certs" --config-dir "$WORK/agent/config" \
  --scratch-dir "$WORK/agent/scratch" --output-dir "$WORK/agent"
"$BIN/offline_seed/certgen/certgen" AddRegistryEntries SubscriptionId:$SUB xmlfilepath:"$WORK/agent/OfflineApplicationParams.xml" \
  storageaccountname:$ACCOUNT --control-plane "$CONTROL_PLANE" --token "$TOKEN" --cert-store "$WORK/agent/certs" \
  --config-dir "$WORK/agent/config" --scratch-dir "$WORK/agent/scratch"

echo "== the publish settings file (management certificate as PKCS#12, made with openssl)"
(umask 077
 openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/mgmt.key" -out "$WORK/mgmt.crt" -subj /CN=mgmt -days 2 2>/dev/null
 openssl pkcs12 -export -in "$WORK/mgmt.crt" -inkey "$WORK/mgmt.key" -out "$WORK/mgmt.p12" -passout pass:
 printf '<PublishData><PublishProfile SchemaVersion="2.0" PublishMethod="AzureServiceManagementAPI"><Subscription Id="%s" Name="Backup" ServiceManagementUrl="https://management.core.windows.net" ManagementCertificate="%s"/></PublishProfile></PublishData>\n' \
   "$SUB" "$(base64 -w0 "$WORK/mgmt.p12")" >"$WORK/backup.publishsettings")

SOURCES=(--source "$SRC")
if [ "${HOSTILE:-0}" = 1 ]; then
  echo "== the hostile tree as a second source"
  python3 "$HERE/treecheck/treecheck.py" make-hostile "$WORK/hostile" --size-gib 1
  SOURCES+=(--source "$WORK/hostile")
fi

echo "== seedagent initiate: the compressed initial backup to the staging location"
STAGING="$WORK/staging"
start=$(now)
rss "$SEEDAGENT" initiate "${SOURCES[@]}" --staging "$STAGING" --publish-settings "$WORK/backup.publishsettings" \
  --job-name "$JOB" --subscription-id $SUB --storage-account $ACCOUNT --container offline
row "offline: initial backup to staging" "$SRC_BYTES B" "$(secs "$start")" "$(mbps "$SRC_BYTES" "$start")" \
  "staged $(du -sb "$STAGING/images" | cut -f1) B$(rss_note)"
"$SEEDAGENT" status --staging "$STAGING"
[ "$(cat "$WORK/agent/pending-import")" = "$(realpath "$STAGING")" ] \
  || { echo "FAIL: initiate did not record the staging location the source computer waits for"; exit 1; }

echo "== two simulated SATA drives; diskprep s: on the copy computer (p: given) prepares both (the job spans them)"
echo "   and creates the import job"
STAGED=$(du -sb "$STAGING/images" | cut -f1)
D1=$(( (STAGED / 2 + (17 << 20)) >> 20 ))M
D2=$(( (STAGED + (64 << 20)) >> 20 ))M
BAY="$WORK/bay"
"$BIN/simulators/sata/satasim" create --bay "$BAY" --name d1 --model "WDC WD10EZEX-00WN4A0" --serial WD-WCC6Y0000001 \
  --capacity "$D1" --form-factor 3.5 --media hdd --interface sata3
"$BIN/simulators/sata/satasim" create --bay "$BAY" --name d2 --model "Samsung SSD 870 EVO" --serial S6PNNS0T000002 \
  --capacity "$D2" --form-factor 2.5 --media ssd --interface sata3
staging_sums() { (cd "$STAGING" && find . -path ./diskprep -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum); }
[ "$KILL_DISKPREP" = 0 ] || staging_sums >"$WORK/staging.md5"
start=$(now)
run_killed "diskprep s:" "$KILL_DISKPREP" 500 \
  env VMBACKUP_AGENT_DIR="$WORK/copy-computer" "$DISKPREP" s:"$STAGING" p:"$WORK/backup.publishsettings" --bay "$BAY" \
  --drive d1 --drive d2 --yes --control-plane "$CONTROL_PLANE" --token "$TOKEN"
if [ "$KILL_DISKPREP" != 0 ]; then
  staging_sums | cmp -s - "$WORK/staging.md5" || { echo "FAIL: the staging location changed"; exit 1; }
  echo "   the staging location is unchanged (MD5 of every file)"
fi
row "offline: diskprep s: (2 drives, encrypt, verify)" "$STAGED B" "$(secs "$start")" "$(mbps "$STAGED" "$start")" "verified$(rss_note)"

echo "== diskprep u: on the source computer, with no s: or p:, finds the job it waits for: its status, then the"
echo "   shipping details; the job goes to Shipping"
"$DISKPREP" u: | tee "$WORK/u-status.out"
grep -q "$JOB" "$WORK/u-status.out" || { echo "FAIL: u: alone did not find the job the source computer waits for"; exit 1; }
"$DISKPREP" u: --carrier UPS --tracking-number "1Z$(date +%s)US" --ship-date "$(date -u +%F)" --drive-count 2 \
  --contact "Backup Ops" --street "Main St 1" --city Utrecht --postal-code 3511 --country Netherlands \
  --phone "+31 30 000 0000" --email ops@example.com --return-account 9XY123 --yes
"$SEEDAGENT" status --staging "$STAGING"
"$SEEDAGENT" backup --staging "$STAGING"   # scheduled backup: nothing to do yet

echo "== the datacenter receives the package and imports the drives into the storage account"
start=$(now)
run_killed "datacenter import" "$KILL_IMPORT" 1500 \
  "$BIN/simulators/import_export/datacenter" receive --job "$JOB" --subscription $SUB --drive "$BAY/d1.img" \
  --drive "$BAY/d2.img" --blob-endpoint "$ENDPOINT" --control-plane "$CONTROL_PLANE" --token "$TOKEN" \
  | tee "$WORK/import.out"
if [ "$KILL_DISKPREP$KILL_IMPORT" != 00 ]; then  # every range of every drive verified and written
  grep -q "import job $JOB: Packaging$" "$WORK/import.out" && ! grep -q " [1-9][0-9]* corrupted)" "$WORK/import.out" \
    || { echo "FAIL: the import did not complete with every range verified"; exit 1; }
fi
row "offline: datacenter import (Put Page)" "$STAGED B" "$(secs "$start")" "$(mbps "$STAGED" "$start")" "drives Completed$(rss_note)"
"$DISKPREP" u: --status
"$SEEDAGENT" status --staging "$STAGING"

echo "== the next scheduled backup copies the seeded data into the vault (the drives are Completed while the job is"
echo "   Packaging for return shipping): recovery point 1"
if [ "${HOSTILE:-0}" = 1 ]; then  # play a staging location made before the job record kept its image count
  python3 - "$STAGING/offline-job.json" <<'PY'
import json, sys
job = json.load(open(sys.argv[1]))
assert job.pop("images") >= 1, "initiate recorded no image count"
json.dump(job, open(sys.argv[1], "w"))
PY
  echo "   (the job record's image count removed: the vault copy counts the images from the catalogue)"
fi
start=$(now)
run_killed "vault copy" "$KILL_BACKUP" 700 "$SEEDAGENT" backup --staging "$STAGING"
row "offline: vault copy (recovery point 1)" "$STAGED B" "$(secs "$start")" "$(mbps "$STAGED" "$start")" "every chunk checked$(rss_note)"
"$SEEDAGENT" status --staging "$STAGING"
echo "== the drives come back: the job, Packaging during the vault copy, is Completed"
"$BIN/simulators/import_export/datacenter" ship-back --job "$JOB" --subscription $SUB --control-plane "$CONTROL_PLANE" \
  --token "$TOKEN" | tee "$WORK/shipback.out"
grep -q "import job $JOB: Completed$" "$WORK/shipback.out" || { echo "FAIL: the job did not end Completed"; exit 1; }

echo "== a change to 1% of the data, then an incremental backup over the network"
if [ "$FILES" -ge 100 ]; then
  CHANGE="$(( FILES / 100 )) of $FILES files rewritten"
  for i in $(seq 1 $(( FILES / 100 ))); do
    head -c $(( FILE_MIB << 20 )) < <(random_stream "changed$i") >"$SRC/data/block-$(( i * 2 )).bin"
  done
else  # too few files for 1% of them: 1% of their bytes (the image aside) overwritten in place, in the middle of a file
  FILE_BYTES=$(du -sb --apparent-size --exclude=vm "$SRC" | cut -f1)
  CHANGE="$(( FILE_BYTES / 100 )) bytes overwritten in one file"
  head -c $(( FILE_BYTES / 100 )) < <(random_stream changed) | \
    dd of="$SRC/data/block-2.bin" bs=4096 seek=16 conv=notrunc status=none iflag=fullblock
fi
if [ "$SMALL_FILES" -ge 100 ]; then
  python3 "$HERE/make_small_files.py" --rewrite "$SRC/small" "$SMALL_FILES"
  CHANGE="$CHANGE; $(( SMALL_FILES / 100 )) of $SMALL_FILES small files rewritten"
fi
if [ "$SPARSE_GIB" != 0 ]; then
  for i in $(seq 0 10 $(( EXTENTS - 1 ))); do image_extent "$i" changed; done
  CHANGE="$CHANGE; $(( (EXTENTS + 9) / 10 )) of the image's $EXTENTS extents rewritten"
fi
echo "new file" >"$SRC/Ärger/new.txt"
# sent_bytes FILE: a recovery point's bytesUploaded from `seedagent backup --json` (absent when 0).
sent_bytes() { local n; n=$(sed -n 's/.*"bytesUploaded":"\{0,1\}\([0-9]*\).*/\1/p' "$1"); echo "${n:-0}"; }
start=$(now)
rss "$SEEDAGENT" backup --staging "$STAGING" --json >"$WORK/rp2.json"
SENT=$(sent_bytes "$WORK/rp2.json")
RP=$(grep -o '"number":[0-9]*' "$WORK/rp2.json" | head -1 | cut -d: -f2)
PCT=$(awk -v s="$SENT" -v t="$SRC_BYTES" 'BEGIN { printf "%.2f", 100 * s / t }')
echo "   recovery point $RP: sent $SENT bytes = $PCT% of the tree ($CHANGE)"
row "offline: incremental backup after a 1% change" "$SRC_BYTES B" "$(secs "$start")" "$(mbps "$SRC_BYTES" "$start")" "sent $SENT B ($PCT%)$(rss_note)"
awk -v p="$PCT" 'BEGIN { exit !(p <= 2.0) }' || { echo "FAIL: the incremental sent more than 2% of the tree"; exit 1; }
"$SEEDAGENT" recovery-points --staging "$STAGING"

echo "== another incremental backup, nothing changed: it reads no file again and sends nothing"
start=$(now)
rss "$SEEDAGENT" backup --staging "$STAGING" --json >"$WORK/rp3.json"
SENT=$(sent_bytes "$WORK/rp3.json")
row "offline: incremental backup, nothing changed" "$SRC_BYTES B" "$(secs "$start")" "$(mbps "$SRC_BYTES" "$start")" "sent $SENT B$(rss_note)"
[ "$SENT" = 0 ] || { echo "FAIL: an incremental with nothing changed sent $SENT bytes"; exit 1; }

echo "== restore recovery point $RP and compare with the source"
start=$(now)
rss "$SEEDAGENT" restore --staging "$STAGING" --recovery-point "$RP" --target "$WORK/restore"
row "offline: restore from the vault" "$SRC_BYTES B" "$(secs "$start")" "$(mbps "$SRC_BYTES" "$start")" "$(rss_note | sed 's/^, //'); checking"
if diff -r --no-dereference "$SRC" "$WORK/restore/0" >/dev/null && \
   diff <(tree_listing "$SRC") <(tree_listing "$WORK/restore/0") >/dev/null; then
  sed -i '$ s/checking$/byte-identical (data, modes, times, links)/' "$SUMMARY"
  echo "   the restore is identical to the source"
  if [ "$SPARSE_GIB" != 0 ]; then
    HELD=$(du -k "$IMAGE" | cut -f1) BACK=$(du -k "$WORK/restore/0/vm/disk.img" | cut -f1)
    echo "   the image holds $HELD KiB on disk, its restore $BACK KiB"
    (( BACK <= HELD + HELD / 10 )) || { echo "FAIL: the image's holes were filled in the restore"; exit 1; }
  fi
else
  sed -i '$ s/checking$/DIFFERENT/' "$SUMMARY"
  echo "FAIL: the restore differs from the source"; diff <(tree_listing "$SRC") <(tree_listing "$WORK/restore/0") | head; exit 1
fi
if [ "${HOSTILE:-0}" = 1 ]; then
  python3 "$HERE/treecheck/treecheck.py" compare "$WORK/hostile" "$WORK/restore/1" --ignore socket \
    || { echo "FAIL: the hostile tree came back different from the vault (above)"; exit 1; }
  echo "   the hostile tree is identical after drives, import, vault and restore (owners, xattrs, links, holes, times)"
  row "offline: hostile tree through the vault" "-" "-" "-" "identical (treecheck)"
fi
