#include "offline_seed/agent/chunk_locations.h"

#include "absl/strings/str_cat.h"
#include "common/index/digest_set.h"

namespace vmb::offline {

absl::StatusOr<std::unique_ptr<ChunkLocations>> ChunkLocations::Open() {
  index::Table::Options o;
  o.what = "chunk location index";
  o.row_bytes = "90";
  absl::StatusOr<std::unique_ptr<index::Table>> table = index::Table::Open("", o);
  if (!table.ok()) return table.status();
  return std::unique_ptr<ChunkLocations>(new ChunkLocations(*std::move(table)));
}

absl::Status ChunkLocations::Add(const std::vector<proto::Chunk>& chunks) {
  std::vector<index::Table::Row> rows(chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (!index::DigestBytes(chunks[i].sha256(), &rows[i].first)) {
      return absl::DataLossError(absl::StrCat("the chunk index holds a hash that is not a SHA-256: \"",
                                              chunks[i].sha256().substr(0, 80), "\""));
    }
    proto::Chunk place = chunks[i];
    place.clear_sha256();  // the key
    rows[i].second = place.SerializeAsString();
    if (rows[i].second.empty()) rows[i].second.push_back('\0');  // an empty value would read as no place
  }
  return table_->Put(std::move(rows)).status();
}

absl::StatusOr<std::optional<proto::Chunk>> ChunkLocations::Find(const std::string& sha256_hex) {
  std::string key;
  if (!index::DigestBytes(sha256_hex, &key)) return std::nullopt;
  absl::StatusOr<std::optional<std::string>> value = table_->Get(key);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::nullopt;
  proto::Chunk c;
  if (**value != std::string(1, '\0') && !c.ParseFromString(**value)) {
    return absl::DataLossError(absl::StrCat("the chunk location index is damaged at chunk ", sha256_hex));
  }
  c.set_sha256(sha256_hex);
  return c;
}

}  // namespace vmb::offline
