// What an interrupted upload left behind: the blocks a blob service holds for a block blob, uncommitted or already
// committed (a run interrupted after its pack's Put Block List, before its recovery point was committed), so a run
// that resumes sends only the blocks it lacks (Seed's and Backup's packs both resume this way).
#ifndef VMBACKUP_OFFLINE_SEED_VAULT_STAGED_BLOCKS_H_
#define VMBACKUP_OFFLINE_SEED_VAULT_STAGED_BLOCKS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "common/blob/blob_client.h"

namespace vmb::vault {

// Block id (base64) -> size. Empty when the blob does not exist yet; other errors are the service's.
using StagedBlocks = std::map<std::string, uint64_t>;
absl::StatusOr<StagedBlocks> GetStagedBlocks(blob::BlobClient& client, const blob::BlobUri& blob);

}  // namespace vmb::vault

#endif  // VMBACKUP_OFFLINE_SEED_VAULT_STAGED_BLOCKS_H_
