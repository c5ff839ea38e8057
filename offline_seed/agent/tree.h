// The source tree as the backup agent sees it, shared by the initial backup to staging and the incremental backups
// to the vault: walking the source folders into catalogue entries, cutting files into content-defined chunks (a gear
// rolling hash picks boundaries, 16 KiB / 64 KiB / 256 KiB min / avg / max, so an insertion shifts only nearby
// chunks), finding boundaries, hashing (SHA-256) and compressing (zstd) on several threads (a pipeline: see
// ChunkTree), and rebuilding a tree from a catalogue.
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_TREE_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_TREE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "offline_seed/agent/entry_meta.h"
#include "offline_seed/agent/staging.pb.h"

namespace vmb::offline {

struct SourceTree {
  std::vector<std::string> roots;                           // absolute, canonical paths of the source folders
  std::vector<proto::Entry> entries;                        // every entry kept; paths "<root index>/..."
  std::vector<std::pair<std::string, size_t>> files;       // (full path, index in entries) of regular files
  uint64_t bytes = 0;                                       // of all regular files
  uint64_t allocated = 0;                                   // of their data (holes not counted)
  std::vector<proto::Problem> problems;                      // see staging.proto
};

// Whether a backup with these problems is incomplete (an entry could not be read; the exit status says so). The
// other kinds are notes.
bool Incomplete(const std::vector<proto::Problem>& problems);

// A path as text for people and JSON: valid UTF-8 as it is, other bytes as \xNN.
std::string DisplayPath(absl::string_view path);

// Walks each source folder (entries sorted by name): files, folders, symlinks, hard links (a second name of a file
// is a "hardlink" entry naming the first), FIFOs and device nodes, each with its owner, mode, time and extended
// attributes; sockets are skipped and noted. An entry that vanishes or cannot be read is noted in `problems`, not an
// error. kInvalidArgument when a source is not a folder or `exclude` (the staging location, say) lies inside one.
absl::StatusOr<SourceTree> WalkSources(const std::vector<std::string>& sources, const std::string& exclude = "");

struct ChunkOptions {
  int threads = 2;
  int zstd_level = 1;
  // Chunks already stored (not compressed again, not given to the sink). Called from several threads.
  std::function<bool(const std::string& sha256_hex)> known;
  std::function<void(uint64_t done, uint64_t total)> progress;
  // The previous backup's entry for a file that has not changed since (its chunks are taken, the file is not
  // read), or null. Unset: every file is read.
  std::function<const proto::Entry*(const proto::Entry& file)> unchanged;
};

struct ChunkStats {
  uint64_t chunks = 0;      // in all files
  uint64_t new_chunks = 0;  // given to the sink
  uint64_t new_bytes = 0;   // their uncompressed size
  uint64_t files_unchanged = 0;  // not read: `unchanged` vouched for them
};

// Called once per new chunk, in file order: its SHA-256 (hex), uncompressed length and zstd frame.
using ChunkSink = std::function<absl::Status(const std::string& sha256_hex, uint32_t length, const std::string& frame)>;

// Cuts every file of `tree` into chunks, fills each file entry's chunk list and hands each chunk that is neither
// known nor seen earlier in this run to `sink`. Sparse files are read by their data extents only. A file is checked
// (size, mtime, ctime) before and after it is read: one that changed is read again, up to 3 times, then kept as
// read and noted "changed". A file that vanished or cannot be read is left out of `tree.entries` and noted; its
// other names (hard links) go with it. Errors: the sink's.
absl::StatusOr<ChunkStats> ChunkTree(SourceTree& tree, const ChunkOptions& options, const ChunkSink& sink);

// Writes one file's stored data (its chunks, in order) to `fd`, through StoredLayout (sparse files).
using ContentWriter = std::function<absl::Status(const proto::Entry& file, int fd)>;

// Checks entries read from a catalogue or a recovery point (outside input: a damaged or tampered vault) before
// anything is written: every path relative, without empty, "." or ".." components or NUL bytes, listed once, and
// never beneath anything but a folder; a known type; a hard link names an earlier file entry. kDataLoss naming the
// first bad entry.
absl::Status ValidateEntries(const std::vector<proto::Entry>& entries);

// A restore goes into a new or empty folder only (in a folder with content, a symlink already there could lead
// a write outside it): kFailedPrecondition naming it otherwise.
absl::Status CheckRestoreTarget(const std::string& output);

// Rebuilds `entries` under `output` (root i as output/i; see CheckRestoreTarget) after ValidateEntries: folders, files (created at their
// full length, all hole, then their content from `write`, up to `threads` files at a time: holes stay holes), FIFOs
// and devices (devices only as root), hard links, symlinks last (so no write can go through one), then owners (as
// root), xattrs, modes and times deepest first (ApplyMeta). What could not be put back goes into `report`.
absl::Status RestoreTree(const std::vector<proto::Entry>& entries, const std::string& output, const ContentWriter& write,
                         int threads = 1, RestoreReport* report = nullptr);

// Fills the regular files of a restore, given all at once: each already exists, at its full length and all hole, at
// "<output>/<path>" (open it O_WRONLY | O_NOFOLLOW; no symlink exists yet; write through StoredLayout). For content
// read in large ranges that span files.
using ContentFiller = std::function<absl::Status(const std::vector<const proto::Entry*>& files)>;

// As RestoreTree, with every file created empty first and filled by `fill`.
absl::Status RestoreTreeFilled(const std::vector<proto::Entry>& entries, const std::string& output,
                               const ContentFiller& fill, RestoreReport* report = nullptr);


// Content-defined chunk boundaries of `data` (exposed for tests): offsets where chunks end. `data` is scanned
// `window` bytes at a time, as ChunkTree reads files; the boundaries do not depend on it.
std::vector<size_t> ChunkBoundaries(const std::string& data, size_t window = 2 << 20);

// Checks one stored chunk: decompresses `frame` and compares length and SHA-256. kDataLoss naming `where`.
absl::StatusOr<std::string> OpenChunk(absl::string_view frame, uint32_t length, const std::string& sha256_hex,
                                      const std::string& where);
// The same into `*out`, whose memory is reused from call to call (no allocation per chunk): a view of the chunk's
// bytes in it, valid until `*out` changes.
absl::StatusOr<absl::string_view> OpenChunkInto(absl::string_view frame, uint32_t length, const std::string& sha256_hex,
                                                const std::string& where, std::string* out);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_TREE_H_
