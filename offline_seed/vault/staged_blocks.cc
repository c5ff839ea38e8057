#include "offline_seed/vault/staged_blocks.h"

#include <utility>
#include <vector>

#include "common/status/status_macros.h"

namespace vmb::vault {

absl::StatusOr<StagedBlocks> GetStagedBlocks(blob::BlobClient& client, const blob::BlobUri& blob) {
  absl::StatusOr<std::vector<std::pair<std::string, uint64_t>>> staged = client.GetAllBlocks(blob);
  if (absl::IsNotFound(staged.status())) return StagedBlocks();
  RETURN_IF_ERROR(staged.status());
  return StagedBlocks(staged->begin(), staged->end());
}

}  // namespace vmb::vault
