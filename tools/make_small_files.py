#!/usr/bin/env python3
"""make_small_files.py ROOT COUNT [SEED]: COUNT small files (0.5-2 KB; even ones text, odd ones random bytes),
1000 to a folder (ROOT/dNNNN/fN), the shape of a file server's millions of small files. Reproducible per SEED.
make_small_files.py --rewrite ROOT COUNT: rewrites every 100th of those files (a 1% change) with new content of the
same kind."""
import os
import random
import sys

WORDS = [b"alpha", b"beta", b"gamma", b"delta", b"log", b"error", b"request", b"user", b"2026-12-02", b"ok"]


def content(rnd, i, size):
    if i % 2:
        return rnd.randbytes(size)
    return b" ".join(rnd.choice(WORDS) for _ in range(size // 6 + 1))[:size]


def main():
    args = sys.argv[1:]
    rewrite = bool(args) and args[0] == "--rewrite"
    if rewrite:
        args = args[1:]
    if len(args) not in (2, 3):
        sys.exit(__doc__)
    root, count, seed = args[0], int(args[1]), int(args[2]) if len(args) == 3 else 20
    rnd = random.Random(seed + (1 if rewrite else 0))
    for i in range(0, count, 100 if rewrite else 1):
        folder = os.path.join(root, "d%04d" % (i // 1000))
        if not rewrite and i % 1000 == 0:
            os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "f%d" % i), "wb") as f:
            f.write(content(rnd, i, rnd.randint(500, 2000)))


if __name__ == "__main__":
    main()
