#include "offline_seed/vault/seed_copy.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/concurrent/bounded_pool.h"
#include "common/status/status_macros.h"
#include "offline_seed/agent/tree.h"
#include "offline_seed/vault/staged_blocks.h"

namespace vmb::vault {
namespace {

using offline::proto::Chunk;

// One image's chunks, by offset, cut into blocks.
SeedPack PlanOnePack(std::vector<const Chunk*> chunks, std::string name, uint64_t block_bytes,
                     proto::PackIndex* index) {
  std::sort(chunks.begin(), chunks.end(), [](const Chunk* a, const Chunk* b) { return a->offset() < b->offset(); });
  SeedPack pack;
  pack.name = std::move(name);
  std::vector<SeedBlock>& blocks = pack.blocks;
  for (const Chunk* c : chunks) {
    if (blocks.empty() || blocks.back().end - blocks.back().begin >= block_bytes) {
      uint64_t begin = blocks.empty() ? 0 : blocks.back().end;
      blocks.push_back({begin, begin, {}});
    }
    blocks.back().chunks.push_back(c);
    blocks.back().end = std::max(blocks.back().end, c->offset() + c->compressedlength());
    Chunk located = *c;
    located.clear_image();
    located.set_pack(pack.name);
    *index->add_chunks() = located;
  }
  return pack;
}

// Reads one block's range of the image, checks every chunk in it, and stages it as block `id` of `pack`.
absl::Status CopyBlock(blob::BlobClient& client, const blob::BlobUri& image, const blob::BlobUri& pack,
                       const SeedBlock& b, const std::string& id) {
  ASSIGN_OR_RETURN(std::string data, client.GetBlob(image, blob::ByteRange{b.begin, b.end - b.begin}));
  for (const Chunk* c : b.chunks) {
    RETURN_IF_ERROR(offline::OpenChunk(data.substr(c->offset() - b.begin, c->compressedlength()), c->length(),
                                       c->sha256(),
                                       absl::StrCat("in the imported blob ", image.blob(), " at offset ", c->offset(),
                                                    " (run `seedagent repair` to re-send the ranges the import "
                                                    "reported, then back up again)"))
                        .status());
  }
  return client.PutBlock(pack, id, data);
}

}  // namespace

absl::StatusOr<std::vector<SeedPack>> PlanSeedPacks(const offline::proto::Catalogue& catalogue, size_t images,
                                                    const std::string& item, uint64_t block_bytes,
                                                    proto::PackIndex* index) {
  std::vector<std::vector<const Chunk*>> by_image(images);
  for (const Chunk& c : catalogue.chunks()) {
    if (c.image() >= images) {
      return absl::InvalidArgumentError(
          absl::StrCat("the catalogue names image ", c.image(), " but only ", images, " imported image(s) were given"));
    }
    by_image[c.image()].push_back(&c);
  }
  std::vector<SeedPack> packs;
  for (size_t i = 0; i < images; ++i) {
    packs.push_back(
        PlanOnePack(std::move(by_image[i]), absl::StrFormat("%s/packs/seed-%04u", item, i), block_bytes, index));
  }
  return packs;
}

uint64_t SeedBytes(const offline::proto::Catalogue& catalogue) {
  uint64_t total = 0;
  for (const Chunk& c : catalogue.chunks()) total += c.compressedlength();
  return total;
}

absl::Status CopySeedPack(blob::BlobClient& client, const blob::BlobUri& image, const blob::BlobUri& pack,
                          const SeedPack& plan, int parallelism, const SeedDone& done, SeedCopyCounts* counts) {
  absl::StatusOr<blob::BlobProperties> committed = client.GetProperties(pack);
  if (committed.ok() && committed->blob_type == "BlockBlob" && committed->content_length == plan.size()) {
    done(plan.size(), false);
    counts->blocks_reused += plan.blocks.size();
    return absl::OkStatus();  // copied by an earlier run
  }
  ASSIGN_OR_RETURN(StagedBlocks staged, GetStagedBlocks(client, pack));
  std::vector<std::string> ids;
  concurrent::BoundedPool pool(parallelism);
  for (size_t k = 0; k < plan.blocks.size(); ++k) {
    std::string id = blob::BlockId(k);
    ids.push_back(id);
    const SeedBlock& b = plan.blocks[k];
    auto it = staged.find(id);
    if (it != staged.end() && it->second == b.end - b.begin) {
      ++counts->blocks_reused;
      done(b.end - b.begin, false);
      continue;
    }
    ++counts->blocks_uploaded;
    pool.Submit([&client, &image, &pack, &b, &done, id]() -> absl::Status {
      RETURN_IF_ERROR(CopyBlock(client, image, pack, b, id));
      done(b.end - b.begin, true);
      return absl::OkStatus();
    });
  }
  RETURN_IF_ERROR(pool.Wait());
  return client.PutBlockList(pack, ids);
}

proto::RecoveryPoint SeededPoint(offline::proto::Catalogue* catalogue) {
  proto::RecoveryPoint rp;
  rp.set_number(1);
  rp.set_kind("Seeded");
  for (const std::string& r : catalogue->roots()) rp.add_roots(r);
  uint64_t source_bytes = 0, files = 0, chunk_refs = 0, new_bytes = 0;
  rp.mutable_entries()->Swap(catalogue->mutable_entries());
  for (const auto& e : rp.entries()) {
    if (e.type() == "file") {
      ++files;
      source_bytes += e.size();
      chunk_refs += e.chunks_size();
    }
  }
  for (const Chunk& c : catalogue->chunks()) new_bytes += c.length();
  rp.set_files(files);
  rp.set_sourcebytes(source_bytes);
  rp.set_chunks(chunk_refs);
  rp.set_newchunks(catalogue->chunks_size());
  rp.set_newbytes(new_bytes);
  return rp;
}

}  // namespace vmb::vault
