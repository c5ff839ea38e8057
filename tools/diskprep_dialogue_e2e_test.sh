#!/usr/bin/env bash
# Seed 004's DiskPrep dialogue with the real binaries through a pseudo-terminal (tools/diskprep_dialogue.py): two
# initial backups staged at one share (seedagent initiate), the Import/Export control plane simulator, simulated
# SATA drives; `diskprep s:<share>` answered as the seed describes, then the job checked in the control plane.
set -euo pipefail
ROOT="$PWD"
source "$ROOT/tools/lib.sh"
W="${TEST_TMPDIR:-$(mktemp -d)}/dialogue"
mkdir -p "$W"
PLANEPID=""
trap '[ -n "$PLANEPID" ] && kill $PLANEPID 2>/dev/null; true' EXIT
start_control_plane "$W/plane" "$ROOT/simulators/import_export/server"
SUB="1f2e3d4c-0000-4000-8000-00000000d1a1"
ACCOUNT="dialogueacct"
export VMBACKUP_CONTROL_PLANE="$CONTROL_PLANE" VMBACKUP_TOKEN="$TOKEN" VMBACKUP_AGENT_DIR="$W/agent"
curl -sSf -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"location":"westeurope","kind":"StorageV2","sku":{"name":"Standard_LRS"}}' \
  "$CONTROL_PLANE/subscriptions/$SUB/resourceGroups/offlinebackup/providers/Microsoft.Storage/storageAccounts/$ACCOUNT?api-version=2021-06-01" >/dev/null
(umask 077
 openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/mgmt.key" -out "$W/mgmt.crt" -subj /CN=mgmt -days 2 2>/dev/null
 openssl pkcs12 -export -in "$W/mgmt.crt" -inkey "$W/mgmt.key" -out "$W/mgmt.p12" -passout pass:
 printf '<PublishData><PublishProfile SchemaVersion="2.0" PublishMethod="AzureServiceManagementAPI"><Subscription Id="%s" Name="Backup" ServiceManagementUrl="https://management.core.windows.net" ManagementCertificate="%s"/></PublishProfile></PublishData>\n' \
   "$SUB" "$(base64 -w0 "$W/mgmt.p12")" >"$W/backup.publishsettings")

# Two servers' initial backups at one share: 12 MiB that does not compress, so it spans drives.
for s in a b; do
  mkdir -p "$W/source-$s"
  head -c $((12 << 20)) /dev/urandom >"$W/source-$s/data.bin"
  "$ROOT/offline_seed/agent/seedagent" initiate --source "$W/source-$s" --staging "$W/share/$s" \
    --publish-settings "$W/backup.publishsettings" --job-name "dialoguejob$s" --subscription-id $SUB \
    --storage-account $ACCOUNT --container offline >/dev/null
done
BAY="$W/bay"
SATASIM="$ROOT/simulators/sata/satasim"
"$SATASIM" create --bay "$BAY" --name usb1 --model "Model usb1" --serial SN-usb1 --capacity 64M --form-factor 2.5 \
  --media ssd --interface usb >/dev/null
"$SATASIM" create --bay "$BAY" --name small --model "Model small" --serial SN-small --capacity 24M --form-factor 2.5 \
  --media ssd --interface sata3 >/dev/null

DISKPREP="$ROOT/simulators/sata/diskprep" SATASIM="$SATASIM" BAY="$BAY" SHARE="$W/share" TRANSCRIPT="$W/terminal.log" \
  python3 "$ROOT/tools/diskprep_dialogue.py" "$(date -u +%F)" "1Z$(date +%s)NL"

# The control plane has the job with both drives, Shipping, and the return address's state.
"$ROOT/simulators/sata/diskprep" u: s:"$W/share/b" --status </dev/null | tee "$W/status.out"
grep -q "import job dialoguejobb: Shipping" "$W/status.out" || { echo "FAIL: the job is not Shipping"; exit 1; }
[ "$(grep -c "  drive SN-" "$W/status.out")" = 2 ] || { echo "FAIL: the job does not list 2 drives"; exit 1; }
curl -sSf -H "Authorization: Bearer $TOKEN" \
  "$CONTROL_PLANE/subscriptions/$SUB/resourceGroups/offlinebackup/providers/Microsoft.ImportExport/jobs/dialoguejobb?api-version=2021-01-01" \
  | grep -q '"stateOrProvince": *"Utrecht"' || { echo "FAIL: the job's return address lacks the state"; exit 1; }
# The recovery passwords never reached the terminal.
for f in "$W"/share/b/diskprep/*.recovery-password; do
  if grep -qF -- "$(cat "$f")" "$W/terminal.log"; then echo "FAIL: a recovery password was shown"; exit 1; fi
done
echo "PASS: seed 004's DiskPrep dialogue"
