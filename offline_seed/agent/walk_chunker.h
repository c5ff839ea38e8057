// Walking and chunking a source tree of any size in bounded memory: the walk's entries are taken a batch of a few
// thousand at a time, each batch is chunked (ChunkTree) and its entries handed on with their chunks, so only one
// batch is ever in memory, however many files the tree holds. Chunks are deduplicated across batches by a compact
// set of their SHA-256s (32 bytes each, the only state that grows with the tree).
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_WALK_CHUNKER_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_WALK_CHUNKER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "offline_seed/agent/staging.pb.h"
#include "offline_seed/agent/tree.h"

namespace vmb::offline {

// A set of SHA-256s (given as hex) in 32 bytes each: a tenth of a set of hex strings.
class HashSet {
 public:
  // False for a string that is not 64 hex digits (never inserted, never contained).
  bool Insert(const std::string& sha256_hex);
  bool Contains(const std::string& sha256_hex) const;
  size_t size() const { return set_.size(); }

 private:
  absl::flat_hash_set<std::array<uint8_t, 32>> set_;
};

struct WalkedTree {
  std::vector<std::string> roots;        // absolute, canonical
  uint64_t bytes = 0;                    // of the regular files kept, as captured
  std::vector<proto::Problem> problems;  // the walk's, then the reads'
  ChunkStats stats;
};

// Called with each entry kept, in walk order, its chunks filled.
using EntryOut = std::function<absl::Status(proto::Entry entry)>;

// Walks `sources` (as WalkSources, `exclude` left out) and chunks every file as ChunkTree does, a batch of
// `batch_entries` entries at a time: each new chunk goes to `sink` once in the whole tree, each entry kept to `out`.
// A file dropped (vanished, unreadable) takes its later hard links with it, in any batch. `total_bytes` (from an
// earlier walk) is the progress total. Errors: the walk's, the sink's and `out`'s.
absl::StatusOr<WalkedTree> WalkAndChunk(const std::vector<std::string>& sources, const std::string& exclude,
                                        const ChunkOptions& options, uint64_t total_bytes, const ChunkSink& sink,
                                        const EntryOut& out, size_t batch_entries = 4096);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_WALK_CHUNKER_H_
