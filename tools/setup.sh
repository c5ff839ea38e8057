#!/usr/bin/env bash
# Installs everything the build, the tests and the demo need on Debian 12, and nothing twice.
# Safe to repeat: packages already present are not fetched again; npm packages are pinned by package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  bazel-bootstrap bazel-rules-java default-jdk-headless
  g++ pkg-config git ca-certificates
  libabsl-dev libprotobuf-dev protobuf-compiler libcurl4-openssl-dev libfmt-dev libssl-dev openssl
  libzstd-dev zstd libsqlite3-dev libpugixml-dev libcpp-httplib-dev libbrotli-dev zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev
  qemu-utils clang clang-format clang-tidy libclang-rt-14-dev gnuplot-nox time xfsprogs e2fsprogs util-linux
  python3 python3-distro python3-distutils
  restic borgbackup
)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
done
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs npm); fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages present"
fi

# Azurite (blob server for tests and the demo) and @azure/storage-blob (independent signing vectors), pinned.
STAMP=tools/node/node_modules/.vmbackup-installed-lock.json
if [ ! -x tools/node/node_modules/.bin/azurite-blob ] || ! cmp -s tools/node/package-lock.json "$STAMP"; then
  echo "setup: installing pinned npm packages (tools/node/package-lock.json)"
  (cd tools/node && npm ci --no-audit --no-fund --loglevel=error)
  cp tools/node/package-lock.json "$STAMP"
else
  echo "setup: npm packages present"
fi
# The Linux guest agent's own code (Debian's waagent, unpacked into tools/waagent/, never installed or started): the
# judge of the extension's handler contract in //snapshot/agent_e2e:agent_e2e_test.
tools/fetch_waagent.sh
# Where the tests find what this installed (.bazelrc imports it): a plain `bazel test //...` then runs the Azurite,
# SDK and waagent tests as tools/test.sh does.
cat >.setup.bazelrc <<EOF
# Written by tools/setup.sh: the paths of what it installed, for the tests.
test --test_env=AZURITE_BLOB=$PWD/tools/node/node_modules/.bin/azurite-blob
test --test_env=NODE_PATH=$PWD/tools/node/node_modules
test --test_env=WAAGENT_PYTHONPATH=$PWD/tools/waagent/dist-packages
EOF
echo "setup: done"
