// Recovery point 1 from an offline import: the imported page blobs (the staged images, chunk frames back to back, or
// at 512-byte boundaries in older staging locations) copied verbatim into the vault as block blobs
// "<item>/packs/seed-NNNN", one per image, every chunk checked on the way. The catalogue's chunks come in the order
// initiate wrote them (image by image, by offset) and are copied as they come: a block closes once it holds
// `block_bytes` and is copied while the next fills, so memory holds the blocks in flight, not the catalogue.
#ifndef VMBACKUP_OFFLINE_SEED_VAULT_SEED_COPY_H_
#define VMBACKUP_OFFLINE_SEED_VAULT_SEED_COPY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/blob/blob_client.h"
#include "common/concurrent/bounded_pool.h"
#include "offline_seed/agent/staging.pb.h"
#include "offline_seed/vault/staged_blocks.h"

namespace vmb::vault {

struct SeedCopyCounts {
  uint64_t blocks_uploaded = 0;
  uint64_t blocks_reused = 0;  // found committed or staged by an earlier, interrupted run
};

// Called with the bytes of each block finished: `sent` for a block copied now (from the worker threads), not for
// what an earlier run had copied.
using SeedDone = std::function<void(uint64_t bytes, bool sent)>;

struct SeedCopyOptions {
  blob::BlobClient* client = nullptr;
  std::vector<blob::BlobUri> images;  // the imported page blobs, image i at index i
  blob::BlobUri container;            // the vault's
  std::string item;
  uint64_t block_bytes = 4u << 20;
  int parallelism = 4;
  SeedDone done = [](uint64_t, bool) {};
  // Called before each pack's block list is committed (a pack is committed whole: only while the run still holds
  // the item); its error stops the copy.
  std::function<absl::Status()> before_commit = [] { return absl::OkStatus(); };
};

// Not thread-safe: Add and Finish are called by one thread; the copies run on the copier's own pool. Block k of a
// pack has id blob::BlockId(k) and ends on a chunk boundary, so it is checked on its own before it is put, and a run
// that resumes finds the blocks an interrupted one staged. A pack already committed is not copied again (if its size
// is the catalogue's; otherwise kDataLoss naming it).
class SeedCopier {
 public:
  explicit SeedCopier(SeedCopyOptions options);
  ~SeedCopier();

  // The catalogue's next chunk; returns where it lives in the vault (its pack, at its image offset; no image).
  // kInvalidArgument when it names an image past `images`; kDataLoss when it comes out of order (before an earlier
  // chunk's end) or when a copy found a damaged or missing range (naming the image and offset: repair the import,
  // then run again; the blocks copied are kept).
  absl::StatusOr<offline::proto::Chunk> Add(const offline::proto::Chunk& chunk);
  // Copies the blocks still open and commits every pack (an image with no chunks gets an empty one).
  absl::Status Finish();

  const SeedCopyCounts& counts() const { return counts_; }
  // "<item>/packs/seed-NNNN"
  static std::string PackName(const std::string& item, uint32_t image);

 private:
  struct Block {
    uint64_t begin = 0, end = 0;
    std::vector<offline::proto::Chunk> chunks;
  };
  absl::Status StartPack(uint32_t image);  // the packs before `image` are finished
  absl::Status CloseBlock();
  absl::Status FinishPack();

  SeedCopyOptions o_;
  concurrent::BoundedPool pool_;
  SeedCopyCounts counts_;
  int64_t image_ = -1;  // the pack being filled
  blob::BlobUri pack_;
  bool committed_ = false;  // by an earlier run
  uint64_t committed_bytes_ = 0;
  StagedBlocks staged_;
  std::vector<std::string> ids_;
  Block block_;
};

}  // namespace vmb::vault

#endif  // VMBACKUP_OFFLINE_SEED_VAULT_SEED_COPY_H_
