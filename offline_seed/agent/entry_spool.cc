#include "offline_seed/agent/entry_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file/file_util.h"
#include "google/protobuf/io/zero_copy_stream_impl.h"
#include "google/protobuf/util/delimited_message_util.h"

namespace vmb::offline {

absl::StatusOr<std::unique_ptr<EntrySpool>> EntrySpool::Create() {
  std::string dir = file::ScratchFolder();
  std::string pattern = dir + "/vmbackup-entries-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot make a scratch file in ", dir, ": ", std::strerror(errno),
                                               "; point $TMPDIR at a writable local folder with free space (about "
                                               "150 bytes per file restored)"));
  }
  ::unlink(name.data());  // open only: gone with the spool, or with the process
  return std::unique_ptr<EntrySpool>(new EntrySpool(fd, std::move(dir)));
}

EntrySpool::EntrySpool(int fd, std::string dir)
    : fd_(fd), dir_(std::move(dir)), out_(std::make_unique<google::protobuf::io::FileOutputStream>(fd)) {}

EntrySpool::~EntrySpool() {
  out_.reset();
  ::close(fd_);
}

absl::Status EntrySpool::Add(const proto::Entry& entry) {
  if (out_ == nullptr) return absl::FailedPreconditionError("the entry spool is finished");
  if (!google::protobuf::util::SerializeDelimitedToZeroCopyStream(entry, out_.get())) {
    return absl::UnavailableError(absl::StrCat("cannot write the scratch file in ", dir_, ": ",
                                               std::strerror(out_->GetErrno()),
                                               "; point $TMPDIR at a local folder with free space"));
  }
  return absl::OkStatus();
}

absl::Status EntrySpool::Finish() {
  if (out_ == nullptr) return absl::OkStatus();
  bool flushed = out_->Flush();
  int err = out_->GetErrno();
  out_.reset();
  if (!flushed)
    return absl::UnavailableError(absl::StrCat("cannot write the scratch file in ", dir_, ": ", std::strerror(err)));
  return absl::OkStatus();
}

absl::Status EntrySpool::ForEach(const std::function<absl::Status(proto::Entry entry)>& each) {
  if (out_ != nullptr) return absl::FailedPreconditionError("the entry spool is not finished");
  if (::lseek(fd_, 0, SEEK_SET) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot read the scratch file in ", dir_, ": ", std::strerror(errno)));
  }
  google::protobuf::io::FileInputStream in(fd_);
  for (;;) {
    proto::Entry e;
    bool clean_eof = false;
    if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&e, &in, &clean_eof)) {
      if (clean_eof) return absl::OkStatus();
      return absl::DataLossError(absl::StrCat("the scratch file in ", dir_, " is damaged (",
                                              std::strerror(in.GetErrno()), "): run the restore again"));
    }
    if (absl::Status s = each(std::move(e)); !s.ok()) return s;
  }
}

}  // namespace vmb::offline
