#include "common/process/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace vmb::process {

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv, const std::string& stdin_data) {
  RunOptions options;
  options.stdin_data = stdin_data;
  return RunCommand(argv, options);
}

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv, const RunOptions& options) {
  const std::string& stdin_data = options.stdin_data;
  if (argv.empty()) return absl::InvalidArgumentError("empty command");
  int in[2], out[2], err[2], exec_err[2];
  if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC) || ::pipe2(exec_err, O_CLOEXEC)) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::signal(SIGPIPE, SIG_DFL);
    if (options.timeout_ms > 0) ::setpgid(0, 0);  // so a timeout kills the whole tree, not just the shell
    for (const std::string& kv : options.extra_env) ::putenv(const_cast<char*>(kv.c_str()));
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) {
      int e = errno;
      (void)!::write(exec_err[1], &e, sizeof(e));
      ::_exit(127);
    }
    ::execvp(args[0], args.data());
    int e = errno;
    (void)!::write(exec_err[1], &e, sizeof(e));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  ::close(exec_err[1]);
  int exec_errno = 0;
  bool exec_failed = ::read(exec_err[0], &exec_errno, sizeof(exec_errno)) == sizeof(exec_errno);
  ::close(exec_err[0]);

  CommandResult result;
  size_t written = 0;
  int in_fd = in[1];
  if (stdin_data.empty()) {
    ::close(in_fd);
    in_fd = -1;
  } else {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  int out_fd = out[0], err_fd = err[0];
  char buf[65536];
  absl::Time deadline =
      options.timeout_ms > 0 ? absl::Now() + absl::Milliseconds(options.timeout_ms) : absl::InfiniteFuture();
  bool killed = false;
  while (out_fd >= 0 || err_fd >= 0 || in_fd >= 0) {
    if (!killed && absl::Now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      killed = true;
    }
    pollfd fds[3];
    int n = 0;
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    int wait_ms = options.timeout_ms > 0 ? 50 : -1;
    if (::poll(fds, n, wait_ms) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      int fd = fds[i].fd;
      if (fd == in_fd) {
        ssize_t w = ::write(in_fd, stdin_data.data() + written, stdin_data.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno == EAGAIN) continue;
        if (w < 0 || written == stdin_data.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      ssize_t r = ::read(fd, buf, sizeof(buf));
      if (r > 0) {
        (fd == out_fd ? result.stdout_data : result.stderr_data).append(buf, static_cast<size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        ::close(fd);
        (fd == out_fd ? out_fd : err_fd) = -1;
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (exec_failed) {
    return absl::NotFoundError(absl::StrCat("cannot run ", argv[0], ": ", std::strerror(exec_errno)));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace vmb::process
