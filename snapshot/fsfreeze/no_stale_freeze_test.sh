#!/usr/bin/env bash
# No VM stays frozen, whatever process dies (issue 21), on real file systems: fresh loop-mounted ext4 and xfs images,
# frozen by the real `vmsnapshot` (freeze-check with --freeze-provider fsfreeze: the provider, its holder and the
# holder's guardian, exactly as enable uses them), with a writer blocked on the frozen mount as the probe. For each
# way of killing or stopping our processes, the probe's write must land within the freeze budget + 1 s of the
# freeze; when everything of ours is SIGKILLed at the same instant, the next vmsnapshot command thaws at once.
#
# Needs root and loop devices (outside Bazel's sandbox: the target is tagged no-sandbox and requires-root). Not
# root: it fails and says so, it never passes unrun; tools/test.sh leaves requires-root tests out when not root.
# usage: no_stale_freeze_test.sh VMSNAPSHOT
set -euo pipefail
B="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
BUDGET_MS=3000
HOLD_MS=5000
LIMIT_MS=$((BUDGET_MS + 1000))
PATH="$PATH:/usr/sbin:/sbin"

if [ "$(id -u)" != 0 ]; then
  echo "FAIL: this test needs root, loop devices and mkfs.ext4/mkfs.xfs (tools/test.sh runs it when it runs as" \
    "root, as CI does). As a user, leave it out with --test_tag_filters=-requires-root." >&2
  exit 1
fi
for tool in mkfs.ext4 mkfs.xfs fsfreeze; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (tools/setup.sh installs it)" >&2; exit 1; }
done

# The images are mounted outside Bazel's output base and test folders (/run, else /tmp): a mount inside them would
# break the bind mounts of sandboxed actions running beside this test. Mounts left by an earlier run that was killed
# before its cleanup are removed first.
MROOT=/run; [ -w /run ] || MROOT=/tmp
for m in $(awk '$2 ~ "^(/run|/tmp)/vmbackup-nostale[.]" {print $2}' /proc/self/mounts | sort -r); do
  fsfreeze -u "$m" 2>/dev/null || true; umount -l "$m" 2>/dev/null || true
done
W="$(mktemp -d "$MROOT/vmbackup-nostale.XXXXXX")"
MNT="" FAILS=0
RESULTS="$W/results"
: >"$RESULTS"
now_ms() { date +%s%3N; }
cleanup() {
  pkill -CONT -f "freeze-holder.*$W/" 2>/dev/null || true
  pkill -9 -f "vmsnapshot.*$W/" 2>/dev/null || true
  # Every mount under the work folder, deepest first: thawed (harmless if not frozen) and detached.
  for m in $(awk -v w="$W/" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r); do
    fsfreeze -u "$m" 2>/dev/null || true
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP  # Bazel's timeout: still run the cleanup

mount_fs() {  # mount_fs TYPE: a fresh image of that type on $W/TYPE/mnt
  local type="$1" dir="$W/$1"
  mkdir -p "$dir/mnt"
  case "$type" in
    ext4) truncate -s 64M "$dir/img" && mkfs.ext4 -q -F "$dir/img" ;;
    xfs) truncate -s 320M "$dir/img" && mkfs.xfs -q -f "$dir/img" ;;
  esac
  mount -o loop "$dir/img" "$dir/mnt"
  MNT="$dir/mnt"
  # The provider never freezes loop devices on a VM; the mounts file presents this one as a disk partition.
  echo "/dev/sdz1 $MNT $type rw,relatime 0 0" >"$dir/mounts"
}

# start_extension TYPE: the extension (own session, as the agent starts commands) freezes $MNT and holds it.
start_extension() {
  local dir="$W/$1"
  rm -f "$dir/lock.state"
  setsid "$B" freeze-check --freeze-provider fsfreeze --freeze-mounts-file "$dir/mounts" \
    --freeze-lock-file "$dir/lock" --hold-ms "$HOLD_MS" --budget-ms "$BUDGET_MS" >"$dir/ext.out" 2>&1 &
  EXT=$!
  # Up to 20 s: on a loaded machine the previous case's guardian may still be letting go of the freeze lock.
  for _ in $(seq 1 2000); do grep -q "^frozen" "$dir/ext.out" 2>/dev/null && break; sleep 0.01; done
  FROZEN_AT=$(now_ms)
  grep -q "^frozen in .*$MNT" "$dir/ext.out" || { echo "the extension did not freeze $MNT:"; cat "$dir/ext.out"; return 1; }
  HOLDER=$(awk '$1 == "holder" {print $2}' "$dir/lock.state")
  GUARDIAN=$(awk '$1 == "guardian" {print $2}' "$dir/lock.state")
  # The probe: a writer that blocks while the mount is frozen.
  rm -f "$dir/probe.done"
  (echo x >>"$MNT/probe" && sync "$MNT/probe" && now_ms >"$dir/probe.done") &
  PROBE=$!
  sleep 0.3
  if [ -f "$dir/probe.done" ]; then echo "the probe was not blocked: $MNT is not frozen"; return 1; fi
  ACT_AT=$(now_ms)
}

# finish TYPE CASE [EXPECT_IN_EXT_OUTPUT]: waits for the probe, records the thaw delay, checks the limit.
finish() {
  local dir="$W/$1" name="$2" expect="${3:-}" delay="" after=""
  for _ in $(seq 1 $(( (LIMIT_MS + 4000) / 20 ))); do [ -f "$dir/probe.done" ] && break; sleep 0.02; done
  if [ -f "$dir/probe.done" ]; then
    delay=$(( $(cat "$dir/probe.done") - FROZEN_AT ))
    after=$(( $(cat "$dir/probe.done") - ACT_AT ))
  fi
  local verdict=ok
  if [ -z "$delay" ] || [ "$delay" -gt "$LIMIT_MS" ]; then verdict=FAIL; FAILS=$((FAILS + 1)); fi
  if [ -n "$expect" ]; then
    wait "$EXT" 2>/dev/null || true
    if ! grep -q -- "$expect" "$dir/ext.out"; then
      verdict=FAIL; FAILS=$((FAILS + 1)); echo "  the extension did not report \"$expect\":"; sed 's/^/    /' "$dir/ext.out"
    fi
  fi
  printf '%-5s %-56s %6s ms %6s ms  %s\n' "$1" "$name" "${delay:-never}" "${after:-never}" "$verdict" | tee -a "$RESULTS"
  cleanup_case "$1"
}

cleanup_case() {
  local dir="$W/$1"
  kill -CONT "$HOLDER" "$GUARDIAN" 2>/dev/null || true
  kill -9 "$EXT" "$HOLDER" "$GUARDIAN" 2>/dev/null || true
  wait "$PROBE" 2>/dev/null || true
  wait "$EXT" 2>/dev/null || true
  fsfreeze -u "$MNT" 2>/dev/null || true
  # Let the guardian (which keeps the freeze lock) go before the next case.
  for _ in $(seq 1 500); do kill -0 "$GUARDIAN" 2>/dev/null || break; sleep 0.02; done
}

for fs in ext4 xfs; do
  mount_fs "$fs"
  echo "== $fs on $MNT (budget $BUDGET_MS ms, limit $LIMIT_MS ms)"

  start_extension "$fs"; kill -9 "$HOLDER"
  finish "$fs" "SIGKILL of the holder" "code 122"

  start_extension "$fs"; kill -9 "$EXT" "$HOLDER"
  finish "$fs" "SIGKILL of the extension and the holder together"

  start_extension "$fs"; kill -9 -- "-$EXT"
  finish "$fs" "the agent's timeout kill (SIGKILL of the command's group)"

  start_extension "$fs"; pkill -9 -s "$EXT"
  finish "$fs" "SIGKILL of the extension's session"

  start_extension "$fs"; kill -9 -- "-$HOLDER"
  finish "$fs" "SIGKILL of the holder's process group" "code 122"

  start_extension "$fs"; pkill -9 -s "$HOLDER"
  finish "$fs" "SIGKILL of the holder's session" "code 122"

  start_extension "$fs"; pkill -9 -s "$GUARDIAN"
  finish "$fs" "SIGKILL of the guardian's session (holder's watchdog)" "code 122"

  start_extension "$fs"; kill -STOP "$HOLDER"
  finish "$fs" "SIGSTOP of the holder (guardian at the deadline)" "code 122"

  # The guardian first (it thaws as soon as it sees the holder die), by pid as well as by group: a guardian that has
  # not made its own session yet is not a group leader.
  start_extension "$fs"; kill -9 -- "$GUARDIAN" "-$GUARDIAN" "$HOLDER" "-$HOLDER" 2>/dev/null; pkill -9 -s "$EXT"
  sleep 1
  if [ -f "$W/$fs/probe.done" ]; then
    echo "  (everything killed at once, yet the mount thawed: the record was not needed)"
  fi
  [ -f "$W/$fs/lock.state" ] || { echo "  the freeze record is missing after everything died"; FAILS=$((FAILS + 1)); }
  # The next enable (here with nothing else it can do: no handler environment) thaws the stale freeze first.
  ACT_AT=$(now_ms)
  "$B" enable --handler-environment "$W/none.json" --freeze-lock-file "$W/$fs/lock" >"$W/$fs/enable.out" 2>&1 || true
  for _ in $(seq 1 100); do [ -f "$W/$fs/probe.done" ] && break; sleep 0.01; done
  if [ -f "$W/$fs/probe.done" ]; then
    after=$(( $(cat "$W/$fs/probe.done") - ACT_AT ))
    verdict=ok; [ "$after" -le 1000 ] || { verdict=FAIL; FAILS=$((FAILS + 1)); }
    printf '%-5s %-56s %6s ms %6s ms  %s\n' "$fs" "all SIGKILLed at once; the next enable thaws" - "$after" "$verdict" | tee -a "$RESULTS"
  else
    printf '%-5s %-56s %6s ms %6s ms  %s\n' "$fs" "all SIGKILLed at once; the next enable thaws" - never FAIL | tee -a "$RESULTS"
    FAILS=$((FAILS + 1))
  fi
  grep -q "thawed a stale freeze" "$W/$fs/enable.out" || { echo "  enable did not say it thawed:"; cat "$W/$fs/enable.out"; FAILS=$((FAILS + 1)); }
  [ ! -f "$W/$fs/lock.state" ] || { echo "  the stale record was not removed"; FAILS=$((FAILS + 1)); }
  cleanup_case "$fs"

  umount "$MNT"; MNT=""
done


# The provider's own rules on real mounts (issue 21, 3): a mount below another is frozen first and thawed last, a
# skipped mount, loop devices and the resource disk are never frozen. --freeze-trace-log logs the real calls.
O="$W/order"
mkdir -p "$O/data" "$O/skip"
truncate -s 320M "$O/data.img" && mkfs.xfs -q -f "$O/data.img" && mount -o loop "$O/data.img" "$O/data"
mkdir -p "$O/data/logs"
truncate -s 64M "$O/logs.img" && mkfs.ext4 -q -F "$O/logs.img" && mount -o loop "$O/logs.img" "$O/data/logs"
truncate -s 64M "$O/skip.img" && mkfs.ext4 -q -F "$O/skip.img" && mount -o loop "$O/skip.img" "$O/skip"
cat >"$O/mounts" <<MOUNTS
/dev/sdx1 $O/data xfs rw,relatime 0 0
/dev/sdy1 $O/data/logs ext4 rw,relatime 0 0
/dev/sdw1 $O/skip ext4 rw,relatime 0 0
/dev/sdv1 /mnt/resource ext4 rw,relatime 0 0
/dev/loop7 $O/skip/inner ext4 rw,relatime 0 0
MOUNTS
"$B" freeze-check --freeze-provider fsfreeze --freeze-mounts-file "$O/mounts" --freeze-lock-file "$O/lock" \
  --freeze-skip-mount "$O/skip" --freeze-trace-log "$W/order-trace" --hold-ms 1500 >"$O/ext.out" 2>&1 &
EXT=$!
for _ in $(seq 1 500); do grep -q "^frozen" "$O/ext.out" 2>/dev/null && break; sleep 0.01; done
# While frozen, the skipped mount still takes writes at once.
skip_ok=no
if timeout 1 sh -c "echo x >>'$O/skip/probe' && sync '$O/skip/probe'"; then skip_ok=yes; fi
wait "$EXT" || true
want="freeze $O/data/logs
freeze $O/data
thaw $O/data
thaw $O/data/logs"
got="$(cut -d' ' -f2- "$W/order-trace")"
if [ "$got" = "$want" ] && [ "$skip_ok" = yes ] && grep -q "^thawed" "$O/ext.out"; then
  echo "order on real mounts: ok (nested mount first, thawed in reverse; skipped, loop and resource mounts untouched)"
else
  echo "order on real mounts: FAIL"; echo "  trace:"; sed 's/^/    /' "$W/order-trace"; echo "  skipped mount writable while frozen: $skip_ok"
  sed 's/^/    /' "$O/ext.out"
  FAILS=$((FAILS + 1))
fi
umount "$O/skip" "$O/data/logs" "$O/data"

echo
echo "probe write landed (ms after the freeze | ms after the kill or stop; the stale case: after the next enable started):"
cat "$RESULTS"
[ "$FAILS" = 0 ] || { echo "FAIL: $FAILS check(s) failed"; exit 1; }
echo "PASS"
