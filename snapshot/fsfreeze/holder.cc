#include "snapshot/fsfreeze/holder.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "snapshot/error_codes.h"

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
  int sig_pipe[2] = {-1, -1};
  auto cleanup = absl::MakeCleanup([&] {
    ::close(lock);  // releases the freeze lock
    g_signal_pipe = -1;
    if (sig_pipe[0] >= 0) ::close(sig_pipe[0]);
    if (sig_pipe[1] >= 0) ::close(sig_pipe[1]);
  });
  if (::pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
    g_signal_pipe = sig_pipe[1];
    struct sigaction sa = {};
    sa.sa_handler = OnSignal;
    for (int s : {SIGTERM, SIGINT, SIGHUP}) ::sigaction(s, &sa, nullptr);
  }
  ::signal(SIGPIPE, SIG_IGN);

  struct Frozen {
    int fd;
    std::string mount;
  };
  std::vector<Frozen> frozen;
  auto thaw_all = [&] {
    for (auto it = frozen.rbegin(); it != frozen.rend(); ++it) {
      (void)sys.Thaw(it->fd, it->mount);
      sys.Close(it->fd);
    }
    frozen.clear();
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

  absl::Time deadline = absl::Now() + o.timeout;
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
