# Shell helpers shared by tools/demo.sh and the end-to-end tests (sourced, not run).

# start_azurite DIR AZURITE_BIN: starts a blob server on a free loopback port with its data in DIR; sets AZPID and
# ENDPOINT. The caller kills $AZPID (SIGKILL: Azurite ignores SIGTERM for a while).
start_azurite() {
  local dir="$1" bin="$2" port=""
  mkdir -p "$dir/data"
  (cd "$dir" && exec "$bin" --blobHost 127.0.0.1 --blobPort 0 --location "$dir/data" --skipApiVersionCheck --loose \
    >"$dir/azurite.log" 2>&1) &
  AZPID=$!
  for _ in $(seq 1 300); do
    port="$(sed -n 's|.*listens on http://127.0.0.1:\([0-9]*\).*|\1|p' "$dir/azurite.log" | head -1)"
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "Azurite did not start:" >&2; cat "$dir/azurite.log" >&2; return 1; }
  ENDPOINT="http://127.0.0.1:$port/devstoreaccount1"
}

# now: seconds since the epoch with fractions.
now() { date +%s.%N; }

# row WHAT SIZE SECONDS THROUGHPUT RESULT: one line of the summary table ($SUMMARY, tab-separated).
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$SUMMARY"; }

# secs START: seconds since START, one decimal.
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# mbps BYTES START: MB/s since START.
mbps() { awk -v n="$1" -v a="$2" -v b="$(now)" 'BEGIN { d = b - a; if (d <= 0) d = 0.001; printf "%.0f MB/s", n / d / 1e6 }'; }

# tree_listing DIR: every entry with type, mode, size (not for folders), mtime (ns) and link target, sorted.
tree_listing() {
  (cd "$1" && { find . -type d -printf '%P|d|%m|%T@\n'; find . ! -type d -printf '%P|%y|%m|%s|%T@|%l\n'; } | LC_ALL=C sort)
}
