#include "offline_seed/vault/seed_copy.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status/status_macros.h"
#include "offline_seed/agent/tree.h"

namespace vmb::vault {
namespace {

using offline::proto::Chunk;

// Reads one block's range of the image, checks every chunk in it, and stages it as block `id` of `pack`.
absl::Status CopyBlock(blob::BlobClient& client, const blob::BlobUri& image, const blob::BlobUri& pack, uint64_t begin,
                       uint64_t end, const std::vector<Chunk>& chunks, const std::string& id) {
  ASSIGN_OR_RETURN(std::string data, client.GetBlob(image, blob::ByteRange{begin, end - begin}));
  for (const Chunk& c : chunks) {
    RETURN_IF_ERROR(offline::OpenChunk(data.substr(c.offset() - begin, c.compressedlength()), c.length(), c.sha256(),
                                       absl::StrCat("in the imported blob ", image.blob(), " at offset ", c.offset(),
                                                    " (run `seedagent repair` to re-send the ranges the import "
                                                    "reported, then back up again)"))
                        .status());
  }
  return client.PutBlock(pack, id, data);
}

}  // namespace

std::string SeedCopier::PackName(const std::string& item, uint32_t image) {
  return absl::StrFormat("%s/packs/seed-%04u", item, image);
}

SeedCopier::SeedCopier(SeedCopyOptions options) : o_(std::move(options)), pool_(o_.parallelism) {}

SeedCopier::~SeedCopier() { (void)pool_.Wait(); }

absl::Status SeedCopier::StartPack(uint32_t image) {
  while (image_ < static_cast<int64_t>(image)) {
    if (image_ >= 0) RETURN_IF_ERROR(FinishPack());
    ++image_;
    pack_ = o_.container.WithBlob(PackName(o_.item, static_cast<uint32_t>(image_)));
    ids_.clear();
    block_ = Block();
    // A pack is committed only once all its blocks are: one that exists was copied whole by an earlier run.
    absl::StatusOr<blob::BlobProperties> committed = o_.client->GetProperties(pack_);
    committed_ = committed.ok() && committed->blob_type == "BlockBlob";
    committed_bytes_ = committed_ ? committed->content_length : 0;
    if (!committed.ok() && !absl::IsNotFound(committed.status())) return committed.status();
    staged_.clear();
    if (!committed_) {
      ASSIGN_OR_RETURN(staged_, GetStagedBlocks(*o_.client, pack_));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Chunk> SeedCopier::Add(const Chunk& c) {
  if (c.image() >= o_.images.size()) {
    return absl::InvalidArgumentError(absl::StrCat("the catalogue names image ", c.image(), " but only ",
                                                   o_.images.size(), " imported image(s) were given"));
  }
  if (static_cast<int64_t>(c.image()) < image_ ||
      (static_cast<int64_t>(c.image()) == image_ && c.offset() < block_.end)) {
    return absl::DataLossError(absl::StrCat("the catalogue's chunks are out of order (image ", c.image(), " offset ",
                                            c.offset(), " comes after the chunks up to offset ", block_.end,
                                            " of image ", image_,
                                            "); it was not written by `seedagent initiate`: stage the backup again"));
  }
  if (static_cast<int64_t>(c.image()) > image_) {
    RETURN_IF_ERROR(CloseBlock());
    RETURN_IF_ERROR(StartPack(c.image()));
  }
  if (block_.end - block_.begin >= o_.block_bytes) RETURN_IF_ERROR(CloseBlock());
  block_.chunks.push_back(c);
  block_.end = c.offset() + c.compressedlength();
  Chunk located = c;
  located.clear_image();
  located.set_pack(PackName(o_.item, c.image()));
  return located;
}

absl::Status SeedCopier::CloseBlock() {
  if (pool_.failed()) return pool_.Drain();  // stop at the first failed copy
  if (block_.chunks.empty()) return absl::OkStatus();
  Block b = std::move(block_);
  block_ = Block();
  block_.begin = block_.end = b.end;
  std::string id = blob::BlockId(ids_.size());
  ids_.push_back(id);
  const uint64_t bytes = b.end - b.begin;
  auto staged = staged_.find(id);
  if (committed_ || (staged != staged_.end() && staged->second == bytes)) {
    ++counts_.blocks_reused;
    o_.done(bytes, false);
    return absl::OkStatus();
  }
  ++counts_.blocks_uploaded;
  const blob::BlobUri& image = o_.images[static_cast<size_t>(image_)];
  pool_.Submit([this, image, pack = pack_, b = std::move(b), id]() -> absl::Status {
    RETURN_IF_ERROR(CopyBlock(*o_.client, image, pack, b.begin, b.end, b.chunks, id));
    o_.done(b.end - b.begin, true);
    return absl::OkStatus();
  });
  return absl::OkStatus();
}

absl::Status SeedCopier::FinishPack() {
  RETURN_IF_ERROR(pool_.Drain());
  if (committed_ && committed_bytes_ != block_.end) {
    return absl::DataLossError(
        absl::StrCat("the vault already holds ", pack_.blob(), " with ", committed_bytes_,
                     " bytes where this import's catalogue makes ", block_.end,
                     ": it is not a copy of this import; delete that blob and run the backup again"));
  }
  if (committed_) return absl::OkStatus();
  RETURN_IF_ERROR(o_.before_commit());
  return o_.client->PutBlockList(pack_, ids_);
}

absl::Status SeedCopier::Finish() {
  RETURN_IF_ERROR(CloseBlock());
  if (!o_.images.empty()) RETURN_IF_ERROR(StartPack(static_cast<uint32_t>(o_.images.size() - 1)));
  if (image_ >= 0) RETURN_IF_ERROR(FinishPack());
  return absl::OkStatus();
}

}  // namespace vmb::vault
