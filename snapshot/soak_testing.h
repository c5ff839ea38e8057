// Helpers shared by the extension's kill test and wire soak: seeds and counts from the environment, the real
// `vmsnapshot enable` run as the guest agent runs it with fsfreeze in dry-run mode, and the dry-run log (lines
// "<unix-ms> freeze <mount>" / "<unix-ms> thaw <mount>") read back.
#ifndef VMBACKUP_SNAPSHOT_SOAK_TESTING_H_
#define VMBACKUP_SNAPSHOT_SOAK_TESTING_H_

#include <stdlib.h>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/file/file_util.h"
#include "common/process/subprocess.h"

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

// The real extension binary (from the test's runfiles) and the files of fsfreeze's dry run: a mounts file the test
// writes, the log of what would have been frozen and thawed, the freeze lock.
struct DryRunExtension {
  std::string binary;
  std::string mounts, log, lock;

  // Under `dir`, with `mounts_text` as /proc/mounts would read.
  static absl::StatusOr<DryRunExtension> Make(const std::string& dir, const std::string& mounts_text) {
    DryRunExtension x;
    char path[PATH_MAX];
    if (::realpath("snapshot/vmsnapshot", path) == nullptr) {
      return absl::NotFoundError("snapshot/vmsnapshot is not in the runfiles (data = [\":vmsnapshot\"])");
    }
    x.binary = path;
    x.mounts = dir + "/mounts";
    x.log = dir + "/freeze.log";
    x.lock = dir + "/freeze.lock";
    absl::Status s = file::WriteFileAtomic(x.mounts, mounts_text, 0644);
    if (!s.ok()) return s;
    return x;
  }

  // `vmsnapshot enable` in `vm_dir` with ConfigSequenceNumber=`seq`, as the guest agent starts it; killed whole
  // after `timeout_ms`.
  absl::StatusOr<process::CommandResult> Enable(const std::string& vm_dir, int seq, const std::string& cert_dir,
                                                int timeout_ms, std::vector<std::string> extra_args = {}) const {
    process::RunOptions o;
    o.cwd = vm_dir;
    o.extra_env = {absl::StrCat("ConfigSequenceNumber=", seq)};
    o.timeout_ms = timeout_ms;
    std::vector<std::string> argv = {binary,
                                     "enable",
                                     "--cert-dir",
                                     cert_dir,
                                     "--freeze-provider",
                                     "fsfreeze",
                                     "--freeze-dry-run-log",
                                     log,
                                     "--freeze-mounts-file",
                                     mounts,
                                     "--freeze-lock-file",
                                     lock};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    return process::RunCommand(argv, o);
  }
};

}  // namespace vmb::snapshot

#endif  // VMBACKUP_SNAPSHOT_SOAK_TESTING_H_
