#include "offline_seed/journal/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"

namespace vmb::offline {

absl::StatusOr<Journal::Parsed> Journal::Parse(absl::string_view text, absl::string_view name) {
  Parsed out;
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  // The piece after the last '\n' is empty for a clean file, or a torn record.
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::string_view line = lines[i];
    bool last = i + 1 == lines.size();
    if (last && line.empty()) break;
    bool ok = line.size() > 33 && line[32] == ' ' &&
              line.substr(0, 32) == crypto::Base16Encode(crypto::Md5(line.substr(33)), true) && !last;
    if (!ok) {
      bool tail = last || (i + 2 == lines.size() && lines.back().empty());
      if (!tail) {
        return absl::DataLossError(absl::StrCat("journal ", name, " is corrupt at record ", i + 1,
                                                " (not the last one); it cannot be trusted for a resume"));
      }
      out.dropped_tail = true;
      break;
    }
    out.records.emplace_back(line.substr(33));
    out.good_bytes += line.size() + 1;
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(const std::string& path, bool* dropped_tail) {
  if (dropped_tail) *dropped_tail = false;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return file::ErrnoStatus(errno, "cannot open journal", path);
  absl::StatusOr<std::string> text = file::ReadFile(path);
  if (!text.ok()) {
    ::close(fd);
    return text.status();
  }
  absl::StatusOr<Parsed> parsed = Parse(*text, path);
  if (!parsed.ok()) {
    ::close(fd);
    return parsed.status();
  }
  if (parsed->dropped_tail) {
    if (::ftruncate(fd, static_cast<off_t>(parsed->good_bytes)) != 0) {
      int err = errno;
      ::close(fd);
      return file::ErrnoStatus(err, "cannot truncate the torn tail of", path);
    }
    if (dropped_tail) *dropped_tail = true;
  }
  std::vector<std::string> records = std::move(parsed->records);
  return std::unique_ptr<Journal>(new Journal(fd, path, std::move(records)));
}

Journal::~Journal() { ::close(fd_); }

absl::Status Journal::Append(absl::string_view payload) {
  if (payload.find('\n') != absl::string_view::npos) {
    return absl::InvalidArgumentError("journal records are single lines");
  }
  std::string line = absl::StrCat(crypto::Base16Encode(crypto::Md5(payload), true), " ", payload, "\n");
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return file::ErrnoStatus(errno, "cannot append to journal", path_);
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return file::ErrnoStatus(errno, "cannot flush journal", path_);
  records_.emplace_back(payload);
  return absl::OkStatus();
}

}  // namespace vmb::offline
