#include "common/log/logger.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/file/file_util.h"
#include "common/log/redact.h"

namespace vmb {

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "INFO";
}

Logger::Logger(LogLevel min_level, Clock& clock) : min_level_(min_level), clock_(clock) {}

Logger::~Logger() {
  MutexLock lock(&mu_);
  for (std::FILE* f : files_) std::fclose(f);
}

absl::Status Logger::AddFileSink(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return file::ErrnoStatus(errno, "cannot open log file", path);
  std::FILE* f = ::fdopen(fd, "a");
  if (f == nullptr) {
    ::close(fd);
    return file::ErrnoStatus(errno, "cannot open log file", path);
  }
  MutexLock lock(&mu_);
  files_.push_back(f);
  sinks_.push_back([f](absl::string_view line) {
    std::fwrite(line.data(), 1, line.size(), f);
    std::fflush(f);
  });
  return absl::OkStatus();
}

void Logger::AddStderrSink() {
  AddSink([](absl::string_view line) { std::fwrite(line.data(), 1, line.size(), stderr); });
}

void Logger::AddSink(std::function<void(absl::string_view line)> sink) {
  MutexLock lock(&mu_);
  sinks_.push_back(std::move(sink));
}

void Logger::Write(LogLevel level, const std::string& message) {
  std::string line = absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", clock_.Now(), absl::UTCTimeZone()), " ",
                                  LogLevelName(level), " ", RedactSecrets(message), "\n");
  MutexLock lock(&mu_);
  for (auto& sink : sinks_) sink(line);
}

}  // namespace vmb
