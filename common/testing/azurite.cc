#include "common/testing/azurite.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace vmb::testing {

Azurite::Azurite(pid_t pid, int port, int out_fd) : pid_(pid), port_(port) {
  drain_ = std::thread([out_fd] {
    char buf[4096];
    while (::read(out_fd, buf, sizeof(buf)) > 0) {
    }
    ::close(out_fd);
  });
}

Azurite::~Azurite() {
  ::kill(pid_, SIGKILL);
  int status;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  drain_.join();
}

std::string Azurite::endpoint() const { return absl::StrCat("http://127.0.0.1:", port_, "/", kAccount); }

absl::StatusOr<std::unique_ptr<Azurite>> Azurite::Start() {
  const char* binary = std::getenv("AZURITE_BLOB");
  // `bazel run` sets BUILD_WORKSPACE_DIRECTORY; tools/setup.sh installs Azurite under the workspace.
  std::string from_workspace;
  if (binary == nullptr && std::getenv("BUILD_WORKSPACE_DIRECTORY") != nullptr) {
    from_workspace =
        absl::StrCat(std::getenv("BUILD_WORKSPACE_DIRECTORY"), "/tools/node/node_modules/.bin/azurite-blob");
    binary = from_workspace.c_str();
  }
  if (binary == nullptr || ::access(binary, X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Azurite not available", binary ? absl::StrCat(" at ", binary) : std::string(),
        ": run tools/setup.sh once (it installs Azurite under tools/node; .bazelrc points the tests at it), or run "
        "the tests with tools/test.sh"));
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    const char* tmp = std::getenv("TEST_TMPDIR");  // (not temp_dir.h: this library is also used outside gtest)
    if (tmp) (void)!::chdir(tmp);                  // anything Azurite writes stays in the test's scratch space
    ::execl(binary, binary, "--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence",
            "--skipApiVersionCheck", "--loose", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string output;
  absl::Time deadline = absl::Now() + absl::Seconds(60);
  constexpr absl::string_view kReady = "listens on http://127.0.0.1:";
  while (absl::Now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char buf[1024];
    ssize_t n = ::read(out[0], buf, sizeof(buf));
    if (n <= 0) break;
    output.append(buf, static_cast<size_t>(n));
    size_t at = output.find(std::string(kReady));
    if (at != std::string::npos) {
      size_t start = at + kReady.size();
      size_t end = output.find_first_not_of("0123456789", start);
      int port = 0;
      if (end != std::string::npos && absl::SimpleAtoi(output.substr(start, end - start), &port)) {
        return std::unique_ptr<Azurite>(new Azurite(pid, port, out[0]));
      }
    }
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ::close(out[0]);
  return absl::DeadlineExceededError(absl::StrCat("Azurite did not start; it printed: ", output));
}

}  // namespace vmb::testing
