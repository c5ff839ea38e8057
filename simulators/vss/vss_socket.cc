#include "simulators/vss/vss_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "simulators/vss/vss_freeze_provider.h"
#include "snapshot/error_codes.h"

namespace vmb::vss {
namespace {

bool FillAddress(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr->sun_path)) return false;
  std::memcpy(addr->sun_path, path.c_str(), path.size());
  return true;
}

// Reads one line (without '\n'); "" on EOF or error.
std::string ReadLine(int fd, int timeout_ms) {
  std::string line;
  char c;
  while (true) {
    if (timeout_ms >= 0) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return line;
    }
    ssize_t n = ::read(fd, &c, 1);
    if (n <= 0 || c == '\n') return line;
    line.push_back(c);
  }
}

void Send(int fd, const std::string& line) {
  std::string l = line + "\n";
  (void)!::send(fd, l.data(), l.size(), MSG_NOSIGNAL);
}

}  // namespace

VssSocketServer::VssSocketServer(Coordinator* coordinator, std::string socket_path)
    : coordinator_(coordinator), path_(std::move(socket_path)) {}

VssSocketServer::~VssSocketServer() { Stop(); }

absl::Status VssSocketServer::Start() {
  sockaddr_un addr;
  if (!FillAddress(path_, &addr)) return absl::InvalidArgumentError(absl::StrCat("socket path too long: ", path_));
  ::unlink(path_.c_str());
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 4) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", path_, ": ", std::strerror(errno)));
  }
  thread_ = std::thread([this] { Serve(); });
  return absl::OkStatus();
}

void VssSocketServer::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  ::unlink(path_.c_str());
}

void VssSocketServer::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    HandleConnection(fd);  // one freeze at a time, as VSS does
    ::close(fd);
  }
}

void VssSocketServer::HandleConnection(int fd) {
  if (ReadLine(fd, 5000) != "freeze") return;
  absl::Status s = coordinator_->Freeze();
  if (!s.ok()) {
    int code = snapshot::kFreezeFailed;
    std::string outcome = OutcomeOf(s);
    if (outcome == kWriterInBadState) code = snapshot::kVssWriterInBadState;
    if (outcome == kWriterTimeout) code = snapshot::kFreezeTimeout;
    if (outcome == kFreezeInProgress) code = snapshot::kSnapshotInProgress;
    Send(fd, absl::StrCat("error ", code, " ", s.message()));
    return;
  }
  Send(fd, "frozen");
  (void)ReadLine(fd, -1);  // "thaw", or end of file when the extension died
  (void)coordinator_->Thaw();
  Send(fd, "thawed");
}

VssSocketFreezeProvider::~VssSocketFreezeProvider() {
  if (fd_ >= 0) ::close(fd_);  // the server thaws on end of file
}

absl::Status VssSocketFreezeProvider::Freeze(absl::Duration timeout) {
  sockaddr_un addr;
  if (!FillAddress(path_, &addr)) return snapshot::WithCode(absl::InvalidArgumentError("socket path too long"), snapshot::kFreezeFailed);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::string err = std::strerror(errno);
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return snapshot::WithCode(
        absl::UnavailableError(absl::StrCat("no VSS service at ", path_, " (", err,
                                            "); start the guest application's writer host or pass --vss-socket")),
        snapshot::kFreezeFailed);
  }
  Send(fd_, "freeze");
  std::string reply = ReadLine(fd_, static_cast<int>(absl::ToInt64Milliseconds(timeout + absl::Seconds(15))));
  if (reply == "frozen") return absl::OkStatus();
  ::close(fd_);
  fd_ = -1;
  int code = snapshot::kFreezeFailed;
  std::vector<std::string> parts = absl::StrSplit(reply, absl::MaxSplits(' ', 2));
  if (parts.size() == 3 && parts[0] == "error" && absl::SimpleAtoi(parts[1], &code)) {
    return snapshot::WithCode(absl::FailedPreconditionError(parts[2]), code);
  }
  return snapshot::WithCode(absl::UnavailableError(absl::StrCat("VSS service answered \"", reply, "\"")),
                            reply.empty() ? snapshot::kFreezeTimeout : snapshot::kFreezeFailed);
}

absl::Status VssSocketFreezeProvider::Thaw() {
  if (fd_ < 0) return absl::OkStatus();
  Send(fd_, "thaw");
  std::string reply = ReadLine(fd_, 70000);
  ::close(fd_);
  fd_ = -1;
  if (reply != "thawed") return snapshot::WithCode(absl::UnavailableError("VSS thaw not confirmed"), snapshot::kFreezeFailed);
  return absl::OkStatus();
}

}  // namespace vmb::vss
