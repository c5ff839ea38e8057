#!/usr/bin/env bash
# Checks of the code by tools we did not write, run by tools/test.sh after the build (they read generated headers
# from bazel-bin):
#   format        clang-format (.clang-format: Google style, 120 columns) over every C++ file, and buildifier over
#                 every BUILD, .bzl and WORKSPACE file; `tools/check_code.sh --fix` rewrites them in place
#   thread-safety clang's -Wthread-safety over every file that uses vmb::Mutex or ABSL_GUARDED_BY, as errors
#   shape         tools/check_shape.sh: no production function over 100 lines, no production file over 500
# Exit 1 when any check fails; each failure names the file and the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
FIX=0
case "${1:-}" in
  --fix) FIX=1 ;;
  --help|-h) sed -n 2,8p "$0"; exit 0 ;;
esac
BUILDIFIER=tools/node/node_modules/.bin/buildifier
if [ ! -x "$BUILDIFIER" ]; then echo "check_code: $BUILDIFIER missing: run tools/setup.sh" >&2; exit 1; fi
fail=0

mapfile -t CXX < <(git ls-files '*.cc' '*.h' | grep -v '^third_party/')
mapfile -t STARLARK < <(git ls-files 'BUILD.bazel' '*/BUILD.bazel' '*.bzl' 'WORKSPACE' '*/WORKSPACE')
if [ $FIX = 1 ]; then
  clang-format -i "${CXX[@]}"
  "$BUILDIFIER" -mode=fix "${STARLARK[@]}"
  echo "check_code: formatted ${#CXX[@]} C++ and ${#STARLARK[@]} Starlark files"
  exit 0
fi

echo "check_code: format (clang-format, buildifier)"
if ! clang-format --dry-run -Werror "${CXX[@]}" 2>/tmp/check_code_format.$$; then
  grep 'code should be clang-formatted' /tmp/check_code_format.$$ | cut -d: -f1 | sort -u |
    sed "s/$/: not clang-formatted/" | head -20 || true
  echo "  fix: tools/check_code.sh --fix" ; fail=1
fi
rm -f /tmp/check_code_format.$$
if ! "$BUILDIFIER" -mode=check "${STARLARK[@]}"; then echo "  fix: tools/check_code.sh --fix"; fail=1; fi

echo "check_code: thread-safety (clang -Wthread-safety)"
BIN=$(bazel info bazel-bin 2>/dev/null)
EXT=$(bazel info output_base 2>/dev/null)/external
# Every .cc that locks, declares guarded data, or includes a header that does.
mapfile -t GUARDED_H < <(git grep -l -e 'ABSL_GUARDED_BY' -e 'MutexLock' -- '*.h' | grep -v '^third_party/')
PATTERNS=(-e 'ABSL_GUARDED_BY' -e 'MutexLock')
for h in "${GUARDED_H[@]}"; do PATTERNS+=(-e "#include \"$h\""); done
mapfile -t LOCKED < <(git grep -l -F "${PATTERNS[@]}" -- '*.cc' | grep -v '^third_party/')
analyze_one() {
  if ! clang++ -std=c++17 -fsyntax-only -Wno-everything -Wthread-safety -Werror=thread-safety \
      -DVMSNAPSHOT_VERSION=\"check\" -I. -I"$BIN" -I"$EXT/com_github_yhirose_cpp_httplib" "$1"; then
    echo "  $1: a guarded member is used without its lock (see above)"
    return 1
  fi
}
export -f analyze_one
export BIN EXT
printf '%s\n' "${LOCKED[@]}" | xargs -P "$(nproc)" -I{} bash -c 'analyze_one "$1"' _ {} || fail=1

echo "check_code: shape"
tools/check_shape.sh || fail=1
exit $fail
