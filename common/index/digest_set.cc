#include "common/index/digest_set.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace vmb::index {

bool DigestBytes(absl::string_view sha256_hex, std::string* out) {
  if (sha256_hex.size() != 64) return false;
  for (char c : sha256_hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  *out = absl::HexStringToBytes(sha256_hex);
  return out->size() == 32;
}

absl::StatusOr<std::unique_ptr<DigestSet>> DigestSet::Open(const std::string& path, const Options& options) {
  Table::Options to = options;
  to.what = "chunk index";
  absl::StatusOr<std::unique_ptr<Table>> table = Table::Open(path, to);
  if (!table.ok()) return table.status();
  return std::unique_ptr<DigestSet>(new DigestSet(*std::move(table)));
}

DigestSet::~DigestSet() = default;

absl::StatusOr<bool> DigestSet::Contains(absl::string_view sha256_hex) {
  std::string key;
  if (!DigestBytes(sha256_hex, &key)) return false;
  absl::StatusOr<std::optional<std::string>> found = table_->Get(key);
  if (!found.ok()) return found.status();
  return found->has_value();
}

absl::StatusOr<size_t> DigestSet::Insert(std::vector<std::string> sha256_hex) {
  std::vector<Table::Row> rows(sha256_hex.size());
  for (size_t i = 0; i < sha256_hex.size(); ++i) {
    if (!DigestBytes(sha256_hex[i], &rows[i].first)) {
      return absl::InvalidArgumentError(absl::StrCat("not a SHA-256 digest: \"", sha256_hex[i].substr(0, 80), "\""));
    }
  }
  return table_->Put(std::move(rows));
}

uint64_t DigestSet::size() { return table_->size(); }

}  // namespace vmb::index
