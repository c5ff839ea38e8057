// The pack of one incremental recovery point ("<item>/packs/rp-NNNN"): the new chunks' zstd frames back to back, sent
// as blocks of about `block_bytes` of raw data while the tree is still being chunked. A block's id is the SHA-256 of
// its chunks' hashes, so a run that resumes after an interruption finds the blocks it had sent staged under the same
// ids and does not send them again.
#ifndef VMBACKUP_OFFLINE_SEED_VAULT_PACK_WRITER_H_
#define VMBACKUP_OFFLINE_SEED_VAULT_PACK_WRITER_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/blob/blob_client.h"
#include "common/concurrent/bounded_pool.h"
#include "offline_seed/vault/staged_blocks.h"
#include "offline_seed/vault/vault.pb.h"

namespace vmb::vault {

struct PackWriterOptions {
  blob::BlobClient* client = nullptr;
  blob::BlobUri pack;     // the pack blob
  std::string pack_name;  // its name in the container, as the index records it
  StagedBlocks staged;    // what an interrupted run left (GetStagedBlocks)
  uint64_t block_bytes = 4u << 20;
  int parallelism = 4;
  std::atomic<uint64_t>* bytes_uploaded = nullptr;  // optional: counts the pack bytes sent
};

// Not thread-safe: Add is called by one thread (ChunkTree calls its sink in file order); the uploads run on the
// writer's own pool.
class PackWriter {
 public:
  explicit PackWriter(PackWriterOptions options);

  // A new chunk (ChunkTree's sink). kUnavailable once an upload has failed, so chunking stops early.
  absl::Status Add(const std::string& sha256_hex, uint32_t length, const std::string& frame);
  // Sends the last, partly filled block when `flush_last`, then waits for every upload: the first upload error.
  absl::Status Close(bool flush_last);
  // After Close: commits the block list (nothing when no chunk was new) and returns where each chunk lives.
  absl::StatusOr<proto::PackIndex> Commit();

  uint64_t blocks_uploaded() const { return blocks_uploaded_; }
  uint64_t blocks_reused() const { return blocks_reused_; }

 private:
  struct Block {
    std::string id;
    std::string data;
    uint64_t raw = 0;
    std::vector<offline::proto::Chunk> chunks;  // offsets within the block until Commit
    std::string hashes;
  };
  // Names the current block, sends it unless staged already, and starts the next.
  void Flush();

  PackWriterOptions o_;
  std::vector<Block> blocks_;
  std::vector<std::pair<std::string, uint64_t>> sizes_;  // id, size, in order
  uint64_t blocks_uploaded_ = 0, blocks_reused_ = 0;
  concurrent::BoundedPool pool_;
};

}  // namespace vmb::vault

#endif  // VMBACKUP_OFFLINE_SEED_VAULT_PACK_WRITER_H_
