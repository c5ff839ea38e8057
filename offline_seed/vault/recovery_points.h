// The recovery-point index of one protected item in the vault's container: which points are committed
// ("<item>/recovery-points/rp-NNNN.json", their figures also in the blob's metadata), each point's tree
// ("<item>/trees/rp-NNNN-<writer>.jsonl.zst") and where the chunks each point added live
// ("<item>/index/rp-NNNN-<writer>.jsonl.zst"), both streams (point_streams.h) named by the point. Committing uploads
// the tree and the index, then writes the point, only if absent. Reading never holds a point's tree or the item's
// chunks in memory: the tree is read an entry at a time, and the chunks go into indexes on disk (index::Table,
// index::DigestSet).
#ifndef VMBACKUP_OFFLINE_SEED_VAULT_RECOVERY_POINTS_H_
#define VMBACKUP_OFFLINE_SEED_VAULT_RECOVERY_POINTS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/blob/blob_client.h"
#include "common/index/digest_set.h"
#include "offline_seed/agent/chunk_locations.h"
#include "offline_seed/vault/point_streams.h"
#include "offline_seed/vault/vault.pb.h"

namespace vmb::vault {

using offline::ChunkLocations;

// The streams of a point being written: its tree (an entry a record) and the chunks it added (a chunk a record).
struct PointStreams {
  std::unique_ptr<RecordUpload> tree, chunks;
  static absl::StatusOr<PointStreams> Create();
};

class RecoveryPoints {
 public:
  RecoveryPoints(blob::BlobClient* client, blob::BlobUri container, std::string item)
      : client_(client), container_(std::move(container)), item_(std::move(item)) {}

  // "<item>/<kind>/rp-NNNN<suffix>", e.g. Name("packs", 2) or Name("index", 2, ".json").
  std::string Name(const std::string& kind, int number, const std::string& suffix = "") const;

  // Committed points, oldest first, without their entries; none when the container does not exist yet. One listing
  // request: the figures come from each point's metadata (its body is read only when they are missing).
  absl::StatusOr<std::vector<proto::RecoveryPoint>> List();
  // Point `number`'s summary (its tree is read with ForEachEntry). kNotFound naming the points that exist.
  absl::StatusOr<proto::RecoveryPoint> Get(int number);

  // Each entry of `point`'s tree, in walk order. Errors: the read's (kDataLoss for a damaged tree) and `fn`'s.
  using EntryFn = std::function<absl::Status(offline::proto::Entry entry)>;
  absl::Status ForEachEntry(const proto::RecoveryPoint& point, const EntryFn& fn);
  // Each chunk points 1..upto added, point by point.
  using ChunkFn = std::function<absl::Status(offline::proto::Chunk chunk)>;
  absl::Status ForEachChunk(int upto, const ChunkFn& fn);
  // Where the chunks of points 1..upto live, and the set of their hashes; both on disk. KnownChunks stops with
  // kCancelled once `*stop` is set.
  absl::StatusOr<std::unique_ptr<ChunkLocations>> LoadChunks(int upto);
  absl::StatusOr<std::unique_ptr<index::DigestSet>> KnownChunks(int upto, const std::atomic<bool>* stop = nullptr);

  // Uploads `streams` as the point's tree and chunk index, then writes `point` (its number names all three; its
  // entries, if any, are dropped) only if absent: a point, once committed, is never replaced. kAborted when another
  // writer committed that number meanwhile. The point as committed (no entries) goes to `*committed`.
  absl::Status Commit(proto::RecoveryPoint point, PointStreams streams, proto::RecoveryPoint* committed);

 private:
  blob::BlobClient* client_;
  blob::BlobUri container_;
  std::string item_;
};

}  // namespace vmb::vault

#endif  // VMBACKUP_OFFLINE_SEED_VAULT_RECOVERY_POINTS_H_
