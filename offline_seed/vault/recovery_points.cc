#include "offline_seed/vault/recovery_points.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/crypto/encoding.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"

namespace vmb::vault {
namespace {

constexpr char kSummaryKey[] = "vmbsummary";
// Metadata is limited to 8 KiB per blob; a bigger summary is left out (List then reads the body).
constexpr size_t kMaxSummary = 7000;

}  // namespace

std::string RecoveryPoints::Name(const std::string& kind, int number, const std::string& suffix) const {
  return absl::StrFormat("%s/%s/rp-%04d%s", item_, kind, number, suffix);
}

absl::StatusOr<std::vector<proto::RecoveryPoint>> RecoveryPoints::List() {
  blob::ListOptions lo;
  lo.prefix = item_ + "/recovery-points/";
  lo.include_metadata = true;
  absl::StatusOr<std::vector<blob::BlobItem>> items = client_->ListBlobs(container_, lo);
  if (absl::IsNotFound(items.status())) return std::vector<proto::RecoveryPoint>();  // no vault container yet
  RETURN_IF_ERROR(items.status());
  std::vector<proto::RecoveryPoint> out;
  for (const blob::BlobItem& item : *items) {
    // The figures travel as the blob's metadata (one listing for all points); a point written without them is read.
    proto::RecoveryPoint rp;
    auto summary = item.properties.metadata.find(kSummaryKey);
    absl::StatusOr<std::string> decoded =
        summary == item.properties.metadata.end() ? absl::NotFoundError("") : crypto::Base64Decode(summary->second);
    if (!decoded.ok() || !json::Parse(*decoded, &rp, item.name).ok()) {
      ASSIGN_OR_RETURN(std::string text, client_->GetBlob(container_.WithBlob(item.name)));
      rp = proto::RecoveryPoint();
      RETURN_IF_ERROR(json::Parse(text, &rp, item.name));
    }
    rp.clear_entries();
    out.push_back(std::move(rp));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.number() < b.number(); });
  return out;
}

absl::StatusOr<proto::RecoveryPoint> RecoveryPoints::Get(int number) {
  absl::StatusOr<std::string> text = client_->GetBlob(container_.WithBlob(Name("recovery-points", number, ".json")));
  if (absl::IsNotFound(text.status())) {
    ASSIGN_OR_RETURN(std::vector<proto::RecoveryPoint> all, List());
    std::vector<int> numbers;
    for (const auto& rp : all) numbers.push_back(rp.number());
    return absl::NotFoundError(absl::StrCat("recovery point ", number, " does not exist for ", item_, "; ",
                                            numbers.empty()
                                                ? std::string("there are none yet")
                                                : absl::StrCat("there are: ", absl::StrJoin(numbers, ", "))));
  }
  RETURN_IF_ERROR(text.status());
  proto::RecoveryPoint rp;
  RETURN_IF_ERROR(json::Parse(*text, &rp, "recovery point"));
  return rp;
}

absl::StatusOr<ChunkIndex> RecoveryPoints::LoadChunks(int upto) {
  ChunkIndex chunks;
  for (int n = 1; n <= upto; ++n) {
    ASSIGN_OR_RETURN(std::string text, client_->GetBlob(container_.WithBlob(Name("index", n, ".json"))));
    proto::PackIndex index;
    RETURN_IF_ERROR(json::Parse(text, &index, "vault index"));
    for (const offline::proto::Chunk& c : index.chunks()) chunks.emplace(c.sha256(), c);
  }
  return chunks;
}

absl::Status RecoveryPoints::Commit(proto::RecoveryPoint& point, const proto::PackIndex& index) {
  RETURN_IF_ERROR(client_->PutBlockBlob(container_.WithBlob(Name("index", point.number(), ".json")),
                                        json::ToJsonCompact(index), {}, "application/json"));
  // Last: its presence commits the recovery point. Its figures (everything but the entries) also go into the
  // blob's metadata, base64 JSON, so listing the points is one request however many there are and however big
  // their trees.
  google::protobuf::RepeatedPtrField<offline::proto::Entry> entries;
  entries.Swap(point.mutable_entries());  // the summary is the point without its tree: no copy of the tree
  proto::RecoveryPoint summary = point;
  point.mutable_entries()->Swap(&entries);
  std::string encoded = crypto::Base64Encode(json::ToJson(summary));
  blob::Metadata metadata;
  if (encoded.size() < kMaxSummary) metadata[kSummaryKey] = encoded;
  // Only if absent: a recovery point, once committed, is never replaced (even by a writer that lost its lease).
  blob::WriteConditions only_new;
  only_new.if_none_match_any = true;
  absl::Status put = client_->PutBlockBlob(container_.WithBlob(Name("recovery-points", point.number(), ".json")),
                                           json::ToJsonCompact(point), metadata, "application/json", only_new);
  if (absl::IsAlreadyExists(put)) {
    return absl::AbortedError(absl::StrCat("recovery point ", point.number(), " of ", item_,
                                           " was committed by another backup meanwhile; run the backup again"));
  }
  return put;
}

}  // namespace vmb::vault
