#!/usr/bin/env bash
# The seeds' Azure CLI commands, typed as the seeds print them, work against backupsvc (issue 18):
#   az backup protection enable-for-vm --resource-group … --vault-name … --vm … --policy-name DefaultPolicy
#   az vm extension list --resource-group … --vm-name … -o table
# with a real backup (the real vmsnapshot binary) between them, against Azurite.
set -euo pipefail
BACKUPSVC="$PWD/simulators/backup_service/backupsvc"
VMSNAPSHOT="$PWD/snapshot/vmsnapshot"
source tools/lib.sh
: "${AZURITE_BLOB:?run tools/setup.sh (it writes .setup.bazelrc with the Azurite path)}"
W="$TEST_TMPDIR/az"
mkdir -p "$W"
start_azurite "$W/azurite" "$AZURITE_BLOB"
trap 'kill -9 $AZPID 2>/dev/null || true' EXIT
export VMBACKUP_STATE_DIR="$W/state" VMBACKUP_BLOB_ENDPOINT="$ENDPOINT"
fail() { echo "FAIL: $*" >&2; exit 1; }
run() {  # run CMD...: sets OUT and RC
  set +e
  OUT="$("$@" 2>&1)"
  RC=$?
  set -e
}

run "$BACKUPSVC" backup protection enable-for-vm --resource-group myResourceGroup \
  --vault-name myRecoveryServicesVault --vm myVM --policy-name DefaultPolicy
[ "$RC" = 0 ] || fail "enable-for-vm as the seeds write it: exit $RC: $OUT"
grep -q 'protected VM myVM with policy DefaultPolicy' <<<"$OUT" || fail "enable-for-vm said: $OUT"

run "$BACKUPSVC" vm extension list --resource-group myResourceGroup --vm-name myVM -o table
[ "$RC" = 0 ] || fail "extension list as the seeds write it: exit $RC: $OUT"
head -1 <<<"$OUT" | grep -q '^Name .*ProvisioningState' || fail "no table header: $OUT"
! grep -q VMSnapshot <<<"$OUT" || fail "the extension is listed before the first backup: $OUT"

run "$BACKUPSVC" backup --vm myVM --vmsnapshot "$VMSNAPSHOT" --resource-group myResourceGroup
[ "$RC" = 0 ] || fail "backup: exit $RC: $OUT"

run "$BACKUPSVC" vm extension list --resource-group myResourceGroup --vm-name myVM -o table
grep -q '^VMSnapshot .*Succeeded .*Microsoft.Azure.RecoveryServices' <<<"$OUT" || fail "after a backup: $OUT"
# The version the seeds show the service deploying ("typeHandlerVersion": "1.9"), which is the handler's own
# (snapshot/version.bzl, passed as $1) and what the installed binary says.
VERSION="${1:?the handler version (snapshot/version.bzl)}"
[ "$VERSION" = 1.9 ] || fail "snapshot/version.bzl says $VERSION, the seeds' typeHandlerVersion is 1.9"
[ "$("$VMSNAPSHOT" --version)" = "Microsoft.Azure.RecoveryServices.VMSnapshot $VERSION" ] || fail "vmsnapshot --version"
grep -q "^VMSnapshot .* $VERSION  *True" <<<"$OUT" || fail "extension list does not show version $VERSION: $OUT"
run "$BACKUPSVC" vm extension list --resource-group myResourceGroup --vm-name myVM -o json
[ "$RC" = 0 ] || fail "-o json: exit $RC: $OUT"
python3 -c '
import json, sys
ext = json.loads(sys.argv[1])
assert isinstance(ext, list) and len(ext) == 1, ext
e = ext[0]
assert e["name"] == "VMSnapshot" and e["provisioningState"] == "Succeeded", e
assert e["publisher"] == "Microsoft.Azure.RecoveryServices" and e["resourceGroup"] == "myResourceGroup", e
assert e["typeHandlerVersion"] == sys.argv[2], e
' "$OUT" "$VERSION" || fail "-o json printed: $OUT"

# Mistakes an admin makes with these commands: each refused with what to fix, nothing changed.
run "$BACKUPSVC" vm extension list --resource-group otherGroup --vm-name myVM -o table
[ "$RC" = 1 ] && grep -q 'not found in resource group otherGroup (it is protected in myResourceGroup)' <<<"$OUT" ||
  fail "a wrong resource group: exit $RC: $OUT"
run "$BACKUPSVC" backup protection enable-for-vm --resource-group myResourceGroup --vault-name v --vm db01 \
  --policy-name GoldPolicy
[ "$RC" = 1 ] && grep -q 'available: DefaultPolicy' <<<"$OUT" || fail "an unknown policy: exit $RC: $OUT"
run "$BACKUPSVC" vm extension list --vm-name myVM -o yaml
[ "$RC" = 2 ] && grep -q 'takes table or json' <<<"$OUT" || fail "-o yaml: exit $RC: $OUT"
run "$BACKUPSVC" vm extension list --vm-name myVM --vm other
[ "$RC" = 2 ] && grep -q 'name different values' <<<"$OUT" || fail "--vm-name and --vm disagreeing: exit $RC: $OUT"
[ -z "$(find "$VMBACKUP_STATE_DIR" -path "*db01*" -print -quit)" ] || fail "a refused enable-for-vm left state behind"
echo "PASS: the seeds' az commands"
