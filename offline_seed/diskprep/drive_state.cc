#include "offline_seed/diskprep/drive_state.h"

#include "absl/strings/str_cat.h"
#include "common/json/json.h"

namespace vmb::offline {

std::string RangeKey(const std::string& blob, uint64_t offset) { return absl::StrCat(blob, "@", offset); }

uint64_t RoundUp4K(uint64_t v) { return (v + kDataUnit - 1) / kDataUnit * kDataUnit; }

std::vector<proto::DiskPrepRecord> Records(const Journal& journal) {
  std::vector<proto::DiskPrepRecord> out;
  for (const std::string& line : journal.records()) {
    proto::DiskPrepRecord r;
    if (json::Parse(line, &r, "journal record").ok()) out.push_back(r);
  }
  return out;
}

absl::Status AppendRecord(Journal& journal, const proto::DiskPrepRecord& record) {
  return journal.Append(json::ToJson(record));
}

absl::Status WithReattachHint(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kUnavailable) return status;
  return absl::UnavailableError(absl::StrCat(status.message(),
                                             ". Reattach the drive (or attach another) and run the "
                                             "same command again: diskprep resumes at the last "
                                             "durable range"));
}

}  // namespace vmb::offline
