#!/usr/bin/env bash
# Microsoft's generated SDK (@azure/arm-storageimportexport 2.1.0, api-version 2021-01-01) judges the Import/Export
# control plane simulator: sdk_suite.js calls every operation the SDK has, plus bad input, through a TLS terminator
# (proxy.js: the SDK sends no bearer token over plain http) that records every exchange; check_requests.js then checks
# the SDK's own recorded requests against the SDK's specs (a check of the checker: they must pass).
#
#   import_export_sdk_e2e_test.sh SERVER_BINARY
#
# Needs NODE_PATH (tools/node/node_modules, holding @azure/arm-storageimportexport and @azure/arm-storage; tools/test.sh
# passes it with --test_env), and node and openssl on PATH. A missing one fails the test (it never skips).
# Works in $TEST_TMPDIR (a new temporary folder when run by hand); KEEP=1 leaves it and prints where.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVER="${1:-}"
if [ -z "$SERVER" ]; then
  echo "FAIL: usage: $0 SERVER_BINARY (the simulator, bazel-bin/simulators/import_export/server)"
  exit 1
fi
abs() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
SERVER="$(abs "$SERVER")"
[ -x "$SERVER" ] || { echo "FAIL: $SERVER is not an executable (the simulator's server binary)"; exit 1; }
if [ -z "${NODE_PATH:-}" ]; then
  echo "FAIL: NODE_PATH is not set. Run it as the project does: tools/test.sh (it runs tools/setup.sh and passes"
  echo "      --test_env=NODE_PATH); by hand: NODE_PATH=\$PWD/tools/node/node_modules $0 $1"
  exit 1
fi
NODE_PATH="$(abs "$NODE_PATH")"
export NODE_PATH
for p in @azure/arm-storageimportexport @azure/arm-storage; do
  [ -d "$NODE_PATH/$p" ] || { echo "FAIL: $NODE_PATH has no $p (run tools/setup.sh: npm ci of tools/node/package-lock.json)"; exit 1; }
done
command -v node >/dev/null || { echo "FAIL: node is not on PATH (tools/test.sh passes its folder in PATH)"; exit 1; }
command -v openssl >/dev/null || { echo "FAIL: openssl is not on PATH"; exit 1; }

W="${TEST_TMPDIR:-$(mktemp -d)}/import_export_sdk"
rm -rf "$W"
mkdir -p "$W"

SERVERPID=""
PROXYPID=""
cleanup() {
  [ -n "$PROXYPID" ] && kill "$PROXYPID" 2>/dev/null || true
  [ -n "$SERVERPID" ] && kill "$SERVERPID" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $W"; fi
}
trap cleanup EXIT

# wait_for FILE SED_EXPR: the first match of SED_EXPR in FILE, waiting up to 10 s for it.
wait_for() {
  local v=""
  for _ in $(seq 1 100); do
    v="$(sed -n "$2" "$1" | head -1)"
    [ -n "$v" ] && break
    sleep 0.1
  done
  printf '%s' "$v"
}

# A self-signed certificate for 127.0.0.1, made now; the SDK's process trusts it through NODE_EXTRA_CA_CERTS.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/tls.key" -out "$W/tls.crt" -days 2 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>"$W/openssl.log" \
  || { echo "FAIL: openssl could not make the test certificate:"; cat "$W/openssl.log"; exit 1; }

TOKEN="$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
: >"$W/server.log"
"$SERVER" --state-dir "$W/state" --token "$TOKEN" >"$W/server.log" 2>&1 &
SERVERPID=$!
UPSTREAM="$(wait_for "$W/server.log" 's|.*listening on \(http://[0-9.:]*\).*|\1|p')"
[ -n "$UPSTREAM" ] || { echo "FAIL: the simulator did not start:"; cat "$W/server.log"; exit 1; }

: >"$W/proxy.log"
node "$HERE/proxy.js" --upstream "$UPSTREAM" --record "$W/sdk.jsonl" --tls-cert "$W/tls.crt" --tls-key "$W/tls.key" \
  --port 0 >"$W/proxy.log" 2>&1 &
PROXYPID=$!
ENDPOINT="$(wait_for "$W/proxy.log" 's|^listening on \(https://[0-9.:]*\).*|\1|p')"
[ -n "$ENDPOINT" ] || { echo "FAIL: the TLS proxy did not start:"; cat "$W/proxy.log"; exit 1; }
echo "simulator $UPSTREAM (pid $SERVERPID), TLS proxy $ENDPOINT (pid $PROXYPID), work folder $W"

status=0
NODE_EXTRA_CA_CERTS="$W/tls.crt" node "$HERE/sdk_suite.js" --endpoint "$ENDPOINT" --token "$TOKEN" || status=$?

echo "== the SDK's own requests against the SDK's specs (check_requests.js; bad-input and hook requests left out)"
checker=0
node "$HERE/check_requests.js" --skip-tagged "$W/sdk.jsonl" >"$W/check_requests.out" 2>&1 || checker=$?
if [ "$checker" != 0 ]; then
  grep -E '^(FAIL|UNMATCHED)' "$W/check_requests.out" | head -40 || true
  tail -1 "$W/check_requests.out"
  echo "FAIL: check_requests.js rejects requests that Microsoft's SDK made (a checker bug, or the SDK followed a bad nextLink)"
  [ "$status" != 0 ] || status=1
else
  tail -1 "$W/check_requests.out"
fi
exit "$status"
