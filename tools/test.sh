#!/usr/bin/env bash
# The README's test command: installs what is missing (tools/setup.sh), then runs every test.
#   tools/test.sh          every default test and the end-to-end tests (tagged e2e), then the code checks
#                          (tools/check_code.sh) when it ran the whole suite
#   tools/test.sh --all    also the soak tests (tagged soak: the fault-proxy soak, minutes long)
#   tools/test.sh --ci     what CI runs (and what CI=true selects): --all, then every default and e2e test again
#                          under AddressSanitizer + UndefinedBehaviorSanitizer (--config=asan, its own output base),
#                          then every libFuzzer target for 30 s (tools/fuzz/run.sh); 20-23 minutes on a fresh clone here
# Extra arguments after the flags go to `bazel test` (e.g. --config=asan, or target patterns instead of //...).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh

MODE=default
if [ "${CI:-}" = "true" ]; then MODE=ci; fi
case "${1:-}" in
  --all) MODE=all; shift ;;
  --ci) MODE=ci; shift ;;
esac
FILTER=(--test_tag_filters=-soak,-manual,-fuzz)
if [ "$MODE" != default ]; then FILTER=(--test_tag_filters=-manual,-fuzz); fi
# Tests on real file systems (loop-mounted ext4 and xfs, frozen and thawed; tagged requires-root, no-sandbox) run
# where this runs as root, as CI does; they fail rather than skip when they cannot run. Not as root, they are left
# out, and this says so.
if [ "$(id -u)" != 0 ]; then
  FILTER=("${FILTER[0]},-requires-root")
  echo "test.sh: not running as root: the real-file-system freeze tests (tag requires-root) are left out" >&2
fi

ARGS=(
  --test_env=AZURITE_BLOB="$PWD/tools/node/node_modules/.bin/azurite-blob"
  --test_env=NODE_PATH="$PWD/tools/node/node_modules"
  --test_env=WAAGENT_PYTHONPATH="$PWD/tools/waagent/dist-packages"
  --test_env=PATH="$(dirname "$(command -v node)"):/usr/local/bin:/usr/bin:/bin"
)
if [ "${CI:-}" = "true" ]; then
  ARGS+=(--color=no --curses=no --show_progress_rate_limit=30)
fi
# Layering first (simulators are leaves: no product code depends on them), in a second.
tools/check_layering.sh

# Targets given on the command line replace the default //...
TARGETS=(//...)
for a in "$@"; do
  case "$a" in //*|:*) TARGETS=();; esac
done
# After the whole suite (never after a chosen few targets): the code checks, by tools we did not write
# (tools/check_code.sh: clang-format and buildifier, clang -Wthread-safety, function and file sizes). They read the
# generated headers the build just made.
code_checks() {
  if [ "${TARGETS[*]}" = "//..." ]; then tools/check_code.sh; fi
}
if [ "$MODE" != ci ]; then
  rc=0
  bazel test "${ARGS[@]}" "${FILTER[@]}" "$@" "${TARGETS[@]}" || rc=$?
  code_checks || rc=1
  exit $rc
fi

step() { printf '\n== test.sh --ci: %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }
step "every test, soak included"
bazel test "${ARGS[@]}" "${FILTER[@]}" "$@" "${TARGETS[@]}"
step "code checks (format, thread safety, shape)"
code_checks
step "every test under AddressSanitizer + UndefinedBehaviorSanitizer (the soak ran above, uninstrumented)"
# A second output base walking //... would descend into this one's bazel-* links; it gets explicit labels instead.
ASAN_TARGETS=("${TARGETS[@]}")
if [ "${TARGETS[*]}" = "//..." ]; then
  mapfile -t ASAN_TARGETS < <(bazel query --noshow_progress 'tests(//...)' 2>/dev/null)
fi
bazel --output_base="${ASAN_OUTPUT_BASE:-/tmp/vmbackup-asan}" test --config=asan --symlink_prefix=/ \
  "${ARGS[@]}" "--test_tag_filters=-soak,-manual,-fuzz$([ "$(id -u)" = 0 ] || echo ,-requires-root)" "$@" \
  "${ASAN_TARGETS[@]}"
step "every libFuzzer target, 30 s each"
tools/fuzz/run.sh --seconds "${FUZZ_SECONDS:-30}"
step "done"
