// Walking and chunking a source tree of any size in bounded memory: the walk's entries are taken a batch of a few
// thousand at a time, each batch is chunked (ChunkTree) and its entries handed on with their chunks, so only one
// batch is ever in memory, however many files the tree holds. Chunks are deduplicated across batches by the set of
// the chunks stored so far, which is on disk (index::DigestSet): the one thing that grows with the tree does not
// grow in memory.
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_WALK_CHUNKER_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_WALK_CHUNKER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/index/digest_set.h"
#include "offline_seed/agent/staging.pb.h"
#include "offline_seed/agent/tree.h"

namespace vmb::offline {

struct WalkedTree {
  std::vector<std::string> roots;        // absolute, canonical
  uint64_t bytes = 0;                    // of the regular files kept, as captured
  std::vector<proto::Problem> problems;  // the walk's, then the reads'
  ChunkStats stats;
};

// Called with each entry kept, in walk order, its chunks filled.
using EntryOut = std::function<absl::Status(proto::Entry entry)>;

// Walks `sources` (as WalkSources, `exclude` left out) and chunks every file as ChunkTree does, a batch of
// `batch_entries` entries at a time (up to 8 times as many: batches end where CutAfter says): each new chunk goes to
// `sink` once in the whole tree, each entry kept to `out`. `stored` is the set of chunks stored so far (each chunk the
// sink took is added once its batch is done); a chunk in it is not compressed or stored again. A file dropped
// (vanished, unreadable) takes its later hard links with it, in any batch. `total_bytes` (from an earlier walk) is the
// progress total. Errors: the walk's, the sink's, `out`'s and the set's.
absl::StatusOr<WalkedTree> WalkAndChunk(const std::vector<std::string>& sources, const std::string& exclude,
                                        const ChunkOptions& options, uint64_t total_bytes, index::DigestSet& stored,
                                        const ChunkSink& sink, const EntryOut& out, size_t batch_entries = 4096);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_WALK_CHUNKER_H_
