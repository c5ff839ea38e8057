// The recovery-point index of one protected item in the vault's container: which points are committed
// ("<item>/recovery-points/rp-NNNN.json", their figures also in the blob's metadata) and where the chunks each point
// added live ("<item>/index/rp-NNNN.json"). Committing writes the index, then the point, only if absent.
#ifndef VMBACKUP_OFFLINE_SEED_VAULT_RECOVERY_POINTS_H_
#define VMBACKUP_OFFLINE_SEED_VAULT_RECOVERY_POINTS_H_

#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/blob/blob_client.h"
#include "offline_seed/vault/vault.pb.h"

namespace vmb::vault {

// Where each stored chunk lives, by its SHA-256 (hex).
using ChunkIndex = std::unordered_map<std::string, offline::proto::Chunk>;

class RecoveryPoints {
 public:
  RecoveryPoints(blob::BlobClient* client, blob::BlobUri container, std::string item)
      : client_(client), container_(std::move(container)), item_(std::move(item)) {}

  // "<item>/<kind>/rp-NNNN<suffix>", e.g. Name("packs", 2) or Name("index", 2, ".json").
  std::string Name(const std::string& kind, int number, const std::string& suffix = "") const;

  // Committed points, oldest first, without their entries; none when the container does not exist yet. One listing
  // request: the figures come from each point's metadata (its body is read only when they are missing).
  absl::StatusOr<std::vector<proto::RecoveryPoint>> List();
  // Point `number` with its entries. kNotFound naming the points that exist.
  absl::StatusOr<proto::RecoveryPoint> Get(int number);
  // The chunks of points 1..upto.
  absl::StatusOr<ChunkIndex> LoadChunks(int upto);
  // Writes `index`, then `point` (its number names both) only if absent: a point, once committed, is never replaced.
  // kAborted when another writer committed that number meanwhile. `point` is as it was when this returns (its
  // entries are set aside, not copied, while its summary is made).
  absl::Status Commit(proto::RecoveryPoint& point, const proto::PackIndex& index);

 private:
  blob::BlobClient* client_;
  blob::BlobUri container_;
  std::string item_;
};

}  // namespace vmb::vault

#endif  // VMBACKUP_OFFLINE_SEED_VAULT_RECOVERY_POINTS_H_
