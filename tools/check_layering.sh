#!/usr/bin/env bash
# Simulators are leaves: no product target (snapshot/, offline_seed/, common/; tests, benchmarks and other
# test-only targets aside) depends on anything in //simulators/... . Every simulator target is also test-only
# (their BUILD files say so), so Bazel itself refuses such an edge; this check says which path it would take.
# Run by tools/test.sh before the tests; exits 1 naming each offending path.
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCT='attr(testonly, 0, kind("cc_binary|cc_library|sh_binary|proto_library", //snapshot/... + //offline_seed/... + //common/...))'
bad="$(bazel query --noshow_progress "deps($PRODUCT) intersect //simulators/..." 2>/dev/null)"
if [ -n "$bad" ]; then
  echo "check_layering: product code depends on simulators:" >&2
  for target in $bad; do
    bazel query --noshow_progress "somepath($PRODUCT, $target)" 2>/dev/null | sed 's/^/  /' >&2
    echo >&2
  done
  exit 1
fi
testonly_missing="$(bazel query --noshow_progress 'attr(testonly, 0, //simulators/...) except kind("source file|generated file", //simulators/...)' 2>/dev/null)"
if [ -n "$testonly_missing" ]; then
  echo "check_layering: simulator targets that are not test-only:" >&2
  echo "$testonly_missing" | sed 's/^/  /' >&2
  exit 1
fi
echo "check_layering: $(bazel query --noshow_progress "$PRODUCT" 2>/dev/null | wc -l) product targets, none depends on a simulator"
