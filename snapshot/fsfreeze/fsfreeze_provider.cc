#include "snapshot/fsfreeze/fsfreeze_provider.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/file/file_util.h"
#include "snapshot/error_codes.h"
#include "snapshot/fsfreeze/mounts.h"

namespace vmb::snapshot::fsfreeze {

FsFreezeProvider::~FsFreezeProvider() { Reap(); }

void FsFreezeProvider::Reap() {
  if (to_holder_ >= 0) ::close(to_holder_);  // the holder thaws on end of file
  to_holder_ = -1;
  if (from_holder_ >= 0) ::close(from_holder_);
  from_holder_ = -1;
  if (pid_ > 0) {
    // A holder that was stopped (SIGSTOP) or hangs must not hang the extension: it is in a session of its own, sees
    // end of file when it runs again, and its guardian thaws at the deadline anyway. Wait briefly, then leave it.
    // Real time, not the injected clock: this waits for another process to exit, which no fake time brings about.
    absl::Time give_up = absl::Now() + absl::Seconds(2);
    int status;
    while (::waitpid(pid_, &status, WNOHANG) == 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(10));
  }
  pid_ = -1;
  buffer_.clear();
}

absl::StatusOr<std::string> FsFreezeProvider::ReadLine(absl::Duration timeout) {
  // The deadline is the clock's; poll waits in real time for the holder, another process.
  absl::Time deadline = clock_.Now() + timeout;
  for (;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    int64_t ms = absl::ToInt64Milliseconds(deadline - clock_.Now());
    if (ms <= 0) return absl::DeadlineExceededError("the freeze holder did not answer in time");
    pollfd p{from_holder_, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(ms));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[256];
    ssize_t r = ::read(from_holder_, buf, sizeof(buf));
    if (r <= 0) return absl::UnavailableError("the freeze holder exited without answering");
    buffer_.append(buf, static_cast<size_t>(r));
  }
}

absl::Status FsFreezeProvider::Freeze(absl::Duration timeout) {
  if (pid_ > 0) return WithCode(absl::FailedPreconditionError("a freeze is already held"), kSnapshotInProgress);
  absl::StatusOr<std::string> mounts_text = file::ReadFile(options_.mounts_file);
  if (!mounts_text.ok()) return WithCode(mounts_text.status(), kFreezeFailed);
  mounts_ = FreezeOrder(ParseMounts(*mounts_text), options_.skip_mounts);
  if (mounts_.empty()) return absl::OkStatus();  // nothing eligible to freeze

  std::vector<std::string> argv = {options_.holder_binary, "freeze-holder",
                                   "--timeout-ms",         absl::StrCat(absl::ToInt64Milliseconds(timeout)),
                                   "--lock-file",          options_.lock_file};
  if (!options_.trace_log.empty()) argv.insert(argv.end(), {"--trace-log", options_.trace_log});
  if (!options_.dry_run_log.empty()) {
    argv.insert(argv.end(), {"--dry-run-log", options_.dry_run_log});
    if (!options_.dry_run_fail_mount.empty()) argv.insert(argv.end(), {"--dry-run-fail", options_.dry_run_fail_mount});
  }
  argv.push_back("--");
  argv.insert(argv.end(), mounts_.begin(), mounts_.end());
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    return WithCode(absl::InternalError("pipe failed"), kFreezeFailed);
  }
  pid_t pid = ::fork();
  if (pid < 0) return WithCode(absl::InternalError("fork failed"), kFreezeFailed);
  if (pid == 0) {
    ::setsid();  // survive the agent killing the extension's process group
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  pid_ = pid;
  deadline_ = clock_.Now() + timeout;
  to_holder_ = in[1];
  from_holder_ = out[0];
  absl::StatusOr<std::string> line = ReadLine(timeout + absl::Seconds(5));
  if (line.ok() && *line == "frozen") return absl::OkStatus();
  std::string what = line.ok() ? *line : std::string(line.status().message());
  if (!line.ok() && line.status().code() == absl::StatusCode::kDeadlineExceeded) ::kill(pid_, SIGTERM);
  Reap();
  int code = kFreezeFailed;
  std::vector<std::string> parts = absl::StrSplit(what, absl::MaxSplits(' ', 2));
  if (parts.size() == 3 && parts[0] == "error" && absl::SimpleAtoi(parts[1], &code)) what = parts[2];
  if (!line.ok() && line.status().code() == absl::StatusCode::kDeadlineExceeded) code = kFreezeTimeout;
  return WithCode(absl::InternalError(absl::StrCat("fsfreeze: ", what)), code);
}

absl::Status FsFreezeProvider::Thaw() {
  if (pid_ <= 0) return absl::OkStatus();
  (void)!::write(to_holder_, "thaw\n", 5);  // EPIPE when the holder is gone (SIGPIPE is ignored by vmsnapshot)
  // A live holder answers at once; past the deadline its watchdog (or its guardian) has thawed already.
  absl::StatusOr<std::string> line = ReadLine(std::max(absl::Seconds(2), deadline_ + absl::Seconds(2) - clock_.Now()));
  Reap();
  if (line.ok() && *line == "thawed") return absl::OkStatus();
  if (line.ok() && *line == "watchdog-thawed") {
    return WithCode(absl::DeadlineExceededError(
                        "the watchdog thawed the file systems before the snapshots finished; the snapshot is not "
                        "file-system consistent"),
                    kFreezeTimeout);
  }
  if (!line.ok()) {
    // The holder died (SIGKILL, OOM) or stopped answering: its guardian thaws (at once, or at the deadline), and the
    // snapshots may have been taken after that.
    return WithCode(absl::DeadlineExceededError(absl::StrCat(
                        "the freeze holder ",
                        line.status().code() == absl::StatusCode::kDeadlineExceeded ? "stopped answering" : "died",
                        "; its guardian thawed the file systems, so the snapshot is not file-system consistent")),
                    kFreezeTimeout);
  }
  return WithCode(absl::InternalError(absl::StrCat("fsfreeze thaw: ", *line)), kFreezeFailed);
}

}  // namespace vmb::snapshot::fsfreeze
