// An append-only journal of durable steps (diskprep keeps one per drive in the staging location, never on the
// drive). Each record is one line, "<MD5 of the payload, base16> <payload>\n", written with O_APPEND and fdatasync'd
// before Append returns: a record that Append acknowledged survives a crash or power cut. A crash in the middle of
// an append leaves a torn last line; Open drops it (and only it), so a resumed run continues from the last
// acknowledged step. A record that fails its checksum anywhere but at the tail is corruption (kDataLoss).
#ifndef VMBACKUP_OFFLINE_SEED_JOURNAL_JOURNAL_H_
#define VMBACKUP_OFFLINE_SEED_JOURNAL_JOURNAL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmb::offline {

class Journal {
 public:
  // Opens or creates `path` (mode 0600: records may name jobs and drives). `dropped_tail` reports whether a torn
  // final record was discarded.
  static absl::StatusOr<std::unique_ptr<Journal>> Open(const std::string& path, bool* dropped_tail = nullptr);
  ~Journal();

  struct Parsed {
    std::vector<std::string> records;  // payloads of the good records, in order
    uint64_t good_bytes = 0;           // length of the prefix they occupy
    bool dropped_tail = false;         // a torn last record follows them
  };
  // The records of a journal's text. kDataLoss when a record other than the last fails its checksum; `name` is
  // used in that message.
  static absl::StatusOr<Parsed> Parse(absl::string_view text, absl::string_view name);

  // Payloads are single-line text (JSON); kInvalidArgument for a newline. Durable when it returns OK.
  absl::Status Append(absl::string_view payload);
  const std::vector<std::string>& records() const { return records_; }

 private:
  Journal(int fd, std::string path, std::vector<std::string> records)
      : fd_(fd), path_(std::move(path)), records_(std::move(records)) {}
  int fd_;
  std::string path_;
  std::vector<std::string> records_;
};

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_JOURNAL_JOURNAL_H_
