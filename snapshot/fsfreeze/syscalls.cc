#include "snapshot/fsfreeze/syscalls.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/file/file_util.h"

namespace vmb::snapshot::fsfreeze {
namespace {

class Real : public FreezeSyscalls {
 public:
  absl::StatusOr<int> Open(const std::string& mp) override {
    int fd = ::open(mp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return file::ErrnoStatus(errno, "cannot open mount point", mp);
    return fd;
  }
  absl::Status Freeze(int fd, const std::string& mp) override {
    if (::ioctl(fd, FIFREEZE, 0) != 0) return file::ErrnoStatus(errno, "FIFREEZE failed on", mp);
    return absl::OkStatus();
  }
  absl::Status Thaw(int fd, const std::string& mp) override {
    if (::ioctl(fd, FITHAW, 0) != 0) return file::ErrnoStatus(errno, "FITHAW failed on", mp);
    return absl::OkStatus();
  }
  void Close(int fd) override { ::close(fd); }
};

class DryRun : public FreezeSyscalls {
 public:
  DryRun(const std::string& path, std::string fail, Clock& clock) : fail_(std::move(fail)), clock_(clock) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  ~DryRun() override {
    if (fd_ >= 0) ::close(fd_);
  }
  absl::StatusOr<int> Open(const std::string&) override { return next_++; }
  absl::Status Freeze(int, const std::string& mp) override {
    if (mp == fail_) return file::ErrnoStatus(EBUSY, "FIFREEZE failed on", mp);
    Log("freeze", mp);
    return absl::OkStatus();
  }
  absl::Status Thaw(int, const std::string& mp) override {
    Log("thaw", mp);
    return absl::OkStatus();
  }
  void Close(int) override {}

 private:
  void Log(const char* what, const std::string& mp) {
    std::string line = absl::StrCat(absl::ToUnixMillis(clock_.Now()), " ", what, " ", mp, "\n");
    if (fd_ >= 0) (void)!::write(fd_, line.data(), line.size());
  }
  int fd_;
  int next_ = 1000;
  std::string fail_;
  Clock& clock_;
};

// Forwards to another implementation and logs each successful freeze and thaw as the dry run does.
class Trace : public FreezeSyscalls {
 public:
  Trace(std::unique_ptr<FreezeSyscalls> inner, const std::string& path, Clock& clock)
      : inner_(std::move(inner)), clock_(clock) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  ~Trace() override {
    if (fd_ >= 0) ::close(fd_);
  }
  absl::StatusOr<int> Open(const std::string& mp) override { return inner_->Open(mp); }
  absl::Status Freeze(int fd, const std::string& mp) override { return Logged("freeze", mp, inner_->Freeze(fd, mp)); }
  absl::Status Thaw(int fd, const std::string& mp) override { return Logged("thaw", mp, inner_->Thaw(fd, mp)); }
  void Close(int fd) override { inner_->Close(fd); }

 private:
  absl::Status Logged(const char* what, const std::string& mp, absl::Status s) {
    std::string line = absl::StrCat(absl::ToUnixMillis(clock_.Now()), " ", what, " ", mp,
                                    s.ok() ? "" : absl::StrCat(" failed: ", s.message()), "\n");
    if (fd_ >= 0) (void)!::write(fd_, line.data(), line.size());
    return s;
  }
  std::unique_ptr<FreezeSyscalls> inner_;
  Clock& clock_;
  int fd_;
};

}  // namespace

std::unique_ptr<FreezeSyscalls> TraceFreezeSyscalls(std::unique_ptr<FreezeSyscalls> inner, const std::string& log_path,
                                                    Clock& clock) {
  return std::make_unique<Trace>(std::move(inner), log_path, clock);
}

std::unique_ptr<FreezeSyscalls> RealFreezeSyscalls() { return std::make_unique<Real>(); }

std::unique_ptr<FreezeSyscalls> DryRunFreezeSyscalls(const std::string& log_path, const std::string& fail_mount,
                                                     Clock& clock) {
  return std::make_unique<DryRun>(log_path, fail_mount, clock);
}

}  // namespace vmb::snapshot::fsfreeze
