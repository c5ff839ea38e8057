#!/usr/bin/env bash
# One protected item per staging location, never shared through a job name (issue 16, "identity"). With the real
# seedagent against the Import/Export API simulator and Azurite:
#  - initiate refuses a job name already used in the subscription, before writing anything;
#  - two staging locations get different item ids (the vault keys items by them);
#  - a staging location whose job name was taken by another server's job (tagged with that server's item) never
#    reports the import as done, never backs up into the vault and never says Protected, even when that job is
#    Completed with every drive imported.
set -euo pipefail
: "${AZURITE_BLOB:?run through tools/test.sh (it passes --test_env=AZURITE_BLOB)}"
ROOT="$PWD"
source "$ROOT/tools/lib.sh"
SEEDAGENT="$ROOT/offline_seed/agent/seedagent"
W="${TEST_TMPDIR:-$(mktemp -d)}/identity"
rm -rf "$W" && mkdir -p "$W"
fail() { echo "FAIL: $*"; exit 1; }
start_azurite "$W/azurite" "$AZURITE_BLOB"
start_control_plane "$W/plane" "$ROOT/simulators/import_export/server"
trap 'kill -9 $AZPID $PLANEPID 2>/dev/null || true' EXIT
export VMBACKUP_CONTROL_PLANE="$CONTROL_PLANE" VMBACKUP_TOKEN="$TOKEN" VMBACKUP_BLOB_ENDPOINT="$ENDPOINT"
export VMBACKUP_AGENT_DIR="$W/agent" VMBACKUP_SCRATCH_DIR="$W/agent/scratch"  # not the machine's own
SUB="5a4b3c2d-0000-4000-8000-0000000000aa"
api() {  # api METHOD PATH [BODY]
  curl -sS -f -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ${3:+-d "$3"} "$CONTROL_PLANE$2"
}
api PUT "/subscriptions/$SUB/resourceGroups/offlinebackup/providers/Microsoft.Storage/storageAccounts/acct?api-version=2021-06-01" \
  '{"location":"westeurope","kind":"StorageV2","sku":{"name":"Standard_LRS"}}' >/dev/null
(umask 077
 openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/mgmt.key" -out "$W/mgmt.crt" -subj /CN=mgmt -days 2 2>/dev/null
 openssl pkcs12 -export -in "$W/mgmt.crt" -inkey "$W/mgmt.key" -out "$W/mgmt.p12" -passout pass:
 printf '<PublishData><PublishProfile SchemaVersion="2.0" PublishMethod="AzureServiceManagementAPI"><Subscription Id="%s" Name="Backup" ServiceManagementUrl="https://management.core.windows.net" ManagementCertificate="%s"/></PublishProfile></PublishData>\n' \
   "$SUB" "$(base64 -w0 "$W/mgmt.p12")" >"$W/ps.xml")
mkdir -p "$W/src" && echo "server A's data" >"$W/src/a.txt"
initiate() {  # initiate STAGING JOB
  "$SEEDAGENT" initiate --source "$W/src" --staging "$1" --publish-settings "$W/ps.xml" --job-name "$2" \
    --subscription-id "$SUB" --storage-account acct --container offline
}
item_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["itemId"])' "$1/offline-job.json"; }

echo "== two staging locations, one job name (both staged before any job exists)"
initiate "$W/a" shared >/dev/null 2>&1 || fail "initiate a"
initiate "$W/b" shared >/dev/null 2>&1 || fail "initiate b"
[ "$(item_of "$W/a")" != "$(item_of "$W/b")" ] || fail "two staging locations got one item id"
echo "   item ids: $(item_of "$W/a") and $(item_of "$W/b")"

echo "== server B's diskprep creates the job (tagged with B's item); Azure imports its drives"
job=$(printf '{"location":"westeurope","tags":{"vmbackupItem":"%s"},"properties":{"storageAccountId":"/subscriptions/%s/resourceGroups/offlinebackup/providers/Microsoft.Storage/storageAccounts/acct","jobType":"Import","driveList":[{"driveId":"WD-B0001","bitLockerKey":"111111-222222-333333-444444-555555-666666-777777-888888"}]}}' \
  "$(item_of "$W/b")" "$SUB")
api PUT "/subscriptions/$SUB/resourceGroups/offlinebackup/providers/Microsoft.ImportExport/jobs/shared?api-version=2021-01-01" "$job" >/dev/null
api GET "/subscriptions/$SUB/resourceGroups/offlinebackup/providers/Microsoft.ImportExport/jobs/shared?api-version=2021-01-01" |
  python3 -c 'import json,sys; j=json.load(sys.stdin); j["properties"]["state"]="Completed"
for d in j["properties"]["driveList"]: d["state"]="Completed"
print(json.dumps(j))' >"$W/completed.json"
api PUT "/internal/datacenter/jobs/$SUB/offlinebackup/shared" "$(cat "$W/completed.json")" >/dev/null

echo "== a third server: the job name is in use, refused before anything is written"
set +e; initiate "$W/c" shared >"$W/c.out" 2>&1; rc=$?; set -e
cat "$W/c.out"
[ "$rc" = 1 ] || fail "initiate with a used job name exited $rc"
grep -q "the import job name shared is already used in subscription $SUB" "$W/c.out" || fail "no clear message"
[ ! -e "$W/c" ] || fail "initiate wrote $W/c although it refused"

echo "== server A: the job of its name is B's; A never imports, never writes into the vault, never says Protected"
"$SEEDAGENT" status --staging "$W/a" | tee "$W/a-status.out"
grep -q "was not prepared from this staging location" "$W/a-status.out" || fail "status does not say the job is not A's"
! grep -q "Protected\|the drives are imported" "$W/a-status.out" || fail "status claims progress for A"
"$SEEDAGENT" status --staging "$W/a" --json | grep -q '"state":"WaitingForImport"' || fail "--json state"
"$SEEDAGENT" backup --staging "$W/a" | tee "$W/a-backup.out"
grep -q "no backup taken" "$W/a-backup.out" || fail "A's backup did something"
"$SEEDAGENT" recovery-points --staging "$W/a" | grep -q "no recovery points yet" || fail "A has recovery points"

echo "== server B: its own job is Completed; its item is not A's"
"$SEEDAGENT" status --staging "$W/b" | tee "$W/b-status.out"
grep -q "the drives are imported" "$W/b-status.out" || fail "B does not see its own job"
echo "PASS"
