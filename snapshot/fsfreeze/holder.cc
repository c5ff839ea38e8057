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
[[noreturn]] void RunGuardian(FreezeSyscalls& sys, const HolderOptions& o, absl::Time deadline, int from_holder) {
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
    int64_t wait_ms = absl::ToInt64Milliseconds(deadline + kGuardianGrace - absl::Now());
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

}  // namespace

int RunHolder(FreezeSyscalls& sys, const HolderOptions& o, int in_fd, int out_fd) {
  int lock = ::open(o.lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0) {
    Say(out_fd, absl::StrCat("error ", kFreezeFailed, " cannot open the freeze lock ", o.lock_file));
    return 2;
  }
  if (::flock(lock, LOCK_EX | LOCK_NB) != 0) {
    Say(out_fd, absl::StrCat("error ", kSnapshotInProgress, " another freeze is held (lock ", o.lock_file, ")"));
    ::close(lock);
    return 2;
  }
  // A freeze left by processes that all died at once is thawed before a new one starts.
  (void)ThawStaleFreeze(sys, o.lock_file, absl::Now());

  int sig_pipe[2] = {-1, -1};
  int to_guardian = -1;
  auto cleanup = absl::MakeCleanup([&] {
    ::close(lock);  // releases the freeze lock (the guardian holds it until it exits)
    g_signal_pipe = -1;
    if (sig_pipe[0] >= 0) ::close(sig_pipe[0]);
    if (sig_pipe[1] >= 0) ::close(sig_pipe[1]);
    if (to_guardian >= 0) ::close(to_guardian);
  });
  if (::pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
    g_signal_pipe = sig_pipe[1];
    struct sigaction sa = {};
    sa.sa_handler = OnSignal;
    for (int s : {SIGTERM, SIGINT, SIGHUP}) ::sigaction(s, &sa, nullptr);
  }
  ::signal(SIGPIPE, SIG_IGN);

  absl::Time deadline = absl::Now() + o.timeout;
  FreezeRecord record{deadline, ::getpid(), 0, o.mounts};
  if (o.guardian) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      Say(out_fd, absl::StrCat("error ", kFreezeFailed, " cannot start the freeze guardian (pipe)"));
      return 2;
    }
    pid_t pid = ::fork();
    if (pid < 0) {
      ::close(p[0]);
      ::close(p[1]);
      Say(out_fd, absl::StrCat("error ", kFreezeFailed, " cannot start the freeze guardian (fork)"));
      return 2;
    }
    if (pid == 0) {
      ::close(p[1]);
      RunGuardian(sys, o, deadline, p[0]);
    }
    ::close(p[0]);
    to_guardian = p[1];
    record.guardian = pid;
  }
  // The record goes to tmpfs before the first FIFREEZE: if everything of ours dies at once, the next vmsnapshot
  // command (or the per-minute check) finds it and thaws.
  const std::string record_path = RecordPathFor(o.lock_file);
  if (absl::Status s = WriteRecord(record_path, record); !s.ok()) {
    Say(out_fd, absl::StrCat("error ", kFreezeFailed, " cannot write the freeze record: ", s.message()));
    return 2;
  }

  struct Frozen {
    int fd;
    std::string mount;
  };
  std::vector<Frozen> frozen;
  // Thaws, then tells the guardian it is done (it exits without acting) and removes the record.
  auto thaw_all = [&] {
    for (auto it = frozen.rbegin(); it != frozen.rend(); ++it) {
      (void)sys.Thaw(it->fd, it->mount);
      sys.Close(it->fd);
    }
    frozen.clear();
    (void)::unlink(record_path.c_str());
    if (to_guardian >= 0) {
      // The guardian leaves at once, releasing its copy of the freeze lock; waiting for it means the lock is free
      // when the extension hears "thawed" (a next freeze right after this one is not refused), and leaves no zombie.
      (void)!::write(to_guardian, "done\n", 5);
      ::close(to_guardian);
      to_guardian = -1;
      absl::Time give_up = absl::Now() + absl::Seconds(1);
      int status;
      while (::waitpid(record.guardian, &status, WNOHANG) == 0 && absl::Now() < give_up) {
        absl::SleepFor(absl::Milliseconds(1));
      }
    }
  };
  for (const std::string& mp : o.mounts) {
    absl::StatusOr<int> fd = sys.Open(mp);
    if (!fd.ok()) {
      thaw_all();
      Say(out_fd, absl::StrCat("error ", kUnableToOpenMount, " ", fd.status().message()));
      return 2;
    }
    absl::Status s = sys.Freeze(*fd, mp);
    if (!s.ok()) {
      sys.Close(*fd);
      thaw_all();
      Say(out_fd, absl::StrCat("error ", kFreezeFailed, " ", s.message()));
      return 2;
    }
    frozen.push_back({*fd, mp});
  }
  Say(out_fd, "frozen");

  std::string input;
  for (;;) {
    int64_t wait_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (wait_ms <= 0) {
      thaw_all();
      Say(out_fd, "watchdog-thawed");
      return 3;
    }
    pollfd fds[2] = {{in_fd, POLLIN, 0}, {sig_pipe[0], POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(std::min<int64_t>(wait_ms, 1000)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (fds[1].revents) break;  // a signal: thaw and leave
    if (fds[0].revents) {
      char buf[64];
      ssize_t r = ::read(in_fd, buf, sizeof(buf));
      if (r <= 0) {  // the extension is gone (exit, crash, SIGKILL): never stay frozen
        thaw_all();
        return 4;
      }
      input.append(buf, static_cast<size_t>(r));
      if (input.find("thaw") != std::string::npos) {
        thaw_all();
        Say(out_fd, "thawed");
        return 0;
      }
    }
  }
  thaw_all();
  Say(out_fd, "thawed");
  return 4;
}

}  // namespace vmb::snapshot::fsfreeze
