// One read of a restore plan carried out: a range of a vault pack fetched, each chunk in it checked (zstd +
// SHA-256) and written to every place the plan says it goes.
#ifndef VMBACKUP_OFFLINE_SEED_VAULT_RANGE_RESTORE_H_
#define VMBACKUP_OFFLINE_SEED_VAULT_RANGE_RESTORE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/blob/blob_client.h"
#include "offline_seed/vault/restore_plan.h"

namespace vmb::vault {

struct RangeTarget {
  const std::vector<const offline::proto::Entry*>* files;  // as planned; created at full length (RestoreTreeFilled)
  const std::string* target;                               // the restore's folder: file paths are under it
  std::function<void(uint64_t bytes)> wrote;               // after each write (from the calling thread)
};

// Fetches `range` of its pack in `container` and writes its chunks. Thread-safe for distinct ranges (several may
// write to one file, at different places). kDataLoss naming the pack and offset for a damaged chunk; I/O errors name
// the file.
absl::Status RestoreRange(blob::BlobClient& client, const blob::BlobUri& container, const RestorePlan& plan,
                          const PackRange& range, const RangeTarget& out);

}  // namespace vmb::vault

#endif  // VMBACKUP_OFFLINE_SEED_VAULT_RANGE_RESTORE_H_
