# Shell helpers shared by tools/demo.sh and the end-to-end tests (sourced, not run).

# start_azurite DIR AZURITE_BIN: starts a blob server on a free loopback port with its data in DIR; sets AZPID and
# ENDPOINT. The caller kills $AZPID (SIGKILL: Azurite ignores SIGTERM for a while).
start_azurite() {
  local dir="$1" bin="$2" port=""
  mkdir -p "$dir/data"
  : >"$dir/azurite.log"  # the log is read below before the background shell may have opened it
  (cd "$dir" && exec "$bin" --blobHost 127.0.0.1 --blobPort 0 --location "$dir/data" --skipApiVersionCheck --loose --silent \
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

# start_control_plane DIR SERVER_BIN: starts the Import/Export API simulator (simulators/import_export:server) on a
# free loopback port with its state in DIR (its log in DIR.log) and a fresh bearer token; sets PLANEPID,
# CONTROL_PLANE and TOKEN. The caller kills $PLANEPID.
start_control_plane() {
  local dir="$1" bin="$2"
  TOKEN="$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
  : >"$dir.log"  # read below at once: the background job may not have opened it yet
  "$bin" --state-dir "$dir" --token "$TOKEN" >"$dir.log" 2>&1 &
  PLANEPID=$!
  CONTROL_PLANE=""
  for _ in $(seq 1 100); do
    CONTROL_PLANE="$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$dir.log" | head -1)"
    [ -n "$CONTROL_PLANE" ] && break
    sleep 0.1
  done
  [ -n "$CONTROL_PLANE" ] || { echo "the control plane did not start:" >&2; cat "$dir.log" >&2; return 1; }
}

# now: seconds since the epoch with fractions.
now() { date +%s.%N; }

# row WHAT SIZE SECONDS THROUGHPUT RESULT: one line of the summary table ($SUMMARY, tab-separated).
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$SUMMARY"; }

# secs START: seconds since START, one decimal.
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# mbps BYTES START: MB/s since START.
mbps() { awk -v n="$1" -v a="$2" -v b="$(now)" 'BEGIN { d = b - a; if (d <= 0) d = 0.001; printf "%.0f MB/s", n / d / 1e6 }'; }

# rss CMD...: runs CMD under /usr/bin/time, which writes its peak RSS to $WORK/peak-rss; rss_note then gives
# ", peak RSS N MiB" for a summary row (nothing when the last run was not measured).
rss() { rm -f "$WORK/peak-rss"; /usr/bin/time -o "$WORK/peak-rss" -f %M "$@"; }
rss_note() { [ -s "$WORK/peak-rss" ] && tail -1 "$WORK/peak-rss" | awk '{ printf ", peak RSS %.0f MiB", $1 / 1024 }'; true; }

# tree_listing DIR: every entry with type, mode, size (not for folders), mtime (ns) and link target, sorted.
tree_listing() {
  (cd "$1" && { find . -type d -printf '%P|d|%m|%T@\n'; find . ! -type d -printf '%P|%y|%m|%s|%T@|%l\n'; } | LC_ALL=C sort)
}

# run_killed LABEL KILLS MAX_MS CMD...: runs CMD and kills it with SIGKILL after a random time (1..MAX_MS ms; the
# sequence comes from bash's RANDOM, seeded by the caller with RANDOM=$SEED) until it has been killed KILLS times,
# then runs it once more to its end (its exit status is returned). A run that ends on its own before its kill time
# is that last run (running a finished job again is not what an admin would do; the datacenter refuses it): its
# output is printed and its status returned. Every attempt's output also goes to $WORK/killed-runs.log; a line
# "LABEL: killed N times (at ... ms)" is printed.
run_killed() {
  local label="$1" kills="$2" max_ms="$3" k=0 pid rc ms at="" attempt="$WORK/run-killed.attempt"
  shift 3
  [ "$kills" -gt 0 ] || { rss "$@"; return; }
  rm -f "$WORK/peak-rss"  # killed runs: no peak to report
  while [ "$k" -lt "$kills" ]; do
    ms=$(( (RANDOM * 32768 + RANDOM) % max_ms + 1 ))
    "$@" >"$attempt" 2>&1 &
    pid=$!
    sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
    kill -9 "$pid" 2>/dev/null || true
    rc=0; wait "$pid" 2>/dev/null || rc=$?
    cat "$attempt" >>"$WORK/killed-runs.log"
    if [ "$rc" = 137 ]; then
      k=$((k + 1)); at="$at $ms"
    elif [ "$rc" = 0 ]; then
      echo "$label: killed $k times (at$at ms after each start), then a run ended on its own"
      cat "$attempt"
      return 0
    else
      echo "$label: a run ended with exit $rc before its kill (see $WORK/killed-runs.log)"
    fi
  done
  echo "$label: killed $k times (at$at ms after each start), then run to the end"
  "$@"
}
