#!/usr/bin/env bash
# Brings the Azure Linux guest agent's Python module (Debian's waagent package) into tools/waagent/dist-packages/
# for the guest-agent end-to-end test (snapshot/agent_e2e). Called by tools/setup.sh.
#
# Only the package's files are unpacked (apt-get download + dpkg-deb -x) and only usr/lib/python3/dist-packages is
# kept: nothing is installed system-wide, no service is started, no maintainer script runs. Safe to repeat: skipped
# when tools/waagent/VERSION already names the pinned version. The module runs with Debian's /usr/bin/python3 and
# needs python3-distro and distutils (python3-distutils), which tools/setup.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."

WAAGENT_VERSION="${WAAGENT_VERSION:-2.7.3.0-4.1}"  # Debian 12 (bookworm); the test's expectations follow this agent
DEST=tools/waagent
STAMP="$DEST/VERSION"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WAAGENT_VERSION" ] && [ -f "$DEST/dist-packages/azurelinuxagent/__init__.py" ]; then
  echo "setup: waagent $WAAGENT_VERSION present ($DEST)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "setup: fetching waagent $WAAGENT_VERSION (unpacked into $DEST, not installed)"
# apt-get download needs the package lists; refresh them once if the version is not known yet.
if ! (cd "$tmp" && apt-get download -qq "waagent=$WAAGENT_VERSION" 2>"$tmp/err"); then
  $SUDO apt-get update -qq
  (cd "$tmp" && apt-get download -qq "waagent=$WAAGENT_VERSION") || {
    echo "setup: cannot download waagent=$WAAGENT_VERSION:" >&2
    cat "$tmp/err" >&2
    apt-cache policy waagent >&2 || true
    exit 1
  }
fi
deb="$(ls "$tmp"/waagent_*.deb)"
got="$(dpkg-deb -f "$deb" Version)"
[ "$got" = "$WAAGENT_VERSION" ] || { echo "setup: downloaded waagent $got, wanted $WAAGENT_VERSION" >&2; exit 1; }
dpkg-deb -x "$deb" "$tmp/root"
[ -f "$tmp/root/usr/lib/python3/dist-packages/azurelinuxagent/__init__.py" ] || {
  echo "setup: $deb holds no usr/lib/python3/dist-packages/azurelinuxagent" >&2; exit 1; }

rm -rf "$DEST.new"
mkdir -p "$DEST.new"
mv "$tmp/root/usr/lib/python3/dist-packages" "$DEST.new/dist-packages"
find "$DEST.new" -name __pycache__ -prune -exec rm -rf {} +
printf '%s\n' "$WAAGENT_VERSION" >"$DEST.new/VERSION"
rm -rf "$DEST"
mv "$DEST.new" "$DEST"

# The module must import with the python it runs with (Debian's), or the test would fail later with less to go on.
if ! PYTHONPATH="$PWD/$DEST/dist-packages" PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -c \
    'import azurelinuxagent.ga.exthandlers, azurelinuxagent.common.protocol.wire' 2>"$tmp/import.err"; then
  echo "setup: the waagent module does not import with /usr/bin/python3 (needs python3-distro, python3-distutils):" >&2
  cat "$tmp/import.err" >&2
  exit 1
fi
echo "setup: waagent $WAAGENT_VERSION unpacked into $DEST/dist-packages"
