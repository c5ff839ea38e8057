#include "snapshot/fsfreeze/holder.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/time/clock.h"
#include "snapshot/error_codes.h"
#include "snapshot/fsfreeze/freeze_record.h"

namespace vmb::snapshot::fsfreeze {
namespace {

int g_signal_pipe = -1;

void OnSignal(int) {
  char c = 's';
  if (g_signal_pipe >= 0) (void)!::write(g_signal_pipe, &c, 1);
}

void Say(int fd, const std::string& line) {
  std::string l = line + "\n";
  (void)!::write(fd, l.data(), l.size());
}

// The guardian's extra time past the deadline, so that the holder's own watchdog (which reports "watchdog-thawed")
// normally acts first.
constexpr absl::Duration kGuardianGrace = absl::Milliseconds(250);

// The guardian: a second watcher, forked before anything is frozen, in a session and process group of its own (a
// kill of the holder's session or group does not reach it). It keeps the inherited freeze lock open, so no other
// freeze can start while it might still thaw. It opens each mount itself and thaws them all (last frozen first)
// when the holder goes away without saying "done" (SIGKILL, OOM kill, crash), or at the deadline whatever the holder
// is doing (stopped, hung). Then it removes the freeze record and exits. It never returns.
[[noreturn]] void RunGuardian(FreezeSyscalls& sys, const HolderOptions& o, Clock& clock, absl::Time deadline,
                              int from_holder) {
  ::setsid();
  int devnull = ::open("/dev/null", O_RDWR);
  // Holding the holder's stdout would keep the extension from seeing the holder's end; stdin likewise.
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
  }
  for (int s : {SIGTERM, SIGINT, SIGHUP}) ::signal(s, SIG_IGN);  // a thaw needs no help; only SIGKILL stops it
  std::vector<std::pair<int, std::string>> fds;
  for (const std::string& mp : o.mounts) {
    absl::StatusOr<int> fd = sys.Open(mp);
    if (fd.ok()) fds.emplace_back(*fd, mp);
  }
  std::string input;
  for (;;) {
    // The deadline is the clock's; poll waits in real time for the holder (another process), at most a second at a
    // time so the deadline is looked at again.
    int64_t wait_ms = absl::ToInt64Milliseconds(deadline + kGuardianGrace - clock.Now());
    if (wait_ms <= 0) break;
    pollfd p{from_holder, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(wait_ms, 1000)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    char buf[16];
    ssize_t r = ::read(from_holder, buf, sizeof(buf));
    if (r > 0) {
      input.append(buf, static_cast<size_t>(r));
      if (input.find("done") != std::string::npos) ::_exit(0);  // the holder thawed and cleaned up
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    break;  // end of file: the holder died with the file systems possibly frozen
  }
  for (auto it = fds.rbegin(); it != fds.rend(); ++it) (void)sys.Thaw(it->first, it->second);
  (void)::unlink(RecordPathFor(o.lock_file).c_str());
  ::_exit(5);
}

// Opens `lock_file` and takes its exclusive lock without waiting. -1, after saying why on `out_fd`, when it cannot
// be opened or another freeze holds it.
int TakeFreezeLock(const std::string& lock_file, int out_fd) {
  int lock = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0) {
    Say(out_fd, absl::StrCat("error ", kFreezeFailed, " cannot open the freeze lock ", lock_file));
    return -1;
  }
  if (::flock(lock, LOCK_EX | LOCK_NB) != 0) {
    Say(out_fd, absl::StrCat("error ", kSnapshotInProgress, " another freeze is held (lock ", lock_file, ")"));
    ::close(lock);
    return -1;
  }
  return lock;
}

// SIGTERM, SIGINT and SIGHUP, turned into a byte on a pipe the holder's wait polls (a handler may do little more).
// The handlers stay installed; with the pipe gone they do nothing.
class SignalPipe {
 public:
  SignalPipe() {
    if (::pipe2(fds_, O_CLOEXEC | O_NONBLOCK) != 0) return;
    g_signal_pipe = fds_[1];
    struct sigaction sa = {};
    sa.sa_handler = OnSignal;
    for (int s : {SIGTERM, SIGINT, SIGHUP}) ::sigaction(s, &sa, nullptr);
  }
  ~SignalPipe() {
    g_signal_pipe = -1;
    for (int fd : fds_) {
      if (fd >= 0) ::close(fd);
    }
  }
  int read_fd() const { return fds_[0]; }

 private:
  int fds_[2] = {-1, -1};
};

// Forks the guardian (RunGuardian). Its pid and the write end of the pipe it watches, or the reason it could not
// start.
struct Guardian {
  pid_t pid = 0;
  int to = -1;
};
absl::StatusOr<Guardian> StartGuardian(FreezeSyscalls& sys, const HolderOptions& o, Clock& clock, absl::Time deadline) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return absl::InternalError("cannot start the freeze guardian (pipe)");
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(p[0]);
    ::close(p[1]);
    return absl::InternalError("cannot start the freeze guardian (fork)");
  }
  if (pid == 0) {
    ::close(p[1]);
    RunGuardian(sys, o, clock, deadline, p[0]);
  }
  ::close(p[0]);
  return Guardian{pid, p[1]};
}

// What the holder froze and how to undo it: thaw (last frozen first), remove the freeze record and tell the guardian
// it is done.
class FrozenMounts {
 public:
  FrozenMounts(FreezeSyscalls& sys, std::string record_path, Guardian guardian)
      : sys_(sys), record_path_(std::move(record_path)), guardian_(guardian) {}
  // The guardian sees end of file and thaws, if ThawAll has not told it "done".
  ~FrozenMounts() {
    if (guardian_.to >= 0) ::close(guardian_.to);
  }

  // Opens and freezes each mount in order. On the first failure thaws what it froze and returns the protocol's error
  // line ("error <code> <message>"); "" when all are frozen.
  std::string FreezeAll(const std::vector<std::string>& mounts) {
    for (const std::string& mp : mounts) {
      absl::StatusOr<int> fd = sys_.Open(mp);
      if (!fd.ok()) {
        ThawAll();
        return absl::StrCat("error ", kUnableToOpenMount, " ", fd.status().message());
      }
      absl::Status s = sys_.Freeze(*fd, mp);
      if (!s.ok()) {
        sys_.Close(*fd);
        ThawAll();
        return absl::StrCat("error ", kFreezeFailed, " ", s.message());
      }
      frozen_.push_back({*fd, mp});
    }
    return "";
  }

  // Thaws, removes the record, then tells the guardian it is done (it exits without acting).
  void ThawAll() {
    for (auto it = frozen_.rbegin(); it != frozen_.rend(); ++it) {
      (void)sys_.Thaw(it->first, it->second);
      sys_.Close(it->first);
    }
    frozen_.clear();
    (void)::unlink(record_path_.c_str());
    if (guardian_.to < 0) return;
    // The guardian leaves at once, releasing its copy of the freeze lock; waiting for it means the lock is free when
    // the extension hears "thawed" (a next freeze right after this one is not refused), and leaves no zombie.
    (void)!::write(guardian_.to, "done\n", 5);
    ::close(guardian_.to);
    guardian_.to = -1;
    // Real time, not the injected clock: this waits for another process to exit, which no fake time brings about
    // (a fake clock's instant sleep would give up at once and leave the lock held).
    absl::Time give_up = absl::Now() + absl::Seconds(1);
    int status;
    while (::waitpid(guardian_.pid, &status, WNOHANG) == 0 && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }

 private:
  FreezeSyscalls& sys_;
  const std::string record_path_;
  Guardian guardian_;
  std::vector<std::pair<int, std::string>> frozen_;  // fd, mount point
};

// Holds the freeze until the extension says "thaw" on `in_fd` or goes away, a signal arrives on `signal_fd`, or the
// clock passes `deadline` (the watchdog); then thaws and says how it ended. Returns the holder's exit status.
int HoldUntilReleased(FrozenMounts& frozen, Clock& clock, absl::Time deadline, int in_fd, int signal_fd, int out_fd) {
  std::string input;
  for (;;) {
    // As in the guardian: the deadline is the clock's, the poll a real wait of at most a second on the extension.
    int64_t wait_ms = absl::ToInt64Milliseconds(deadline - clock.Now());
    if (wait_ms <= 0) {
      frozen.ThawAll();
      Say(out_fd, "watchdog-thawed");
      return 3;
    }
    pollfd fds[2] = {{in_fd, POLLIN, 0}, {signal_fd, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(std::min<int64_t>(wait_ms, 1000)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (fds[1].revents) break;  // a signal: thaw and leave
    if (fds[0].revents) {
      char buf[64];
      ssize_t r = ::read(in_fd, buf, sizeof(buf));
      if (r <= 0) {  // the extension is gone (exit, crash, SIGKILL): never stay frozen
        frozen.ThawAll();
        return 4;
      }
      input.append(buf, static_cast<size_t>(r));
      if (input.find("thaw") != std::string::npos) {
        frozen.ThawAll();
        Say(out_fd, "thawed");
        return 0;
      }
    }
  }
  frozen.ThawAll();
  Say(out_fd, "thawed");
  return 4;
}

}  // namespace

int RunHolder(FreezeSyscalls& sys, const HolderOptions& o, int in_fd, int out_fd) {
  Clock& clock = o.clock != nullptr ? *o.clock : RealClock();
  int lock = TakeFreezeLock(o.lock_file, out_fd);
  if (lock < 0) return 2;
  // Released on return (the guardian keeps its copy until it exits).
  auto release_lock = absl::MakeCleanup([lock] { ::close(lock); });
  // A freeze left by processes that all died at once is thawed before a new one starts.
  (void)ThawStaleFreeze(sys, o.lock_file, clock.Now());
  SignalPipe signals;
  ::signal(SIGPIPE, SIG_IGN);

  absl::Time deadline = clock.Now() + o.timeout;
  Guardian guardian;
  if (o.guardian) {
    absl::StatusOr<Guardian> started = StartGuardian(sys, o, clock, deadline);
    if (!started.ok()) {
      Say(out_fd, absl::StrCat("error ", kFreezeFailed, " ", started.status().message()));
      return 2;
    }
    guardian = *started;
  }
  const std::string record_path = RecordPathFor(o.lock_file);
  FrozenMounts frozen(sys, record_path, guardian);
  // The record goes to tmpfs before the first FIFREEZE: if everything of ours dies at once, the next vmsnapshot
  // command (or the per-minute check) finds it and thaws.
  if (absl::Status s = WriteRecord(record_path, {deadline, ::getpid(), guardian.pid, o.mounts}); !s.ok()) {
    Say(out_fd, absl::StrCat("error ", kFreezeFailed, " cannot write the freeze record: ", s.message()));
    return 2;
  }
  if (std::string error = frozen.FreezeAll(o.mounts); !error.empty()) {
    Say(out_fd, error);
    return 2;
  }
  Say(out_fd, "frozen");
  return HoldUntilReleased(frozen, clock, deadline, in_fd, signals.read_fd(), out_fd);
}

}  // namespace vmb::snapshot::fsfreeze
