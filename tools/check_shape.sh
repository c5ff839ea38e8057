#!/usr/bin/env bash
# The code's shape, measured by a judge we did not write: clang-tidy's readability-function-size lists every
# production function longer than LIMIT lines (default 100, counting blank lines and comments), and `wc -l` every
# production file longer than FILE_LIMIT lines (default 500). Production is snapshot/, offline_seed/ and common/,
# without tests, test helpers, benchmarks and fuzzers. Needs a build first (the generated .pb.h under bazel-bin).
#   tools/check_shape.sh [--limit N] [--file-limit N] [FILE.cc...]
# Exit 1 when something is over a limit.
set -euo pipefail
cd "$(dirname "$0")/.."
LIMIT=100
FILE_LIMIT=500
while [ $# -gt 0 ]; do
  case "$1" in
    --limit) LIMIT=$2; shift 2 ;;
    --file-limit) FILE_LIMIT=$2; shift 2 ;;
    --help|-h) sed -n 2,7p "$0"; exit 0 ;;
    *) break ;;
  esac
done
production() {
  git ls-files "$@" | grep -E '^(snapshot|offline_seed|common)/' |
    grep -v -E '(_test|_fuzzer|_bench)\.(cc|h)$|/testing/|/bench/|fuzz'
}
if [ $# -gt 0 ]; then FILES=("$@"); else mapfile -t FILES < <(production '*.cc'); fi
BIN=$(bazel info bazel-bin 2>/dev/null || echo bazel-bin)
EXT=$(bazel info output_base 2>/dev/null)/external
over=0
# One clang-tidy per file, as many at once as there are cores; each prints "function NAME (FILE:LINE): N lines".
tidy_one() {
  clang-tidy -quiet -checks='-*,readability-function-size' \
    -config="{CheckOptions: [{key: readability-function-size.LineThreshold, value: $LIMIT}]}" "$1" -- \
    -std=c++17 -x c++ -DVMSNAPSHOT_VERSION=\"check\" -I. -I"$BIN" -I"$EXT/com_github_yhirose_cpp_httplib" 2>/dev/null |
    grep -e "warning: function" -e "note: [0-9]* lines" | paste - - |
    sed -E "s/^([^:]+):([0-9]+):.*function '([^']+)'.*note: ([0-9]+) lines.*/function \3 (\1:\2): \4 lines/" |
    sed "s|$PWD/||" || true
}
export -f tidy_one
export LIMIT BIN EXT
out=$(printf '%s\n' "${FILES[@]}" | xargs -P "$(nproc)" -I{} bash -c 'tidy_one "$1"' _ {})
if [ -n "$out" ]; then echo "$out"; over=1; fi
while read -r n f; do
  [ "$f" = total ] && continue
  if [ "$n" -gt "$FILE_LIMIT" ]; then echo "file $f: $n lines"; over=1; fi
done < <(production '*.cc' '*.h' | xargs wc -l)
if [ $over = 0 ]; then echo "check_shape: no production function over $LIMIT lines, no file over $FILE_LIMIT"; fi
exit $over
