#!/usr/bin/env bash
# Builds every libFuzzer target (tag `fuzz`) with clang and runs each for a fixed time over its seed corpus.
#   tools/fuzz/run.sh                      every target, 30 s each (what CI runs)
#   tools/fuzz/run.sh --seconds 600        the 10-minute runs issue 8 asks for
#   tools/fuzz/run.sh --seconds 60 //snapshot:settings_fuzzer
# Seeds come from the target's replay test (fuzz_target's `corpus`), copied to a work folder so new inputs
# never land in the source tree. A finding stops that target; its input is kept in the work folder and the
# script exits 1 after the others ran. Output base: $FUZZ_OUTPUT_BASE (default /tmp/fuzzbase), kept apart from
# the gcc build.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=30
WORK="${FUZZ_WORK:-/tmp/vmbackup-fuzz}"
BASE="${FUZZ_OUTPUT_BASE:-/tmp/fuzzbase}"
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_EACH="$2"; shift 2;;
    --work) WORK="$2"; shift 2;;
    -h|--help) sed -n 2,9p "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    //*) TARGETS+=("$1"); shift;;
    *) echo "fuzz: unknown argument '$1' (see --help)" >&2; exit 2;;
  esac
done
BAZEL=(bazel --output_base="$BASE")
CIFLAGS=()
if [ "${CI:-}" = "true" ]; then CIFLAGS=(--color=no --curses=no --show_progress_rate_limit=30); fi
# Queries run in the workspace's own output base: another base walking //... would descend into its bazel-* links.
if [ "${#TARGETS[@]}" -eq 0 ]; then
  mapfile -t TARGETS < <(bazel query --noshow_progress 'attr(tags, "\bfuzz\b", //...)' 2>/dev/null)
fi
echo "fuzz: ${#TARGETS[@]} targets, ${SECONDS_EACH} s each"
"${BAZEL[@]}" build --config=fuzz "${CIFLAGS[@]}" "${TARGETS[@]}"
BIN="$("${BAZEL[@]}" info --config=fuzz bazel-bin 2>/dev/null)"
mkdir -p "$WORK"
failed=0
printf '%-48s %8s %12s %8s %s\n' target seconds executions cov result
for t in "${TARGETS[@]}"; do
  pkg="${t#//}"; pkg="${pkg%%:*}"; name="${t##*:}"
  dir="$WORK/$name"; rm -rf "$dir"; mkdir -p "$dir/corpus"
  # Seeds: the data of the replay test.
  while read -r seed; do
    [ -n "$seed" ] || continue
    f="${seed#//}"; f="${f/://}"; [ -f "$f" ] && cp "$f" "$dir/corpus/"
  done < <(bazel query --noshow_progress "labels(data, //$pkg:${name}_replay_test)" 2>/dev/null)
  start=$(date +%s)
  if "$BIN/$pkg/$name" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$dir/" "$dir/corpus" >"$dir/log" 2>&1; then
    result=clean
  else
    result="FINDING (see $dir/log and $dir/crash-*)"; failed=1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 | grep -o '[0-9]*' || echo '?')
  printf '%-48s %8s %12s %8s %s\n' "$t" "$(( $(date +%s) - start ))" "$execs" "$cov" "$result"
done
exit "$failed"
