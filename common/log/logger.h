// Levelled logging with fmt formatting, to stderr and/or a file. Every line passes through RedactSecrets before it
// is written, so a URI with a SAS or a status carrying a key cannot leak through a log call.
//
//   Logger log(LogLevel::kInfo);
//   RETURN_IF_ERROR(log.AddFileSink("/var/log/azure/.../extension.log"));
//   log.Info("snapshot of {} took {} ms", RedactedUri(uri), ms);
#ifndef VMBACKUP_COMMON_LOG_LOGGER_H_
#define VMBACKUP_COMMON_LOG_LOGGER_H_

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/concurrent/mutex.h"
#include "common/time/clock.h"
#include "fmt/format.h"

// Debian's Abseil has its own string_view type (not std::string_view); teach fmt to print it.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  template <typename FormatContext>
  auto format(absl::string_view s, FormatContext& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(s.data(), s.size()), ctx);
  }
};

namespace vmb {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

absl::string_view LogLevelName(LogLevel level);

// Thread-safe. Lines look like "2026-11-22T13:40:01.123Z INFO message".
class Logger {
 public:
  explicit Logger(LogLevel min_level = LogLevel::kInfo, Clock& clock = RealClock());
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  void set_min_level(LogLevel level) { min_level_ = level; }
  // Appends to `path` (created 0640 if missing). The file is opened once and kept open.
  absl::Status AddFileSink(const std::string& path);
  void AddStderrSink();
  // Any callable; used by tests and to mirror lines into the logs blob.
  void AddSink(std::function<void(absl::string_view line)> sink);

  template <typename... Args>
  void Log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (level < min_level_) return;
    Write(level, fmt::format(format, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void Debug(fmt::format_string<Args...> format, Args&&... args) {
    Log(LogLevel::kDebug, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void Info(fmt::format_string<Args...> format, Args&&... args) {
    Log(LogLevel::kInfo, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void Warning(fmt::format_string<Args...> format, Args&&... args) {
    Log(LogLevel::kWarning, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void Error(fmt::format_string<Args...> format, Args&&... args) {
    Log(LogLevel::kError, format, std::forward<Args>(args)...);
  }

 private:
  void Write(LogLevel level, const std::string& message);

  LogLevel min_level_;
  Clock& clock_;
  Mutex mu_;
  std::vector<std::function<void(absl::string_view)>> sinks_ ABSL_GUARDED_BY(mu_);
  std::vector<std::FILE*> files_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vmb

#endif  // VMBACKUP_COMMON_LOG_LOGGER_H_
