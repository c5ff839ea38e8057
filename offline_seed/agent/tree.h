// The source tree as the backup agent sees it, shared by the initial backup to staging and the incremental backups
// to the vault: walking the source folders into catalogue entries (walk.h), cutting files into content-defined
// chunks (chunker.h: a gear rolling hash picks boundaries, 16 KiB / 64 KiB / 256 KiB min / avg / max, so an
// insertion shifts only nearby chunks), hashing (SHA-256) and compressing (zstd) them on several threads
// (chunk_codec.h; the pipeline is ChunkTree), and rebuilding a tree from a catalogue (restore.h). Other packages
// include this header for all of it.
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_TREE_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_TREE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "offline_seed/agent/chunk_codec.h"
#include "offline_seed/agent/chunker.h"
#include "offline_seed/agent/entry_meta.h"
#include "offline_seed/agent/restore.h"
#include "offline_seed/agent/staging.pb.h"
#include "offline_seed/agent/walk.h"

namespace vmb::offline {

// A file whose stored stream is at most kPackMax bytes is not cut: it is packed, whole, with the small files read
// before and after it into a segment, which is stored as one chunk (one SHA-256, one zstd frame; proto
// Entry.chunkOffset says where each file lies in it). Similar small files then compress together, as in a tar
// stream, and the catalogue keeps one hash for a segment's many files. Dedupe and integrity are per segment: an
// unchanged file keeps its place in its old segment; a changed one goes into a new segment.
//
// A segment ends after a file CutAfter picks (weighted by its size, about kSegmentAverageExtra bytes apart) once it
// holds kSegmentMinBytes, and at kSegmentMaxBytes. So the same files read in the same order are packed into the same
// segments by every backup (a full scan, or a tree whose owners or times all changed, finds its segments stored),
// and after a change the cuts fall in the same places again a segment or two later.
inline constexpr size_t kPackMax = 256 << 10;
inline constexpr size_t kSegmentMinBytes = 512 << 10;
inline constexpr size_t kSegmentAverageExtra = 512 << 10;
inline constexpr size_t kSegmentMaxBytes = 4 << 20;

// Whether a cut falls after the entry at `path` (its catalogue path): true for about `weight` in `period` paths, and
// the same for the same path in every run (it goes by the path's SHA-256).
bool CutAfter(const std::string& path, uint64_t weight, uint64_t period);

struct ChunkOptions {
  int threads = 2;
  int zstd_level = 1;
  // Chunks already stored (not compressed again, not given to the sink). Called from several threads.
  std::function<bool(const std::string& sha256_hex)> known;
  std::function<void(uint64_t done, uint64_t total)> progress;
  // Fills a file's chunks, chunkOffset and extents from the previous backup when it has not changed since (the file is
  // then not read) and says so. Unset: every file is read.
  std::function<bool(proto::Entry* file)> unchanged;
  // Fills a small file's chunks, chunkOffset and digest from the previous backup when it was read again but its
  // `bytes` are those it had then (only its owner, mode, times or inode changed), and says so: it is then not packed
  // again. Unset: every small file read is packed.
  std::function<bool(proto::Entry* file, absl::string_view bytes)> same_bytes;
};

struct ChunkStats {
  uint64_t chunks = 0;            // in all files
  uint64_t new_chunks = 0;        // given to the sink
  uint64_t new_bytes = 0;         // their uncompressed size
  uint64_t files_unchanged = 0;   // not read: `unchanged` vouched for them
  uint64_t files_same_bytes = 0;  // read, and kept their place: `same_bytes` vouched for them
};

// Called once per new chunk, in the order they are sealed (a file's chunks in order; a segment once it is full, so
// after the chunks of a large file read while it filled): its SHA-256 (hex), uncompressed length and zstd frame.
using ChunkSink = std::function<absl::Status(const std::string& sha256_hex, uint32_t length, const std::string& frame)>;

// Cuts every file of `tree` into chunks (packs small ones into segments), fills each file entry's chunk list and
// chunkOffset (and digest), and hands each chunk that is neither
// known nor seen earlier in this run to `sink`. Sparse files are read by their data extents only. A file is checked
// (size, mtime, ctime) before and after it is read: one that changed is read again, up to 3 times, then kept as
// read and noted "changed". A file that vanished or cannot be read is left out of `tree.entries` and noted; its
// other names (hard links) go with it. Errors: the sink's.
absl::StatusOr<ChunkStats> ChunkTree(SourceTree& tree, const ChunkOptions& options, const ChunkSink& sink);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_TREE_H_
