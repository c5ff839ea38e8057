#include "snapshot/job_log.h"

#include "absl/strings/str_cat.h"
#include "common/file/file_util.h"

namespace vmb::snapshot {

JobLog::JobLog(Clock& clock, bool echo) : logger_(LogLevel::kInfo, clock) {
  logger_.AddSink([this](absl::string_view line) {
    MutexLock lock(&mu_);
    all_.append(line.data(), line.size());
    pending_.append(line.data(), line.size());
    if (!paused_) FlushLocked();
  });
  if (echo) logger_.AddStderrSink();
}

void JobLog::OpenFile(const std::string& folder) {
  if (!file::MakeDirs(folder).ok()) return;
  MutexLock lock(&mu_);
  file_ = std::fopen(absl::StrCat(folder, "/extension.log").c_str(), "a");
  FlushLocked();
}

void JobLog::Pause() {
  MutexLock lock(&mu_);
  paused_ = true;
}

void JobLog::Resume() {
  MutexLock lock(&mu_);
  paused_ = false;
  FlushLocked();
}

std::string JobLog::All() {
  MutexLock lock(&mu_);
  return all_;
}

void JobLog::Close() {
  MutexLock lock(&mu_);
  FlushLocked();
  if (file_) std::fclose(file_);
  file_ = nullptr;
}

void JobLog::FlushLocked() {
  if (!file_ || pending_.empty()) return;
  std::fwrite(pending_.data(), 1, pending_.size(), file_);
  std::fflush(file_);
  pending_.clear();
}

}  // namespace vmb::snapshot
