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
#include "snapshot/vss_client.h"

namespace vmb::vss {

using snapshot::vss_wire::FillAddress;
using snapshot::vss_wire::ReadLine;

namespace {

void Send(int fd, const std::string& line) { snapshot::vss_wire::SendLine(fd, line); }

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

}  // namespace vmb::vss
