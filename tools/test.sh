#!/usr/bin/env bash
# The README's test command: installs what is missing (tools/setup.sh), then runs every test.
#   tools/test.sh          every default test and the end-to-end tests (tagged e2e; what CI runs)
#   tools/test.sh --all    also the heavy soak tests (tagged soak)
# Extra arguments after the flags go to `bazel test`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh

FILTER=(--test_tag_filters=-soak,-manual,-fuzz)
if [ "${1:-}" = "--all" ]; then
  shift
  FILTER=(--test_tag_filters=-manual,-fuzz)
fi

ARGS=(
  --test_env=AZURITE_BLOB="$PWD/tools/node/node_modules/.bin/azurite-blob"
  --test_env=NODE_PATH="$PWD/tools/node/node_modules"
  --test_env=PATH="$(dirname "$(command -v node)"):/usr/local/bin:/usr/bin:/bin"
)
if [ "${CI:-}" = "true" ]; then
  ARGS+=(--color=no --curses=no --show_progress_rate_limit=30)
fi
# Targets given on the command line replace the default //...
TARGETS=(//...)
for a in "$@"; do
  case "$a" in //*|:*) TARGETS=();; esac
done
exec bazel test "${ARGS[@]}" "${FILTER[@]}" "$@" "${TARGETS[@]}"
