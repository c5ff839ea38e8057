// Recovery point 1 from an offline import: the imported page blobs (the staged images, chunk frames at 512-byte
// aligned offsets) copied verbatim into the vault as block blobs "<item>/packs/seed-NNNN", one per image, every chunk
// checked on the way. The plan (which bytes go into which block) is separate from the copy, so it is tested alone.
#ifndef VMBACKUP_OFFLINE_SEED_VAULT_SEED_COPY_H_
#define VMBACKUP_OFFLINE_SEED_VAULT_SEED_COPY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/blob/blob_client.h"
#include "offline_seed/agent/staging.pb.h"
#include "offline_seed/vault/vault.pb.h"

namespace vmb::vault {

// One block of a seed pack: the image range [begin, end), which ends on a chunk boundary so the block is checked on
// its own before it is put; `chunks` are the catalogue's chunks inside it.
struct SeedBlock {
  uint64_t begin = 0, end = 0;
  std::vector<const offline::proto::Chunk*> chunks;
};

// One image's pack: its blob name in the vault and its blocks, in order (block k has id blob::BlockId(k)).
struct SeedPack {
  std::string name;
  std::vector<SeedBlock> blocks;
  uint64_t size() const { return blocks.empty() ? 0 : blocks.back().end; }
};

// The packs for `catalogue`'s chunks (pointers into it), one per image: chunks by offset, cut into blocks of at
// least `block_bytes` (the last smaller). Each chunk's place in the vault (its pack; no image) is appended to
// `index`. kInvalidArgument when a chunk names an image past `images`.
absl::StatusOr<std::vector<SeedPack>> PlanSeedPacks(const offline::proto::Catalogue& catalogue, size_t images,
                                                    const std::string& item, uint64_t block_bytes,
                                                    proto::PackIndex* index);

// The bytes a seed copies: every chunk's frame, padded to 512 bytes as the images hold it.
uint64_t SeedBytes(const offline::proto::Catalogue& catalogue);

struct SeedCopyCounts {
  uint64_t blocks_uploaded = 0;
  uint64_t blocks_reused = 0;  // found committed or staged by an earlier, interrupted run
};

// Copies `image` into the block blob `pack` as `plan` says, `parallelism` blocks at a time. A pack already committed
// at its full size is left as it is; blocks staged with their size are not copied again. Each block's chunks are
// checked (zstd + SHA-256) before it is put: kDataLoss naming the image and offset otherwise. `done` is called with
// the bytes of each part finished: `sent` for a block copied now (from the worker threads), not for what an earlier
// run had copied.
using SeedDone = std::function<void(uint64_t bytes, bool sent)>;
absl::Status CopySeedPack(blob::BlobClient& client, const blob::BlobUri& image, const blob::BlobUri& pack,
                          const SeedPack& plan, int parallelism, const SeedDone& done, SeedCopyCounts* counts);

// Recovery point 1 as the catalogue describes it (kind Seeded, its roots, entries and figures; no creation time).
// The entries are moved out of `catalogue` (a million files' entries are hundreds of megabytes), not copied.
proto::RecoveryPoint SeededPoint(offline::proto::Catalogue* catalogue);

}  // namespace vmb::vault

#endif  // VMBACKUP_OFFLINE_SEED_VAULT_SEED_COPY_H_
