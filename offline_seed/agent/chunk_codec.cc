#include "offline_seed/agent/chunk_codec.h"

#include <zstd.h>

#include "absl/strings/str_cat.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/status/status_macros.h"

namespace vmb::offline {
namespace {

// Compresses `data` into `*frame` (empty when zstd fails). One compression context and output buffer per thread,
// reused: ZSTD_compress would set up a new context, tables and all, for every chunk.
void Compress(absl::string_view data, int zstd_level, FramePool* frames, std::string* frame) {
  thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  thread_local std::string scratch;
  size_t bound = ZSTD_compressBound(data.size());
  if (scratch.size() < bound) scratch.resize(bound);
  size_t n = ZSTD_compressCCtx(cctx.get(), scratch.data(), bound, data.data(), data.size(), zstd_level);
  if (ZSTD_isError(n)) return;
  *frame = frames->Take();
  frame->assign(scratch.data(), n);
}

}  // namespace

std::string FileDigest(absl::string_view bytes) { return crypto::Sha256(bytes).substr(0, 16); }

std::string FramePool::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  if (spare_.empty()) return std::string();
  std::string frame = std::move(spare_.back());
  spare_.pop_back();
  return frame;
}

void FramePool::Give(std::string frame) {
  std::lock_guard<std::mutex> lock(mu_);
  if (spare_.size() < 64) spare_.push_back(std::move(frame));
}

std::vector<SealedChunk> SealChunks(const std::vector<ChunkPiece>& pieces,
                                    const std::function<bool(const std::string& sha256_hex)>& known, int zstd_level,
                                    FramePool* frames) {
  std::vector<SealedChunk> out(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    const ChunkPiece& p = pieces[i];
    SealedChunk& c = out[i];
    c.entry = p.entry;
    c.attempt = p.attempt;
    c.length = static_cast<uint32_t>(p.length);
    absl::string_view data(p.holder->data() + p.at, p.length);
    c.hash = crypto::Base16Encode(crypto::Sha256(data));
    if (p.file_ends) {
      uint64_t begin = 0;
      for (uint64_t end : *p.file_ends) {
        c.file_digests.push_back(FileDigest(data.substr(begin, end - begin)));
        begin = end;
      }
    }
    if (known && known(c.hash)) {
      c.known = true;
      continue;
    }
    Compress(data, zstd_level, frames, &c.frame);
  }
  return out;
}

absl::StatusOr<absl::string_view> OpenChunkInto(absl::string_view frame, uint32_t length, const std::string& sha256_hex,
                                                const std::string& where, std::string* out) {
  if (out->size() < length) out->resize(length);
  size_t n = ZSTD_decompress(out->data(), length, frame.data(), frame.size());
  absl::string_view data(out->data(), ZSTD_isError(n) ? 0 : n);
  if (ZSTD_isError(n) || n != length || crypto::Base16Encode(crypto::Sha256(data)) != sha256_hex) {
    return absl::DataLossError(
        absl::StrCat("chunk ", sha256_hex, " ", where, " is damaged (decompression or SHA-256 check failed)"));
  }
  return data;
}

absl::StatusOr<std::string> OpenChunk(absl::string_view frame, uint32_t length, const std::string& sha256_hex,
                                      const std::string& where) {
  std::string out;
  RETURN_IF_ERROR(OpenChunkInto(frame, length, sha256_hex, where, &out).status());
  out.resize(length);
  return out;
}

}  // namespace vmb::offline
