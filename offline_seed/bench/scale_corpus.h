// The file trees of the scale benchmark (issue 20): deterministic synthetic corpora, written fast (a seeded
// xorshift, not the secure random source: the bench writes up to a million files) and shaped like what the issue
// names: many small files, a few large ones, a sparse VM-image-like file, and Debian's kernel source tree.
#ifndef VMBACKUP_OFFLINE_SEED_BENCH_SCALE_CORPUS_H_
#define VMBACKUP_OFFLINE_SEED_BENCH_SCALE_CORPUS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace vmb::offline::bench {

// (a) `files` files of 512..2048 bytes, alternately text-like (compressible) and random, 1000 to a folder, the
// folders grouped 32 to a parent (dir/pNNN/dNNNNN/fNNN). Same seed, same bytes.
absl::Status MakeSmallFiles(const std::string& dir, uint64_t files, uint64_t seed);

// (c) four files of total_bytes / 4 each: files 0 and 2 text-like, 1 and 3 random (half compressible).
absl::Status MakeLargeFiles(const std::string& dir, uint64_t total_bytes, uint64_t seed);

// (d) dir/disk.img: `apparent` bytes long with `data` bytes written as 1 MiB extents spread evenly over it (half of
// them text-like, half random); the rest are holes. Fails when the file system kept fewer holes than asked (its
// allocated size is checked), so a run on a file system without sparse files says so instead of filling the disk.
absl::Status MakeSparseImage(const std::string& dir, uint64_t apparent, uint64_t data, uint64_t seed);

// (b) Debian's linux-source-6.1 unpacked once into cache_dir (kept between runs). Returns the tree's root, or
// kNotFound when /usr/src/linux-source-6.1.tar.xz is not installed (the message says how to get it).
absl::StatusOr<std::string> KernelTree(const std::string& cache_dir);

// Regular files and their apparent bytes under a tree (symbolic links not followed).
struct TreeCount {
  uint64_t files = 0;
  uint64_t bytes = 0;
};
TreeCount CountTree(const std::string& dir);

// Bytes allocated on disk under a path, as `du -s -B1` counts them (hard links once, holes not at all).
uint64_t AllocatedBytes(const std::string& path);

}  // namespace vmb::offline::bench

#endif  // VMBACKUP_OFFLINE_SEED_BENCH_SCALE_CORPUS_H_
