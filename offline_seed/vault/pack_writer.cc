#include "offline_seed/vault/pack_writer.h"

#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/status/status_macros.h"

namespace vmb::vault {

using offline::proto::Chunk;

PackWriter::PackWriter(PackWriterOptions options) : o_(std::move(options)), blocks_(1), pool_(o_.parallelism) {}

absl::Status PackWriter::Add(const std::string& hash, uint32_t length, const std::string& frame) {
  if (pool_.failed()) return absl::UnavailableError("an upload failed");
  Block& b = blocks_.back();
  Chunk c;
  c.set_sha256(hash);
  c.set_length(length);
  c.set_compressedlength(static_cast<uint32_t>(frame.size()));
  c.set_offset(b.data.size());
  // A block's room taken at once: grown frame by frame, its string would double past the block size, and up to
  // 2 x `parallelism` blocks wait for their upload (a 1 GB file's incremental peaked at 68 MiB of blocks). The last
  // frame may end past block_bytes: by at most a chunk (256 KiB) or a segment of small files (4 MiB, rarer).
  if (b.data.empty()) b.data.reserve(o_.block_bytes + o_.block_bytes / 4);
  b.data += frame;
  b.raw += length;
  b.hashes += hash;
  b.chunks.push_back(c);
  if (b.raw >= o_.block_bytes) Flush();
  return absl::OkStatus();
}

void PackWriter::Flush() {
  Block& b = blocks_.back();
  if (b.chunks.empty()) return;
  b.id = crypto::Base64Encode(crypto::Sha256(b.hashes));
  sizes_.emplace_back(b.id, b.data.size());
  auto it = o_.staged.find(b.id);
  if (it != o_.staged.end() && it->second == b.data.size()) {
    ++blocks_reused_;  // sent by an interrupted run
  } else {
    ++blocks_uploaded_;
    pool_.Submit([client = o_.client, pack = &o_.pack, counter = o_.bytes_uploaded, id = b.id,
                  data = std::move(b.data)]() -> absl::Status {
      RETURN_IF_ERROR(client->PutBlock(*pack, id, data));
      if (counter != nullptr) *counter += data.size();
      return absl::OkStatus();
    });
  }
  b.data.clear();
  blocks_.emplace_back();
}

absl::Status PackWriter::Close(bool flush_last) {
  if (flush_last) Flush();
  return pool_.Wait();
}

absl::StatusOr<proto::PackIndex> PackWriter::Commit() {
  proto::PackIndex index;
  std::vector<std::string> ids;
  uint64_t base = 0;
  for (size_t k = 0; k < sizes_.size(); ++k) {
    ids.push_back(sizes_[k].first);
    for (Chunk c : blocks_[k].chunks) {
      c.set_offset(base + c.offset());
      c.set_pack(o_.pack_name);
      *index.add_chunks() = c;
    }
    base += sizes_[k].second;
  }
  if (!ids.empty()) RETURN_IF_ERROR(o_.client->PutBlockList(o_.pack, ids));
  return index;
}

}  // namespace vmb::vault
