// A chunk as stored: named by the SHA-256 of its bytes (hex), kept as one zstd frame. Sealing hashes and compresses
// chunks on a worker thread; opening checks a stored frame against its name.
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_CHUNK_CODEC_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_CHUNK_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmb::offline {

// `entry` of a chunk that is a segment: several small files packed together (the pipeline keeps which).
inline constexpr size_t kSegmentEntry = SIZE_MAX;

// A chunk cut from a file, not yet sealed: `length` bytes at `at` in `holder` (a window buffer or a copy), from
// attempt `attempt` at reading entry `entry` (or kSegmentEntry).
struct ChunkPiece {
  std::shared_ptr<const std::string> holder;
  size_t at = 0, length = 0, entry = 0;
  uint8_t attempt = 0;
  std::shared_ptr<const std::vector<uint64_t>> file_ends;  // a segment: where each file packed in it ends
};

// A sealed chunk: its hash and, unless `known`, its zstd frame (empty when compression failed).
struct SealedChunk {
  size_t entry = 0;
  uint8_t attempt = 0;
  uint32_t length = 0;
  std::string hash, frame;
  bool known = false;
  std::vector<std::string> file_digests;  // a segment: FileDigest of each file packed in it
};

// What identifies a packed file's bytes (proto Entry.digest): the first 16 bytes of their SHA-256.
std::string FileDigest(absl::string_view bytes);

// Frame buffers handed back once a frame was used, so new frames reuse their memory. Thread-safe; keeps up to 64.
class FramePool {
 public:
  // A buffer to assign a frame into (empty string when the pool is empty).
  std::string Take();
  void Give(std::string frame);

 private:
  std::mutex mu_;
  std::vector<std::string> spare_;
};

// Hashes each piece and, unless `known` says the chunk is already stored, compresses it at `zstd_level` (frame
// memory from `frames`). Runs on any thread; one compression context per thread, reused.
std::vector<SealedChunk> SealChunks(const std::vector<ChunkPiece>& pieces,
                                    const std::function<bool(const std::string& sha256_hex)>& known, int zstd_level,
                                    FramePool* frames);

// Checks one stored chunk: decompresses `frame` and compares length and SHA-256. kDataLoss naming `where`.
absl::StatusOr<std::string> OpenChunk(absl::string_view frame, uint32_t length, const std::string& sha256_hex,
                                      const std::string& where);
// The same into `*out`, whose memory is reused from call to call (no allocation per chunk): a view of the chunk's
// bytes in it, valid until `*out` changes.
absl::StatusOr<absl::string_view> OpenChunkInto(absl::string_view frame, uint32_t length, const std::string& sha256_hex,
                                                const std::string& where, std::string* out);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_CHUNK_CODEC_H_
