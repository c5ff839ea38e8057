#include "offline_seed/vault/recovery_points.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"

namespace vmb::vault {
namespace {

constexpr char kSummaryKey[] = "vmbsummary";
// Metadata is limited to 8 KiB per blob; a bigger summary is left out (List then reads the body).
constexpr size_t kMaxSummary = 7000;
// Chunks put into an index on disk per transaction.
constexpr size_t kBatch = 8192;

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

absl::Status RecoveryPoints::ForEachEntry(const proto::RecoveryPoint& point, const EntryFn& fn) {
  if (point.tree().empty()) {  // a point written before the streams: its tree is in its JSON
    for (const offline::proto::Entry& e : point.entries()) RETURN_IF_ERROR(fn(e));
    return absl::OkStatus();
  }
  return ForEachRecord(*client_, container_.WithBlob(point.tree()), [&](offline::proto::Catalogue& record) {
    for (offline::proto::Entry& e : *record.mutable_entries()) RETURN_IF_ERROR(fn(std::move(e)));
    return absl::OkStatus();
  });
}

absl::Status RecoveryPoints::ForEachChunk(int upto, const ChunkFn& fn) {
  ASSIGN_OR_RETURN(std::vector<proto::RecoveryPoint> points, List());
  for (const proto::RecoveryPoint& rp : points) {
    if (rp.number() > upto) break;
    if (rp.chunkindex().empty()) {  // a point written before the streams: one JSON object
      ASSIGN_OR_RETURN(std::string text, client_->GetBlob(container_.WithBlob(Name("index", rp.number(), ".json"))));
      proto::PackIndex index;
      RETURN_IF_ERROR(json::Parse(text, &index, "vault index"));
      for (offline::proto::Chunk& c : *index.mutable_chunks()) RETURN_IF_ERROR(fn(std::move(c)));
      continue;
    }
    RETURN_IF_ERROR(
        ForEachRecord(*client_, container_.WithBlob(rp.chunkindex()), [&](offline::proto::Catalogue& record) {
          for (offline::proto::Chunk& c : *record.mutable_chunks()) RETURN_IF_ERROR(fn(std::move(c)));
          return absl::OkStatus();
        }));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ChunkLocations>> RecoveryPoints::LoadChunks(int upto) {
  ASSIGN_OR_RETURN(std::unique_ptr<ChunkLocations> locations, ChunkLocations::Open());
  std::vector<offline::proto::Chunk> batch;
  RETURN_IF_ERROR(ForEachChunk(upto, [&](offline::proto::Chunk c) {
    batch.push_back(std::move(c));
    if (batch.size() < kBatch) return absl::OkStatus();
    absl::Status added = locations->Add(batch);
    batch.clear();
    return added;
  }));
  RETURN_IF_ERROR(locations->Add(batch));
  return locations;
}

absl::StatusOr<std::unique_ptr<index::DigestSet>> RecoveryPoints::KnownChunks(int upto, const std::atomic<bool>* stop) {
  ASSIGN_OR_RETURN(std::unique_ptr<index::DigestSet> known, index::DigestSet::Open(""));
  std::vector<std::string> batch;
  auto flush = [&]() -> absl::Status {
    absl::StatusOr<size_t> added = known->Insert(std::move(batch));
    batch.clear();
    return added.status();
  };
  RETURN_IF_ERROR(ForEachChunk(upto, [&](offline::proto::Chunk c) {
    if (stop != nullptr && stop->load()) return absl::CancelledError("the known chunks are not needed");
    batch.push_back(std::move(*c.mutable_sha256()));
    return batch.size() < kBatch ? absl::OkStatus() : flush();
  }));
  RETURN_IF_ERROR(flush());
  return known;
}

absl::Status RecoveryPoints::Commit(proto::RecoveryPoint point, PointStreams streams, proto::RecoveryPoint* committed) {
  const int n = point.number();
  // Named for this writer too: a writer that loses the race for number n must not replace the winner's streams.
  const std::string tag = absl::StrCat("-", crypto::Base16Encode(crypto::SecureRandom().Bytes(4)), ".jsonl.zst");
  point.set_tree(Name("trees", n, tag));
  point.set_chunkindex(Name("index", n, tag));
  point.clear_entries();
  RETURN_IF_ERROR(streams.tree->Upload(*client_, container_.WithBlob(point.tree())));
  RETURN_IF_ERROR(streams.chunks->Upload(*client_, container_.WithBlob(point.chunkindex())));
  // Last: its presence commits the recovery point. Its figures also go into the blob's metadata, base64 JSON, so
  // listing the points is one request however many there are.
  const std::string text = json::ToJson(point);
  std::string encoded = crypto::Base64Encode(text);
  blob::Metadata metadata;
  if (encoded.size() < kMaxSummary) metadata[kSummaryKey] = encoded;
  // Only if absent: a recovery point, once committed, is never replaced (even by a writer that lost its lease).
  blob::WriteConditions only_new;
  only_new.if_none_match_any = true;
  absl::Status put = client_->PutBlockBlob(container_.WithBlob(Name("recovery-points", n, ".json")), text, metadata,
                                           "application/json", only_new);
  if (absl::IsAlreadyExists(put)) {
    (void)client_->DeleteBlob(container_.WithBlob(point.tree()));  // best effort: nothing refers to them
    (void)client_->DeleteBlob(container_.WithBlob(point.chunkindex()));
    return absl::AbortedError(absl::StrCat("recovery point ", n, " of ", item_,
                                           " was committed by another backup meanwhile; run the backup again"));
  }
  RETURN_IF_ERROR(put);
  *committed = std::move(point);
  return absl::OkStatus();
}

absl::StatusOr<PointStreams> PointStreams::Create() {
  PointStreams s;
  ASSIGN_OR_RETURN(s.tree, RecordUpload::Create());
  ASSIGN_OR_RETURN(s.chunks, RecordUpload::Create());
  return s;
}

}  // namespace vmb::vault
