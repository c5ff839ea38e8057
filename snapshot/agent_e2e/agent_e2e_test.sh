#!/usr/bin/env bash
# The real Azure Linux guest agent (Debian's waagent 2.7.3, its own Python code) installs, enables, updates, disables
# and uninstalls the VMSnapshot handler package as it does on a VM, against Azurite; Microsoft's @azure/storage-blob
# SDK sets up the disks and checks the snapshots and blobs. See waagent_driver.py for what runs and what is checked.
#
# Needs (tools/test.sh passes them with --test_env; the package comes from Bazel):
#   AZURITE_BLOB        the azurite-blob launcher (tools/node/node_modules/.bin/azurite-blob)
#   NODE_PATH           tools/node/node_modules (holds @azure/storage-blob)
#   WAAGENT_PYTHONPATH  tools/waagent/dist-packages (holds azurelinuxagent; tools/fetch_waagent.sh brings it)
#   HANDLER_ZIP         the handler package (//snapshot:handler_package)
#   HANDLER_ZIP_V2      optional: the next version's package for the update flow (else HANDLER_ZIP again)
# A missing one fails the test (it never skips). Optional: WAAGENT_PYTHON (default /usr/bin/python3, Debian's python,
# the one waagent runs with), E2E_CASES (linux,windows,nosettings).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
missing=()
for v in AZURITE_BLOB NODE_PATH WAAGENT_PYTHONPATH HANDLER_ZIP; do
  [ -n "${!v:-}" ] || missing+=("$v")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "FAIL: ${missing[*]} not set. Run it as the project does: tools/test.sh (it runs tools/setup.sh, which brings"
  echo "      the guest agent into tools/waagent/, and passes --test_env=AZURITE_BLOB, NODE_PATH, WAAGENT_PYTHONPATH);"
  echo "      by hand: AZURITE_BLOB=\$PWD/tools/node/node_modules/.bin/azurite-blob NODE_PATH=\$PWD/tools/node/node_modules \\"
  echo "      WAAGENT_PYTHONPATH=\$PWD/tools/waagent/dist-packages HANDLER_ZIP=bazel-bin/snapshot/<package>.zip $0"
  exit 1
fi
PYTHON="${WAAGENT_PYTHON:-/usr/bin/python3}"
[ -x "$PYTHON" ] || { echo "FAIL: $PYTHON not found (Debian's python3, which waagent runs with)"; exit 1; }
command -v node >/dev/null || { echo "FAIL: node is not on PATH (tools/test.sh passes its folder in PATH)"; exit 1; }
command -v openssl >/dev/null || { echo "FAIL: openssl is not on PATH"; exit 1; }
# Paths given relative to the runfiles root (Bazel's $(rootpath ...)) become absolute before anything changes folder.
abs() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
HANDLER_ZIP="$(abs "$HANDLER_ZIP")"
[ -z "${HANDLER_ZIP_V2:-}" ] || HANDLER_ZIP_V2="$(abs "$HANDLER_ZIP_V2")"
WAAGENT_PYTHONPATH="$(abs "$WAAGENT_PYTHONPATH")"
NODE_PATH="$(abs "$NODE_PATH")"
AZURITE_BLOB="$(abs "$AZURITE_BLOB")"
for f in "$HANDLER_ZIP" ${HANDLER_ZIP_V2:+"$HANDLER_ZIP_V2"}; do
  [ -f "$f" ] || { echo "FAIL: handler package $f does not exist"; exit 1; }
done
[ -d "$WAAGENT_PYTHONPATH/azurelinuxagent" ] || {
  echo "FAIL: $WAAGENT_PYTHONPATH holds no azurelinuxagent (run tools/fetch_waagent.sh, or tools/setup.sh)"; exit 1; }

W="${TEST_TMPDIR:-$(mktemp -d)}/agent_e2e"
rm -rf "$W"
mkdir -p "$W"

# tools/lib.sh (a data file of this test): start_azurite starts a blob server on a free loopback port.
source "$PWD/tools/lib.sh"

AZPID=""
cleanup() {
  # Azurite ignores SIGTERM for a while; its launcher's children go with the process group.
  if [ -n "$AZPID" ]; then
    pkill -9 -P "$AZPID" 2>/dev/null || true
    kill -9 "$AZPID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
start_azurite "$W/azurite" "$AZURITE_BLOB" || { echo "FAIL: Azurite did not start"; exit 1; }
echo "Azurite at $ENDPOINT (pid $AZPID)"

export ENDPOINT NODE_PATH WAAGENT_PYTHONPATH HANDLER_ZIP
[ -z "${HANDLER_ZIP_V2:-}" ] || export HANDLER_ZIP_V2
export WORK="$W/run" BLOBS_JS="$HERE/blobs.js" NODE="$(command -v node)"
# The agent never runs with a proxy to loopback; keep any proxy of the caller away from Azurite.
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
"$PYTHON" "$HERE/waagent_driver.py"
