#!/usr/bin/env bash
# Secret hygiene over the README's main job (issue 8): tools/demo.sh runs both flows (64 MiB offline source) with
# the built binaries against an Azurite whose account key is a fresh random one (AZURITE_ACCOUNTS), handed to the
# tools only as a 0600 file. Then everything the run wrote (terminal output, logs, status files, settings, journals,
# job records, the simulators' state, every blob Azurite stored) is searched for the secrets it used: the account
# key, the recovery passwords, every private key, and any SAS signature. Zero hits outside the files meant to hold
# them; those files are 0600.
set -euo pipefail
: "${AZURITE_BLOB:?run through tools/test.sh (it passes --test_env=AZURITE_BLOB)}"
ROOT="$PWD"
W="${TEST_TMPDIR:-$(mktemp -d)}/demo"
rm -rf "$W"; mkdir -p "$W"
KEY="$(head -c 64 /dev/urandom | base64 -w0)"
(umask 077; printf '%s\n' "$KEY" >"$W/account.key")
export AZURITE_ACCOUNTS="devstoreaccount1:$KEY"
"$ROOT/tools/demo.sh" --bin "$ROOT" --work "$W/work" --azurite "$AZURITE_BLOB" --size-mib 64 --keep 1 \
  --account-key-file "$W/account.key" >"$W/terminal.log" 2>&1 || { tail -40 "$W/terminal.log"; echo "FAIL: the main job failed"; exit 1; }
tail -15 "$W/terminal.log"

# Files meant to hold secrets: keys, recovery passwords, publish settings, the control plane's job records (they
# carry the recovery passwords, as the real service does), and the handler settings files the guest agent writes
# (their public settings may carry a status blob SAS URI, as in the captured fixtures).
mapfile -t HOLDERS < <(find "$W" -type f \( -name '*.prv' -o -name '*.key' -o -name '*.recovery-password' \
  -o -name '*.p12' -o -name '*.publishsettings' -o -path '*/plane/state.json' -o -path '*/config/*.settings' \) | sort)
SECRETS=("$KEY")
while IFS= read -r f; do SECRETS+=("$(cat "$f")"); done < <(find "$W" -name '*.recovery-password')
while IFS= read -r f; do SECRETS+=("$(sed -n 5p "$f")"); done < <(find "$W" \( -name '*.prv' -o -name '*.key' \) ! -name account.key)
[ "${#SECRETS[@]}" -ge 6 ] || { echo "FAIL: expected the key, recovery passwords and private keys, found ${#SECRETS[@]}"; exit 1; }
fail=0
for f in "${HOLDERS[@]}"; do
  mode="$(stat -c %a "$f")"
  [ "$mode" = 600 ] || { echo "FAIL: ${f#$W/} holds a secret but has mode $mode"; fail=1; }
done
is_holder() { local h; for h in "${HOLDERS[@]}"; do [ "$1" = "$h" ] && return 0; done; return 1; }
for secret in "${SECRETS[@]}"; do
  while IFS= read -r f; do
    is_holder "$f" || { echo "FAIL: a secret appears in ${f#$W/}"; fail=1; }
  done < <(grep -rlF -- "$secret" "$W" 2>/dev/null || true)
done
# Any SAS signature (the backup service signs fresh SAS URIs for every job; only redacted forms may be written).
while IFS= read -r f; do
  is_holder "$f" || { echo "FAIL: a SAS signature appears in ${f#$W/}: $(grep -aoE 'sig=[A-Za-z0-9%+/=]{20,}' "$f" | head -1 | cut -c1-12)..."; fail=1; }
done < <(grep -rlaE 'sig=[A-Za-z0-9%+/=]{20,}' "$W" 2>/dev/null || true)
[ "$fail" = 0 ] || exit 1
echo "secret hygiene over the main job: ${#SECRETS[@]} secrets (account key, recovery passwords, private keys) and" \
     "every SAS signature: found only in their ${#HOLDERS[@]} holder files (all 0600); $(find "$W" -type f | wc -l) files searched"
