#include "snapshot/fsfreeze/freeze_record.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/file/file_util.h"

namespace vmb::snapshot::fsfreeze {

std::string RecordPathFor(const std::string& lock_file) { return lock_file + ".state"; }

absl::Status WriteRecord(const std::string& path, const FreezeRecord& r) {
  std::string text = absl::StrCat("deadline_ms ", absl::ToUnixMillis(r.deadline), "\nholder ", r.holder, "\nguardian ",
                                  r.guardian, "\n");
  for (const std::string& m : r.mounts) absl::StrAppend(&text, "mount ", m, "\n");
  return file::WriteFileAtomic(path, text, 0600);
}

absl::StatusOr<FreezeRecord> ReadRecord(const std::string& path) {
  absl::StatusOr<std::string> text = file::ReadFile(path);
  if (!text.ok()) return text.status();
  FreezeRecord r;
  bool has_deadline = false;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, absl::MaxSplits(' ', 1));
    int64_t n = 0;
    if (kv.first == "deadline_ms" && absl::SimpleAtoi(kv.second, &n)) {
      r.deadline = absl::FromUnixMillis(n);
      has_deadline = true;
    } else if (kv.first == "holder" && absl::SimpleAtoi(kv.second, &n)) {
      r.holder = static_cast<pid_t>(n);
    } else if (kv.first == "guardian" && absl::SimpleAtoi(kv.second, &n)) {
      r.guardian = static_cast<pid_t>(n);
    } else if (kv.first == "mount" && !kv.second.empty()) {
      r.mounts.emplace_back(kv.second);
    }
  }
  if (!has_deadline) return absl::DataLossError(absl::StrCat("the freeze record ", path, " has no deadline"));
  return r;
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return false;
  // A zombie (killed, not yet reaped: its parent died too and nothing reaps orphans in some containers) is dead.
  absl::StatusOr<std::string> stat = file::ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return true;
  size_t paren = stat->rfind(')');
  return paren == std::string::npos || paren + 2 >= stat->size() || (*stat)[paren + 2] != 'Z';
}

SweepResult ThawStaleFreeze(FreezeSyscalls& sys, const std::string& lock_file, absl::Time now) {
  SweepResult out;
  const std::string path = RecordPathFor(lock_file);
  absl::StatusOr<FreezeRecord> r = ReadRecord(path);
  if (!r.ok()) {
    if (r.status().code() != absl::StatusCode::kNotFound) {
      out.found = true;
      out.note = std::string(r.status().message());
      // A torn record names nothing that can be trusted; it must not stay to confuse later sweeps.
      if (r.status().code() == absl::StatusCode::kDataLoss) (void)::unlink(path.c_str());
    }
    return out;
  }
  out.found = true;
  const bool expired = now > r->deadline;
  const bool orphaned = !ProcessAlive(r->holder) && !ProcessAlive(r->guardian);
  if (!expired && !orphaned) {
    out.note = absl::StrCat("a freeze by holder ", r->holder, " is in progress until ",
                            absl::FormatTime("%H:%M:%E3S", r->deadline, absl::UTCTimeZone()));
    return out;
  }
  int thawed = 0;
  for (auto it = r->mounts.rbegin(); it != r->mounts.rend(); ++it) {
    absl::StatusOr<int> fd = sys.Open(*it);
    if (!fd.ok()) continue;
    thawed += sys.Thaw(*fd, *it).ok();  // EINVAL: it was not frozen
    sys.Close(*fd);
  }
  (void)::unlink(path.c_str());
  out.thawed = true;
  out.note = absl::StrCat("thawed a stale freeze of ", r->mounts.size(), " mount(s) (", thawed, " were still frozen; ",
                          expired ? "its deadline had passed" : "its holder and guardian were gone", ")");
  return out;
}

}  // namespace vmb::snapshot::fsfreeze
