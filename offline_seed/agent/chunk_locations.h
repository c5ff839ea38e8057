// Where each stored chunk lives (an image and offset in a staging location, a pack and offset in the vault), by its
// SHA-256: a table on disk (index::Table, a temporary file), so the chunks of a tree of any size are looked up in
// bounded memory. Used by restores, which need a chunk's place for every file they write.
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_CHUNK_LOCATIONS_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_CHUNK_LOCATIONS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/index/table.h"
#include "offline_seed/agent/staging.pb.h"

namespace vmb::offline {

class ChunkLocations {
 public:
  // An empty index in a temporary file.
  static absl::StatusOr<std::unique_ptr<ChunkLocations>> Open();

  // Adds `chunks` (a chunk already there keeps its place). kDataLoss for a hash that is not a SHA-256 (the index
  // came from a damaged catalogue or vault).
  absl::Status Add(const std::vector<proto::Chunk>& chunks);
  // The chunk with `sha256_hex` (its place), or nullopt. Thread-safe.
  absl::StatusOr<std::optional<proto::Chunk>> Find(const std::string& sha256_hex);
  uint64_t size() { return table_->size(); }

 private:
  explicit ChunkLocations(std::unique_ptr<index::Table> table) : table_(std::move(table)) {}
  std::unique_ptr<index::Table> table_;
};

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_CHUNK_LOCATIONS_H_
