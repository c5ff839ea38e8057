// How a restore reads the vault: every distinct chunk the files need, fetched and checked once however many files
// (or places in a file) use it, in pack order, in ranges of up to 8 MiB that span files. Azurite spends about as much
// on a request as on 4 MiB of data, so a file at a time (a request per small file) would halve the throughput; a
// gap of up to 1 MiB between needed chunks is read and skipped rather than costing another request.
#ifndef VMBACKUP_OFFLINE_SEED_VAULT_RESTORE_PLAN_H_
#define VMBACKUP_OFFLINE_SEED_VAULT_RESTORE_PLAN_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "offline_seed/agent/staging.pb.h"
#include "offline_seed/agent/tree.h"

namespace vmb::vault {

inline constexpr uint64_t kMaxRangeBytes = 8u << 20;
inline constexpr uint64_t kMaxGapBytes = 1u << 20;

// One place a chunk's bytes go: its bytes [skip, skip + length) to file `file` (an index into the planned files) at
// `at` in its stored stream (a file packed into a segment takes a part of it; others take whole chunks).
struct ChunkUse {
  size_t file;
  uint64_t at;
  uint64_t skip = 0;
  uint64_t length = 0;
};

// A distinct chunk (its place in the vault) and every use of it.
struct ChunkPiece {
  offline::proto::Chunk chunk;
  std::vector<ChunkUse> uses;
};

// One read: pack bytes [begin, end) holding the pieces order[first, last).
struct PackRange {
  size_t first, last;
  uint64_t begin, end;
};

// The pointers refer into the files given to PlanRestore, which must outlive the plan. Not copyable
// (order points into pieces); movable.
struct RestorePlan {
  std::map<absl::string_view, ChunkPiece> pieces;  // by SHA-256
  std::vector<const ChunkPiece*> order;            // by pack, then offset
  std::vector<PackRange> ranges;
  std::vector<offline::StoredLayout> layouts;  // where each file's stored bytes go (holes stay holes)

  RestorePlan() = default;
  RestorePlan(RestorePlan&&) = default;
  RestorePlan& operator=(RestorePlan&&) = default;
  RestorePlan(const RestorePlan&) = delete;
  RestorePlan& operator=(const RestorePlan&) = delete;
};

// Where a chunk lives in the vault (by its SHA-256, hex), or nullopt: ChunkLocations::Find.
using ChunkLookup = std::function<absl::StatusOr<std::optional<offline::proto::Chunk>>(const std::string& sha256_hex)>;

// kDataLoss naming `target`/<path> and the chunk when a file's chunk is not in the vault's index, or naming the file
// when its chunks do not hold its bytes (ChunkSlicer).
absl::StatusOr<RestorePlan> PlanRestore(const std::vector<const offline::proto::Entry*>& files, const ChunkLookup& find,
                                        const std::string& target);

}  // namespace vmb::vault

#endif  // VMBACKUP_OFFLINE_SEED_VAULT_RESTORE_PLAN_H_
