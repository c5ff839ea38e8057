#!/usr/bin/env python3
"""treecheck: an independent judge for file-tree round trips (backup -> restore).

It judges whether a restored tree (DST) reproduces a source tree (SRC): presence, type, mode bits, owner,
content, symlink targets, device numbers, extended attributes (POSIX ACLs included, as the raw
system.posix_acl_* values), nanosecond mtimes, sparseness and hard-link structure. It can also build a
"hostile" source tree that exercises all of those.

It is independent of the product on purpose: Python standard library only, no code shared with the C++
sources, and every fact it compares comes straight from the kernel (lstat, readlink, listxattr/getxattr,
lseek SEEK_DATA/SEEK_HOLE, read). A bug in the product's tree walker, metadata encoder or restorer
therefore cannot hide itself by being repeated here.

  treecheck.py make-hostile DIR [--size-gib N]
  treecheck.py compare SRC DST [--json] [--ignore FIELD]...
  treecheck.py fields  SRC DST [--ignore FIELD]...

compare/fields exit 0 when the trees match, 1 when they differ, 2 on a usage or I/O error.
"""

import argparse
import errno
import hashlib
import json
import os
import signal
import socket
import stat
import struct
import sys

MIB = 1 << 20
GIB = 1 << 30
CHUNK = MIB  # read size for content hashing

# Difference kinds, in the order they are reported for one path.
FIELDS = ("missing", "extra", "type", "mode", "owner", "content", "target", "rdev", "xattrs", "mtime",
          "holes", "allocated", "links")
MAX_LINES = 200


def note(msg):
    print(f"treecheck: note: {msg}", file=sys.stderr)


def esc(b):
    """Printable, unambiguous rendering of bytes: ASCII printables as is, everything else escaped."""
    if isinstance(b, str):
        b = os.fsencode(b)
    out = []
    for c in b:
        if c == 0x5C:
            out.append("\\\\")
        elif c == 0x0A:
            out.append("\\n")
        elif c == 0x09:
            out.append("\\t")
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append(f"\\x{c:02x}")
    return "".join(out)


# ---------------------------------------------------------------------------------------------------------------
# make-hostile
# ---------------------------------------------------------------------------------------------------------------

ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_GROUP, ACL_MASK, ACL_OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
ACL_UNDEFINED_ID = 0xFFFFFFFF


def posix_acl_xattr(entries):
    """Kernel binary form of a POSIX ACL (system.posix_acl_*): u32 version 2, then (u16 tag, u16 perm, u32 id)
    entries, little-endian, sorted by tag then id."""
    data = struct.pack("<I", 2)
    for tag, perm, ident in sorted(entries):
        data += struct.pack("<HHI", tag, perm, ident)
    return data


class Maker:
    def __init__(self, root, size_bytes):
        self.root = os.fsencode(root)
        self.size = size_bytes
        self.is_root = os.geteuid() == 0
        self.notes = 0

    def p(self, rel):
        return os.path.join(self.root, os.fsencode(rel))

    def note(self, msg):
        self.notes += 1
        note(msg)

    def write(self, rel, data, mode=0o644):
        path = self.p(rel)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.chmod(path, mode)
        return path

    def mkdir(self, rel, mode=0o755):
        path = self.p(rel)
        os.mkdir(path)
        os.chmod(path, mode)
        return path

    def chown(self, rel, uid, gid, follow=True):
        if not self.is_root:
            self.note(f"not root: {esc(rel)} keeps owner {os.geteuid()}:{os.getegid()} instead of {uid}:{gid}")
            return
        os.chown(self.p(rel), uid, gid, follow_symlinks=follow)

    def setxattr(self, rel, name, value):
        try:
            os.setxattr(self.p(rel), name, value, follow_symlinks=False)
        except OSError as e:
            if e.errno in (errno.ENOTSUP, errno.EPERM, errno.EOPNOTSUPP):
                self.note(f"cannot set xattr {name} on {esc(rel)}: {os.strerror(e.errno)}")
            else:
                raise

    def utime(self, rel, mtime_ns, follow=True):
        path = self.p(rel)
        os.utime(path, ns=(mtime_ns, mtime_ns), follow_symlinks=follow)
        got = os.lstat(path).st_mtime_ns
        if got != mtime_ns:
            beyond = "; still beyond 2262" if got >= 2**63 <= mtime_ns else ""
            self.note(f"filesystem stored mtime of {esc(rel)} as {got} ns instead of {mtime_ns} (clamped{beyond})")

    def build(self):
        os.umask(0o022)
        if os.path.lexists(self.root):
            if not os.path.isdir(self.root) or os.path.islink(self.root) or os.listdir(self.root):
                raise UsageError(f"{esc(self.root)} exists and is not an empty directory")
        else:
            os.makedirs(self.root)

        for top in ("owners", "xattrs", "links", "sparse", "times", "special", "names"):
            self.mkdir(top)

        # owners/: chown before chmod, since chown clears the set-id bits.
        self.write("owners/owned", b"owned by 1234:2345\n")
        self.chown("owners/owned", 1234, 2345)
        os.chmod(self.p("owners/owned"), 0o644)
        self.write("owners/setuid", b"#!/bin/sh\necho set-uid\n")
        self.chown("owners/setuid", 1234, 0)
        os.chmod(self.p("owners/setuid"), 0o4755)
        self.mkdir("owners/setgid-dir")
        self.chown("owners/setgid-dir", 0, 2345)
        os.chmod(self.p("owners/setgid-dir"), 0o2775)
        os.symlink(b"owned", self.p("owners/link"))
        self.chown("owners/link", 1234, 2345, follow=False)

        # xattrs/: user.*, trusted.* (root only) and POSIX ACLs as raw system.* xattrs.
        self.write("xattrs/file", b"has xattrs\n")
        self.setxattr("xattrs/file", "user.comment", b"hello")
        self.setxattr("xattrs/file", "user.bin", bytes(range(256)))
        self.mkdir("xattrs/folder")
        self.setxattr("xattrs/folder", "user.folder", b"x")
        if self.is_root:
            self.setxattr("xattrs/file", "trusted.secret", b"t")
            self.setxattr("xattrs/folder", "trusted.secret", b"t")
        else:
            self.note("not root: no trusted.* xattrs")
        self.write("xattrs/acl-file", b"has an access ACL\n")
        self.setxattr("xattrs/acl-file", "system.posix_acl_access", posix_acl_xattr([
            (ACL_USER_OBJ, 6, ACL_UNDEFINED_ID), (ACL_USER, 6, 1234), (ACL_GROUP_OBJ, 4, ACL_UNDEFINED_ID),
            (ACL_GROUP, 4, 2345), (ACL_MASK, 6, ACL_UNDEFINED_ID), (ACL_OTHER, 4, ACL_UNDEFINED_ID)]))
        self.mkdir("xattrs/acl-dir")
        self.setxattr("xattrs/acl-dir", "system.posix_acl_default", posix_acl_xattr([
            (ACL_USER_OBJ, 7, ACL_UNDEFINED_ID), (ACL_USER, 7, 1234), (ACL_GROUP_OBJ, 5, ACL_UNDEFINED_ID),
            (ACL_GROUP, 5, 2345), (ACL_MASK, 7, ACL_UNDEFINED_ID), (ACL_OTHER, 5, ACL_UNDEFINED_ID)]))

        # links/: one inode with three names (same folder, subfolder), one pair across top folders.
        self.write("links/a", b"three names\n")
        os.link(self.p("links/a"), self.p("links/b"))
        self.mkdir("links/sub")
        os.link(self.p("links/a"), self.p("links/sub/c"))
        self.write("links/p", b"two names in two top folders\n")
        os.link(self.p("links/p"), self.p("owners/p-link"))

        # sparse/: a big mostly-hole image and a file that ends in a hole.
        mid = (self.size // 2) // MIB * MIB
        fd = os.open(self.p("sparse/vm.img"), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            os.ftruncate(fd, self.size)
            for off in (0, mid, self.size - MIB):
                os.pwrite(fd, os.urandom(MIB), off)
        finally:
            os.close(fd)
        fd = os.open(self.p("sparse/tail-hole"), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            os.pwrite(fd, os.urandom(MIB), 0)
            os.ftruncate(fd, 64 * MIB)
        finally:
            os.close(fd)

        # times/ (files and symlink now; folders at the very end).
        self.write("times/pre-1970", b"mtime before 1970 with nanoseconds\n")
        self.write("times/year-2500", b"mtime beyond 2262\n")
        self.mkdir("times/epoch-dir")
        os.symlink(b"pre-1970", self.p("times/link"))

        # special/
        os.mkfifo(self.p("special/fifo"), 0o644)
        if self.is_root:
            for rel, kind, dev in (("special/chr", stat.S_IFCHR, os.makedev(1, 3)),
                                   ("special/blk", stat.S_IFBLK, os.makedev(7, 200))):
                try:
                    os.mknod(self.p(rel), kind | 0o600, dev)
                except OSError as e:
                    self.note(f"cannot mknod {rel}: {os.strerror(e.errno)}")
        else:
            self.note("not root: no device nodes")
        # bind() paths are limited to ~108 bytes, so bind a relative name from inside the folder.
        cwd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.chdir(self.p("special"))
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.bind(b"sock")
            finally:
                s.close()
        finally:
            os.fchdir(cwd)
            os.close(cwd)

        # names/
        self.write(b"names/caf\xe9-latin1", b"name is latin-1, not UTF-8\n")
        self.write(b"names/new\nline", b"name has a newline\n")
        self.write("names/empty", b"")
        self.mkdir("names/empty-dir")

        # Times last: files and symlinks, then every folder deepest first so nothing disturbs them afterwards.
        self.utime("times/pre-1970", -123456789 * 10**9 + 987654321)
        self.utime("times/year-2500", 16725225600 * 10**9 + 5)
        self.utime("times/link", 1234567890 * 10**9 + 123456789, follow=False)
        dirs = [b"."]
        for top, names, _ in os.walk(self.root):
            for n in names:
                dirs.append(os.path.relpath(os.path.join(top, n), self.root))
        dirs.sort(key=lambda d: (-d.count(b"/") - (d != b"."), d))
        for i, d in enumerate(dirs):
            self.utime(d, 0 if d == b"times/epoch-dir" else (1_500_000_000 + i * 1000) * 10**9 + 1000 + i)

        counts = {}
        for st in walk_stats(self.root).values():
            counts[type_name(st.st_mode)] = counts.get(type_name(st.st_mode), 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        print(f"treecheck: made hostile tree {esc(self.root)}: {summary}; vm.img {self.size} bytes sparse; "
              f"{'as root' if self.is_root else 'not root (owners, trusted.*, devices skipped)'}; "
              f"{self.notes} note(s)")


# ---------------------------------------------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------------------------------------------

class UsageError(Exception):
    pass


TYPES = ((stat.S_ISREG, "file"), (stat.S_ISDIR, "dir"), (stat.S_ISLNK, "symlink"), (stat.S_ISFIFO, "fifo"),
         (stat.S_ISCHR, "chardev"), (stat.S_ISBLK, "blockdev"), (stat.S_ISSOCK, "socket"))


def type_name(mode):
    for test, name in TYPES:
        if test(mode):
            return name
    return f"unknown({stat.S_IFMT(mode):o})"


def walk_stats(root):
    """rel bytes path -> lstat result for the root (".") and everything below it; never follows symlinks."""
    out = {b".": os.lstat(root)}
    stack = [b"."] if stat.S_ISDIR(out[b"."].st_mode) else []
    while stack:
        rel = stack.pop()
        with os.scandir(root if rel == b"." else os.path.join(root, rel)) as it:
            for entry in it:
                child = entry.name if rel == b"." else rel + b"/" + entry.name
                st = os.lstat(os.path.join(root, child))
                out[child] = st
                if stat.S_ISDIR(st.st_mode):
                    stack.append(child)
    return out


class Tree:
    def __init__(self, root):
        self.root = os.fsencode(root)
        if not os.path.lexists(self.root):
            raise UsageError(f"{esc(self.root)} does not exist")
        self.stats = walk_stats(self.root)
        groups = {}
        for rel, st in self.stats.items():
            if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
                groups.setdefault((st.st_dev, st.st_ino), []).append(rel)
        self.groups = groups
        self._file = {}

    def path(self, rel):
        return self.root if rel == b"." else os.path.join(self.root, rel)

    def co_names(self, rel):
        """The other names of this inode inside the tree (empty when it has no other name here)."""
        st = self.stats[rel]
        if stat.S_ISDIR(st.st_mode) or st.st_nlink <= 1:
            return []
        return sorted(r for r in self.groups[(st.st_dev, st.st_ino)] if r != rel)

    def xattrs(self, rel):
        path = self.path(rel)
        try:
            names = os.listxattr(path, follow_symlinks=False)
        except OSError as e:
            if e.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
                return {}
            raise
        out = {}
        for n in names:
            try:
                out[n] = os.getxattr(path, n, follow_symlinks=False)
            except OSError as e:
                if e.errno == errno.ENODATA:  # removed in between
                    continue
                raise
        return out

    def file_facts(self, rel):
        """(size, content digest, data bytes per SEEK_DATA) of a regular file, computed once."""
        if rel not in self._file:
            self._file[rel] = file_facts(self.path(rel))
        return self._file[rel]


def data_ranges(fd, size):
    """[(start, end)] data ranges per SEEK_DATA/SEEK_HOLE; the whole file when the fs cannot tell."""
    ranges, off = [], 0
    while off < size:
        try:
            start = os.lseek(fd, off, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                break
            if e.errno in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
                return [(0, size)]
            raise
        end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        if end <= start:
            break
        ranges.append((start, end))
        off = end
    return ranges


_ZERO_DIGESTS = {}


def zero_digest(n):
    if n not in _ZERO_DIGESTS:
        _ZERO_DIGESTS[n] = hashlib.sha256(bytes(n)).digest()
    return _ZERO_DIGESTS[n]


def file_facts(path):
    """Content digest = SHA-256 over the SHA-256 of each 1 MiB chunk (a hash list). A chunk lying wholly in a
    hole is not read: it takes the digest of that many zero bytes, which is what reading it would give. So the
    digest depends only on the bytes, never on the hole layout, and costs O(data) on sparse images."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags | os.O_NOATIME)
    except PermissionError:
        fd = os.open(path, flags)
    try:
        size = os.fstat(fd).st_size
        ranges = data_ranges(fd, size)
        outer, i = hashlib.sha256(), 0
        for off in range(0, size, CHUNK):
            n = min(CHUNK, size - off)
            while i < len(ranges) and ranges[i][1] <= off:
                i += 1
            if i < len(ranges) and ranges[i][0] < off + n:
                buf = bytearray()
                while len(buf) < n:
                    part = os.pread(fd, n - len(buf), off + len(buf))
                    if not part:
                        break
                    buf += part
                outer.update(hashlib.sha256(buf).digest())
            else:
                outer.update(zero_digest(n))
        return size, outer.hexdigest(), sum(e - s for s, e in ranges)
    finally:
        os.close(fd)


def show_xattrs(d, keys):
    parts = []
    for k in keys:
        v = d.get(k)
        if v is None:
            parts.append(f"{esc(k)}=absent")
        else:
            shown = esc(v[:64]) + (f"...({len(v)} bytes)" if len(v) > 64 else "")
            parts.append(f'{esc(k)}=b"{shown}"')
    return "{" + ", ".join(parts) + "}"


def show_names(names):
    return "[" + ", ".join(esc(n) for n in names) + "]"


def exceeds(src, dst):
    """DST allocates noticeably more than SRC: beyond 1 MiB plus 1% of SRC."""
    return dst > src + MIB + src // 100


def compare(src_root, dst_root, ignore):
    s_tree, d_tree = Tree(src_root), Tree(dst_root)
    diffs = []

    def add(rel, field, s, d):
        if field not in ignore:
            diffs.append((rel, FIELDS.index(field), field, str(s), str(d)))

    for rel in sorted(set(s_tree.stats) | set(d_tree.stats)):
        s, d = s_tree.stats.get(rel), d_tree.stats.get(rel)
        st_ = type_name(s.st_mode) if s else None
        dt_ = type_name(d.st_mode) if d else None
        if "socket" in ignore and "socket" in (st_, dt_):
            continue
        if s is None:
            add(rel, "extra", "absent", dt_)
            continue
        if d is None:
            add(rel, "missing", st_, "absent")
            continue
        if st_ != dt_:
            add(rel, "type", st_, dt_)  # the other fields mean nothing across types
            continue
        if stat.S_IMODE(s.st_mode) != stat.S_IMODE(d.st_mode):
            add(rel, "mode", f"{stat.S_IMODE(s.st_mode):04o}", f"{stat.S_IMODE(d.st_mode):04o}")
        if (s.st_uid, s.st_gid) != (d.st_uid, d.st_gid):
            add(rel, "owner", f"{s.st_uid}:{s.st_gid}", f"{d.st_uid}:{d.st_gid}")
        if st_ == "file" and not {"content", "holes"} <= ignore:
            s_size, s_sum, s_data = s_tree.file_facts(rel)
            d_size, d_sum, d_data = d_tree.file_facts(rel)
            if (s_size, s_sum) != (d_size, d_sum):
                add(rel, "content", f"{s_size} bytes sha256-list {s_sum[:16]}",
                    f"{d_size} bytes sha256-list {d_sum[:16]}")
            if exceeds(s_data, d_data):
                add(rel, "holes", f"{s_data} data bytes", f"{d_data} data bytes")
        if st_ == "symlink":
            s_t, d_t = os.readlink(s_tree.path(rel)), os.readlink(d_tree.path(rel))
            if s_t != d_t:
                add(rel, "target", esc(s_t), esc(d_t))
        if st_ in ("chardev", "blockdev") and s.st_rdev != d.st_rdev:
            add(rel, "rdev", f"{os.major(s.st_rdev)},{os.minor(s.st_rdev)}",
                f"{os.major(d.st_rdev)},{os.minor(d.st_rdev)}")
        if "xattrs" not in ignore:
            s_x, d_x = s_tree.xattrs(rel), d_tree.xattrs(rel)
            if s_x != d_x:
                keys = sorted(k for k in set(s_x) | set(d_x) if s_x.get(k) != d_x.get(k))
                add(rel, "xattrs", show_xattrs(s_x, keys), show_xattrs(d_x, keys))
        if s.st_mtime_ns != d.st_mtime_ns:
            add(rel, "mtime", s.st_mtime_ns, d.st_mtime_ns)
        if st_ == "file" and exceeds(s.st_blocks * 512, d.st_blocks * 512):
            add(rel, "allocated", s.st_blocks * 512, d.st_blocks * 512)
        if st_ != "dir":
            s_co, d_co = s_tree.co_names(rel), d_tree.co_names(rel)
            if s_co != d_co:
                add(rel, "links", show_names(s_co), show_names(d_co))
    diffs.sort(key=lambda x: (x[0], x[1]))
    return [(rel, field, s, d) for rel, _, field, s, d in diffs]


# ---------------------------------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------------------------------

class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def main(argv):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    ap = Parser(prog="treecheck.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True, parser_class=Parser)
    mk = sub.add_parser("make-hostile", help="build the hostile source tree under DIR")
    mk.add_argument("dir")
    mk.add_argument("--size-gib", type=float, default=1.0, help="apparent size of sparse/vm.img (default 1)")
    for name, helptext in (("compare", "list every difference"), ("fields", "list the kinds of difference")):
        c = sub.add_parser(name, help=helptext)
        c.add_argument("src")
        c.add_argument("dst")
        c.add_argument("--ignore", action="append", default=[], choices=FIELDS + ("socket",), metavar="FIELD",
                       help="drop this field (repeatable); 'socket' drops socket paths entirely. Fields: "
                            + ", ".join(FIELDS))
        if name == "compare":
            c.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    try:
        if args.cmd == "make-hostile":
            size = int(args.size_gib * GIB) // MIB * MIB
            if size < 4 * MIB:
                raise UsageError("--size-gib must give at least 4 MiB")
            Maker(args.dir, size).build()
            return 0
        diffs = compare(args.src, args.dst, set(args.ignore))
    except UsageError as e:
        print(f"treecheck: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"treecheck: error: {e.strerror}: {esc(os.fsencode(e.filename or ''))}", file=sys.stderr)
        return 2

    if args.cmd == "fields":
        for f in sorted({f for _, f, _, _ in diffs}):
            print(f)
    elif args.json:
        print(json.dumps({"differences": [
            {"path": rel.decode("utf-8", "surrogateescape"), "field": f, "src": s, "dst": d}
            for rel, f, s, d in diffs], "count": len(diffs)}, indent=1))
    else:
        for rel, f, s, d in diffs[:MAX_LINES]:
            print(f"{esc(rel)}: {f}: src={s} dst={d}")
        if len(diffs) > MAX_LINES:
            print(f"... {len(diffs) - MAX_LINES} more not shown")
        if diffs:
            print(f"treecheck: {len(diffs)} difference(s)")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
