#include "offline_seed/vault/restore_plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace vmb::vault {
namespace {

using offline::proto::Chunk;

// Consecutive pieces of one pack, no overlap, gaps of at most kMaxGapBytes, at most kMaxRangeBytes in all.
std::vector<PackRange> Ranges(const std::vector<const ChunkPiece*>& order) {
  std::vector<PackRange> ranges;
  for (size_t i = 0; i < order.size();) {
    const Chunk& c = order[i]->chunk;
    PackRange r{i, i + 1, c.offset(), c.offset() + c.compressedlength()};
    while (r.last < order.size()) {
      const Chunk& n = order[r.last]->chunk;
      if (n.pack() != c.pack() || n.offset() < r.end || n.offset() > r.end + kMaxGapBytes ||
          n.offset() + n.compressedlength() - r.begin > kMaxRangeBytes) {
        break;
      }
      r.end = n.offset() + n.compressedlength();
      ++r.last;
    }
    ranges.push_back(r);
    i = r.last;
  }
  return ranges;
}

}  // namespace

absl::StatusOr<RestorePlan> PlanRestore(const std::vector<const offline::proto::Entry*>& files, const ChunkLookup& find,
                                        const std::string& target) {
  RestorePlan plan;
  plan.layouts.reserve(files.size());
  for (size_t f = 0; f < files.size(); ++f) {
    plan.layouts.emplace_back(*files[f]);
    offline::ChunkSlicer slicer(*files[f]);
    const std::string path = absl::StrCat(target, "/", files[f]->path());
    for (const std::string& h : files[f]->chunks()) {
      ChunkPiece& p = plan.pieces[h];
      if (p.uses.empty()) {  // the first use: where the chunk lives, looked up once
        absl::StatusOr<std::optional<Chunk>> found = find(h);
        if (!found.ok()) return found.status();
        if (!found->has_value()) {
          return absl::DataLossError(absl::StrCat("chunk ", h, " of ", path, " is missing from the vault's index"));
        }
        p.chunk = **std::move(found);
      }
      ASSIGN_OR_RETURN(offline::ChunkSlicer::Slice s, slicer.Next(p.chunk.length(), path));
      p.uses.push_back({f, s.at, s.skip, s.length});
    }
    RETURN_IF_ERROR(slicer.Done(path));
  }
  for (const auto& [hash, p] : plan.pieces) plan.order.push_back(&p);
  std::sort(plan.order.begin(), plan.order.end(), [](const ChunkPiece* a, const ChunkPiece* b) {
    int by_pack = a->chunk.pack().compare(b->chunk.pack());
    return by_pack != 0 ? by_pack < 0 : a->chunk.offset() < b->chunk.offset();
  });
  plan.ranges = Ranges(plan.order);
  return plan;
}

}  // namespace vmb::vault
