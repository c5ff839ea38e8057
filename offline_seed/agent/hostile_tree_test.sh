#!/usr/bin/env bash
# What a backup keeps, judged by tools/treecheck (an independent walker: the kernel's view of both trees, no code of
# ours): a hostile source tree (owners and a set-uid file of another user, user/trusted xattrs and POSIX ACLs, hard
# links in one and in different folders, a 1 GiB sparse file, times before 1970 and after 2262, a FIFO, devices, a
# socket, names that are not UTF-8) through `seedagent initiate` and `restore-staging` must come back identical in
# content, type, mode, owner, xattrs, links, holes and times; GNU tar (--xattrs --acls --sparse) on the same tree
# must keep nothing we lose. Then, as an unprivileged user, unreadable entries must not stop the backup: they are
# listed and the exit status is 3.
set -euo pipefail
ROOT="$PWD"
source "$ROOT/tools/lib.sh"
SEEDAGENT="$ROOT/offline_seed/agent/seedagent"
TREECHECK="$ROOT/tools/treecheck/treecheck.py"
W="${TEST_TMPDIR:-$(mktemp -d)}/hostile"
rm -rf "$W" && mkdir -p "$W"
fail() { echo "FAIL: $*"; exit 1; }
# initiate checks the job name with the Import/Export API.
start_control_plane "$W/plane" "$ROOT/simulators/import_export/server"
U=""
trap 'kill $PLANEPID 2>/dev/null; [ -z "$U" ] || rm -rf "$U"' EXIT
export VMBACKUP_CONTROL_PLANE="$CONTROL_PLANE" VMBACKUP_TOKEN="$TOKEN"
export VMBACKUP_AGENT_DIR="$W/agent" VMBACKUP_SCRATCH_DIR="$W/agent/scratch"  # not the machine's own
# The job's storage account, as the admin created it in the portal (initiate checks it exists).
curl -sSf -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"location":"westeurope","kind":"StorageV2","sku":{"name":"Standard_LRS"}}' \
  "$CONTROL_PLANE/subscriptions/sub1/resourceGroups/offlinebackup/providers/Microsoft.Storage/storageAccounts/acct?api-version=2021-06-01" >/dev/null

(umask 077
 openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/mgmt.key" -out "$W/mgmt.crt" -subj /CN=mgmt -days 2 2>/dev/null
 openssl pkcs12 -export -in "$W/mgmt.crt" -inkey "$W/mgmt.key" -out "$W/mgmt.p12" -passout pass:
 printf '<PublishData><PublishProfile SchemaVersion="2.0" PublishMethod="AzureServiceManagementAPI"><Subscription Id="sub1" Name="Backup" ServiceManagementUrl="https://management.core.windows.net" ManagementCertificate="%s"/></PublishProfile></PublishData>\n' \
   "$(base64 -w0 "$W/mgmt.p12")" >"$W/ps.xml")
initiate() {  # initiate STAGING SOURCE...
  local staging="$1"; shift
  local args=()
  for s in "$@"; do args+=(--source "$s"); done
  "$SEEDAGENT" initiate "${args[@]}" --staging "$staging" --publish-settings "$W/ps.xml" --job-name hostile \
    --subscription-id sub1 --storage-account acct --container offline
}

echo "== the hostile tree"
python3 "$TREECHECK" make-hostile "$W/src" --size-gib 1

echo "== seedagent initiate, then restore-staging"
initiate "$W/staging" "$W/src" >"$W/initiate.out" 2>"$W/initiate.err" || fail "initiate exited $? ($(cat "$W/initiate.err"))"
cat "$W/initiate.out"; grep -v '%' "$W/initiate.err" || true
grep -q "skipped .*/special/sock: a socket" "$W/initiate.err" || fail "the socket was not named as not backed up"
staged=$(du -sb "$W/staging/images" | cut -f1)
[ "$staged" -lt $((8 << 20)) ] || fail "the staging location holds $staged bytes: the sparse file's holes were stored"
"$SEEDAGENT" restore-staging --staging "$W/staging" --output "$W/out" 2>&1 | tee "$W/restore.out"
if python3 "$TREECHECK" compare "$W/src" "$W/out/0" --ignore socket; then
  echo "   ours: identical in content, type, mode, owner, xattrs, links, holes and times"
else
  fail "the restore differs from the source (above)"
fi

echo "== GNU tar --xattrs --acls --sparse on the same tree"
tar --xattrs --xattrs-include='*' --acls --sparse -C "$W/src" -cpf "$W/tree.tar" . 2>"$W/tar.err" || true
mkdir -p "$W/tar-out"
tar --xattrs --xattrs-include='*' --acls --sparse --same-owner -C "$W/tar-out" -xpf "$W/tree.tar"
tar_lost="$(python3 "$TREECHECK" fields "$W/src" "$W/tar-out" --ignore socket || true)"
ours_lost="$(python3 "$TREECHECK" fields "$W/src" "$W/out/0" --ignore socket || true)"
echo "   tar loses: ${tar_lost:-nothing}; we lose: ${ours_lost:-nothing}"
for f in $ours_lost; do
  grep -qx "$f" <<<"$tar_lost" || fail "we lose $f, which tar keeps"
done

echo "== names Azure refuses and a storage account that does not exist: refused before anything is written"
for bad in "--job-name bad/job?x" "--container Offline_Data" "--storage-account nosuchaccount"; do
  set +e
  # shellcheck disable=SC2086
  out="$("$SEEDAGENT" initiate --source "$W/src" --staging "$W/refused" --publish-settings "$W/ps.xml" \
    --job-name okjob --subscription-id sub1 --storage-account acct --container offline $bad 2>&1)"
  rc=$?
  set -e
  [ "$rc" != 0 ] || fail "initiate accepted $bad"
  [ ! -e "$W/refused" ] || fail "initiate with $bad left $W/refused behind"
  echo "   $bad: exit $rc: $out"
done

echo "== a relative --source is recorded absolute"
(cd "$W" && initiate "$W/staging-rel" ./src/../src >/dev/null 2>&1) || fail "initiate with a relative source failed"
grep -q "\"$W/src\"" "$W/staging-rel/offline-job.json" || fail "the source was not recorded as $W/src"

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  echo "== unreadable entries, as an unprivileged user: listed, the backup goes on, exit status 3"
  U="$(mktemp -d /tmp/hostile-unpriv.XXXXXX)"  # the test's own folder is beneath /root, closed to the user
  chmod 0755 "$U"
  mkdir -p "$U/src/locked-dir" "$U/src/open"
  echo secret >"$U/src/locked.txt"; echo ok >"$U/src/open/readable.txt"; echo x >"$U/src/locked-dir/inner"
  chmod 000 "$U/src/locked.txt" "$U/src/locked-dir"
  cp "$W/ps.xml" "$U/ps.xml"
  chown -R 65534:65534 "$U"
  set +e
  setpriv --reuid=65534 --regid=65534 --clear-groups "$SEEDAGENT" initiate --source "$U/src" --staging "$U/staging" \
    --publish-settings "$U/ps.xml" --job-name locked --subscription-id sub1 --storage-account acct --container offline \
    --json >"$U/out.json" 2>"$U/err"
  rc=$?
  set -e
  cat "$U/err" | grep -v '%' || true
  [ "$rc" = 3 ] || fail "exit status $rc, want 3 (incomplete)"
  grep -q "unreadable .*/locked.txt" "$U/err" || fail "locked.txt is not listed"
  grep -q "unreadable .*/locked-dir" "$U/err" || fail "locked-dir is not listed"
  grep -q '"kind": *"unreadable"' "$U/out.json" || fail "--json has no unreadable problem"
  setpriv --reuid=65534 --regid=65534 --clear-groups "$SEEDAGENT" restore-staging --staging "$U/staging" \
    --output "$U/out" 2>"$U/restore.err"
  grep -q "owners were not restored" "$U/restore.err" || fail "a restore as a user did not say owners were not restored"
  [ "$(cat "$U/out/0/open/readable.txt")" = ok ] || fail "the readable file did not come back"
  [ ! -e "$U/out/0/locked.txt" ] || fail "the unreadable file was restored (as what?)"
fi
echo "PASS"
