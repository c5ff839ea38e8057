// Helpers shared by the extension's kill test and wire soak: seeds and counts from the environment, and the
// fsfreeze dry-run log (lines "<unix-ms> freeze <mount>" / "<unix-ms> thaw <mount>") read back.
#ifndef VMBACKUP_SNAPSHOT_SOAK_TESTING_H_
#define VMBACKUP_SNAPSHOT_SOAK_TESTING_H_

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/file/file_util.h"

namespace vmb::snapshot {

inline uint64_t EnvOr(const char* name, uint64_t fallback) {
  uint64_t v = 0;
  const char* s = std::getenv(name);
  return s && absl::SimpleAtoi(s, &v) ? v : fallback;
}

struct FreezeLog {
  int freezes = 0;
  int thaws = 0;
  int64_t first_freeze_ms = 0;  // the first freeze after the skipped ones
  int64_t last_thaw_ms = 0;
};

// Counts the freeze and thaw lines; the times are of the lines after the first `skip` of each kind.
inline FreezeLog ReadFreezeLog(const std::string& path, int skip_freezes = 0) {
  FreezeLog log;
  for (absl::string_view line : absl::StrSplit(file::ReadFile(path).value_or(""), '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits(' ', 2));
    if (f.size() < 2) continue;
    if (f[1] == "freeze" && ++log.freezes == skip_freezes + 1) absl::SimpleAtoi(f[0], &log.first_freeze_ms);
    if (f[1] == "thaw") {
      ++log.thaws;
      absl::SimpleAtoi(f[0], &log.last_thaw_ms);
    }
  }
  return log;
}

}  // namespace vmb::snapshot

#endif  // VMBACKUP_SNAPSHOT_SOAK_TESTING_H_
