#!/usr/bin/env bash
# Self-test for treecheck.py: builds a hostile tree, copies it with cp -a, checks the copy compares equal, then
# changes one property at a time on a fresh copy and checks that exactly the expected difference kinds are reported.
# No arguments. Scratch space: $TEST_TMPDIR, else a fresh mktemp -d (removed at exit).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TC="${TREECHECK:-$HERE/treecheck.py}"
if [ -n "${TEST_TMPDIR:-}" ]; then
  W="$(mktemp -d "$TEST_TMPDIR/treecheck.XXXXXX")"
else
  W="$(mktemp -d)"
fi
trap 'rm -rf "$W"' EXIT
SRC="$W/src" DST="$W/dst"
FAILS=0
IGN=()  # --ignore options for what cp -a itself cannot keep at this privilege

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
tc() { python3 "$TC" "$@"; }
# fields [OPTION...] SRC DST: sets GOT to the sorted difference kinds on one line, and RC to the exit status.
fields() {
  local out
  out="$(tc fields "${IGN[@]}" "$@")" && RC=0 || RC=$?
  GOT="$(echo $out)"
}
fresh() { rm -rf "$DST"; cp -a --sparse=always "$SRC" "$DST"; }
# copytime REL...: give DST/REL the atime and mtime of SRC/REL again (not following symlinks).
copytime() {
  local rel
  for rel in "$@"; do
    if [ -L "$SRC/$rel" ]; then  # touch -r would read the times of the link's target
      python3 -c 'import os, sys
s = os.lstat(sys.argv[1])
os.utime(sys.argv[2], ns=(s.st_atime_ns, s.st_mtime_ns), follow_symlinks=False)' "$SRC/$rel" "$DST/$rel"
    else
      touch -r "$SRC/$rel" "$DST/$rel"
    fi
  done
}
# kinds REPORT: the sorted difference kinds named in a compare report, on one line.
kinds() { sed -n 's/^.*: \([a-z]*\): src=.*$/\1/p' <<<"$1" | sort -u | tr '\n' ' ' | sed 's/ $//'; }
# expect NAME "FIELDS" [REL FIELD]: compares SRC and DST; the kinds reported must be exactly FIELDS and, when given,
# the report must name REL with FIELD. (One compare per check: interpreter start-up dominates the run time.)
expect() {
  local name="$1" want="$2" rel="${3:-}" field="${4:-}" report got
  report="$(tc compare "${IGN[@]}" "$SRC" "$DST")" && RC=0 || RC=$?
  got="$(kinds "$report")"
  if [ "$got" != "$want" ] || { [ -n "$want" ] && [ "$RC" != 1 ]; } || { [ -z "$want" ] && [ "$RC" != 0 ]; }; then
    fail "$name: want fields '$want', got '$got' (exit $RC)"; sed 's/^/    /' <<<"$report"; return
  fi
  if [ -n "$rel" ] && ! grep -qF "$rel: $field: " <<<"$report"; then
    fail "$name: report does not name '$rel: $field:'"; sed 's/^/    /' <<<"$report"; return
  fi
  pass "$name${want:+ -> $want}"
}

START=$SECONDS
ROOT=0; [ "$(id -u)" = 0 ] && ROOT=1

# --- building ------------------------------------------------------------------------------------------------------
tc make-hostile "$SRC" --size-gib 1
# The hostile tree is as hostile as promised (checked straight from lstat/getxattr, not with treecheck).
if python3 - "$SRC" <<'EOF'; then pass "the hostile tree has its properties"; else fail "the hostile tree is wrong"; fi
import os, stat, sys
root, problems = os.fsencode(sys.argv[1]), []
def st(rel): return os.lstat(os.path.join(root, rel))
def check(ok, what):
    if not ok: problems.append(what)
check(st(b"times/pre-1970").st_mtime_ns == -123456789 * 10**9 + 987654321, "pre-1970 mtime")
check(st(b"times/year-2500").st_mtime_ns > 2**63, "mtime beyond 2262")  # ext4 clamps 2500 to 2446: still beyond
check(st(b"times/link").st_mtime_ns == 1234567890123456789, "symlink's own mtime")
check(st(b"times/epoch-dir").st_mtime_ns == 0, "folder mtime 0")
dirs = [r for r, n, f in os.walk(root)]
check(len({os.lstat(d).st_mtime_ns for d in dirs}) == len(dirs), "distinct folder mtimes")
check(st(b"links/a").st_nlink == 3 and st(b"links/a").st_ino == st(b"links/sub/c").st_ino, "three names")
check(st(b"links/p").st_ino == st(b"owners/p-link").st_ino, "pair across top folders")
img = st(b"sparse/vm.img")
check(img.st_size == 1 << 30 and img.st_blocks * 512 < 8 << 20, "sparse vm.img")
check(st(b"sparse/tail-hole").st_blocks * 512 < 4 << 20, "tail hole")
x = os.path.join(root, b"xattrs/file")
check(os.getxattr(x, "user.bin") == bytes(range(256)), "binary xattr")
check(len(os.getxattr(os.path.join(root, b"xattrs/acl-file"), "system.posix_acl_access")) == 4 + 6 * 8, "ACL")
check(len(os.getxattr(os.path.join(root, b"xattrs/acl-dir"), "system.posix_acl_default")) == 4 + 6 * 8, "def. ACL")
check(stat.S_ISSOCK(st(b"special/sock").st_mode) and stat.S_ISFIFO(st(b"special/fifo").st_mode), "fifo, socket")
check(st(b"names/caf\xe9-latin1").st_size > 0 and st(b"names/new\nline").st_size > 0, "hostile names")
check(stat.S_IMODE(st(b"owners/setuid").st_mode) == 0o4755, "set-uid mode")
check(stat.S_IMODE(st(b"owners/setgid-dir").st_mode) == 0o2775, "set-gid mode")
if os.geteuid() == 0:
    ids = lambda rel: (st(rel).st_uid, st(rel).st_gid)
    check(ids(b"owners/owned") == (1234, 2345) and ids(b"owners/setuid") == (1234, 0), "file owners")
    check(ids(b"owners/setgid-dir") == (0, 2345) and ids(b"owners/link") == (1234, 2345), "dir, symlink owners")
    check(os.getxattr(x, "trusted.secret") == b"t", "trusted xattr")
    if os.path.lexists(os.path.join(root, b"special/chr")):
        check(st(b"special/chr").st_rdev == os.makedev(1, 3) and st(b"special/blk").st_rdev == os.makedev(7, 200),
              "device numbers")
for p in problems:
    print("    wrong:", p)
sys.exit(1 if problems else 0)
EOF
tc make-hostile "$SRC" >/dev/null 2>&1 && RC=0 || RC=$?
[ "$RC" = 2 ] && pass "make-hostile refuses a non-empty DIR" || fail "make-hostile on a non-empty DIR exited $RC"
tc compare "$SRC" "$SRC" >/dev/null && pass "a tree equals itself" || fail "a tree differs from itself"
tc compare "$SRC" "$W/nope" >/dev/null 2>&1 && RC=0 || RC=$?
[ "$RC" = 2 ] && pass "a missing root is an error (exit 2)" || fail "a missing root exited $RC"
tc compare --ignore nonsense "$SRC" "$SRC" >/dev/null 2>&1 && RC=0 || RC=$?
[ "$RC" = 2 ] && pass "an unknown --ignore is a usage error" || fail "--ignore nonsense exited $RC"

# --- the cp -a copy is equal -----------------------------------------------------------------------------------------
fresh
fields "$SRC" "$DST"; base="$GOT"
if [ "$ROOT" = 1 ]; then
  fields --ignore socket "$SRC" "$DST"
  if [ "$base" = "missing" ] && [ -z "$GOT" ]; then
    echo "NOTE: cp -a did not copy the socket; ignoring sockets"; IGN=(--ignore socket)
  elif [ -n "$base" ]; then
    fail "cp -a copy as root differs: $base"; tc compare "$SRC" "$DST" | sed 's/^/    /' || true
  fi
else
  for f in $base; do
    case "$f" in
      xattrs | owner) echo "NOTE: not root: cp -a loses '$f' here; ignoring it"; IGN+=(--ignore "$f") ;;
      *) fail "cp -a copy as non-root differs in '$f'"; tc compare "$SRC" "$DST" | sed 's/^/    /' || true ;;
    esac
  done
fi
tc compare "${IGN[@]}" "$SRC" "$DST" >/dev/null && pass "compare exits 0 on the cp -a copy" \
  || fail "compare does not exit 0 on the cp -a copy"

# --- one property at a time ----------------------------------------------------------------------------------------
fresh; printf 'X' | dd of="$DST/owners/owned" bs=1 seek=3 conv=notrunc status=none; copytime owners/owned
expect content "content" owners/owned content

fresh; chmod 0600 "$DST/owners/owned"
expect mode "mode" owners/owned mode
fresh; chmod u-s "$DST/owners/setuid"
expect "mode (set-uid bit)" "mode" owners/setuid mode

if [ "$ROOT" = 1 ]; then
  fresh; chown 4321:4321 "$DST/owners/owned"
  expect owner "owner" owners/owned owner
  fresh; chown -h 0:0 "$DST/owners/link"
  expect "owner (of a symlink)" "owner" owners/link owner
else
  echo "SKIP: owner (not root)"
fi

if [[ " ${IGN[*]} " != *" xattrs "* ]]; then
  fresh; python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.comment", b"bye")' "$DST/xattrs/file"
  expect "xattrs (changed value)" "xattrs" xattrs/file xattrs
  fresh; python3 -c 'import os, sys; os.removexattr(sys.argv[1], "system.posix_acl_default")' "$DST/xattrs/acl-dir"
  expect "xattrs (default ACL dropped)" "xattrs" xattrs/acl-dir xattrs
else
  echo "SKIP: xattrs (cp -a cannot keep them here)"
fi

fresh; touch -d '2001-02-03 04:05:06' "$DST/owners/owned"
expect mtime "mtime" owners/owned mtime
fresh; python3 -c 'import os, sys
s = os.lstat(sys.argv[1])
os.utime(sys.argv[1], ns=(s.st_atime_ns, s.st_mtime_ns + 1))' "$DST/times/pre-1970"
expect "mtime (1 ns off, pre-1970)" "mtime" times/pre-1970 mtime
fresh; touch -h -d '2001-02-03 04:05:06' "$DST/times/link"
expect "mtime (of a symlink)" "mtime" times/link mtime
fresh; touch -d '2001-02-03 04:05:06' "$DST/names/empty-dir"
expect "mtime (of a folder)" "mtime" names/empty-dir mtime

fresh; cp -p "$DST/links/b" "$DST/links/b.tmp"; mv "$DST/links/b.tmp" "$DST/links/b"; copytime links
expect "links (one name split off)" "links" links/b links
fresh; cp -p "$DST/owners/p-link" "$DST/owners/p-link.tmp"; mv "$DST/owners/p-link.tmp" "$DST/owners/p-link"
copytime owners
expect "links (pair across folders broken)" "links" links/p links
fresh; ln "$DST/names/empty" "$DST/names/empty-dir/extra-name"; rm "$DST/names/empty-dir/extra-name"
ln "$DST/names/empty" "$DST/times/new-name"; rm "$DST/names/empty"; mv "$DST/times/new-name" "$DST/names/empty"
copytime names/empty-dir names times
expect "links (hard link renamed in place: none)" ""

fresh; dd if=/dev/zero of="$DST/sparse/vm.img" bs=1M count=4 seek=8 conv=notrunc status=none
copytime sparse/vm.img
expect "holes (4 MiB of a hole written as zeros)" "allocated holes" sparse/vm.img holes
fields "$SRC" "$DST"
[ "$GOT" = "allocated holes" ] && [ "$RC" = 1 ] && pass "fields lists the same kinds as compare" \
  || fail "fields: got '$GOT' exit $RC, want 'allocated holes' exit 1"
fresh; rm "$DST/sparse/tail-hole"; cp --sparse=never -p "$SRC/sparse/tail-hole" "$DST/sparse/tail-hole"
copytime sparse
expect "holes (tail hole filled)" "allocated holes" sparse/tail-hole allocated

fresh; ln -sfn elsewhere "$DST/times/link"; copytime times/link times
expect target "target" times/link target

fresh; rm "$DST/names/empty"; copytime names
expect missing "missing" names/empty missing
fresh; : >"$DST/names/new-file"; copytime names
expect extra "extra" names/new-file extra
fresh; rm "$DST/names/empty"; mkdir "$DST/names/empty"; copytime names names/empty
expect type "type" names/empty type
fresh; rmdir "$DST/names/empty-dir"; mkfifo "$DST/names/empty-dir"; copytime names names/empty-dir
expect "type (dir -> fifo)" "type" names/empty-dir type

if [ "$ROOT" = 1 ] && [ -e "$SRC/special/chr" ]; then
  fresh; rm "$DST/special/chr"; mknod -m 600 "$DST/special/chr" c 1 5; copytime special/chr special
  expect rdev "rdev" special/chr rdev
else
  echo "SKIP: rdev (no device nodes)"
fi

fresh; rm "$DST/special/sock"; copytime special
expect "socket deleted" "missing" special/sock missing
got="$(tc fields "${IGN[@]}" --ignore socket "$SRC" "$DST")" && RC=0 || RC=$?
[ -z "$got" ] && [ "$RC" = 0 ] && pass "--ignore socket drops the socket" || fail "--ignore socket: '$got' exit $RC"

# Hostile names survive into the report and the JSON.
fresh; python3 -c 'import os, sys; os.unlink(os.path.join(os.fsencode(sys.argv[1]), b"names/caf\xe9-latin1"))' "$DST"
copytime names
expect "missing (latin-1 name)" "missing" 'names/caf\xe9-latin1' missing
rm "$DST/names/new"$'\n'"line"; copytime names
tc compare --json "${IGN[@]}" "$SRC" "$DST" >"$W/out.json" && RC=0 || RC=$?
if [ "$RC" = 1 ] && python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
got = sorted((x["path"].encode("utf-8", "surrogateescape"), x["field"]) for x in d["differences"])
assert d["count"] == 2, d
assert got == [(b"names/caf\xe9-latin1", "missing"), (b"names/new\nline", "missing")], got' "$W/out.json"; then
  pass "--json round-trips non-UTF-8 and newline names"
else
  fail "--json output (exit $RC):"; sed 's/^/    /' "$W/out.json"
fi

# Ignoring a field hides exactly that field.
fresh; chmod 0600 "$DST/owners/owned"; touch -d '2001-02-03' "$DST/owners/owned"
got="$(tc fields "${IGN[@]}" --ignore mtime "$SRC" "$DST")" || true
[ "$got" = "mode" ] && pass "--ignore mtime keeps mode" || fail "--ignore mtime: got '$got'"

# More than 200 differences: 200 lines, then the rest counted.
fresh; for i in $(seq 1 250); do : >"$DST/names/empty-dir/f$i"; done; copytime names/empty-dir
report="$(tc compare "${IGN[@]}" "$SRC" "$DST")" || true
n="$(wc -l <<<"$report")"; tail="$(tail -2 <<<"$report" | tr '\n' '|')"
[ "$n" = 202 ] && [ "$tail" = "... 50 more not shown|treecheck: 250 difference(s)|" ] \
  && pass "report capped at 200 lines plus a count" || fail "report cap: $n lines, tail '$tail'"

echo "treecheck self-test: $FAILS failure(s) in $((SECONDS - START)) s"
[ "$FAILS" = 0 ]
