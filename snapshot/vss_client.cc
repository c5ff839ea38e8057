#include "snapshot/vss_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "snapshot/error_codes.h"

namespace vmb::snapshot {
namespace vss_wire {

bool FillAddress(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr->sun_path)) return false;
  std::memcpy(addr->sun_path, path.c_str(), path.size());
  return true;
}

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

void SendLine(int fd, const std::string& line) {
  std::string l = line + "\n";
  (void)!::send(fd, l.data(), l.size(), MSG_NOSIGNAL);
}

}  // namespace vss_wire

VssSocketFreezeProvider::~VssSocketFreezeProvider() {
  if (fd_ >= 0) ::close(fd_);  // the server thaws on end of file
}

absl::Status VssSocketFreezeProvider::Freeze(absl::Duration timeout) {
  sockaddr_un addr;
  if (!vss_wire::FillAddress(path_, &addr)) {
    return WithCode(absl::InvalidArgumentError("socket path too long"), kFreezeFailed);
  }
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::string err = std::strerror(errno);
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return WithCode(absl::UnavailableError(absl::StrCat("no VSS service at ", path_, " (", err,
                                                        "); start the guest application's writer host or pass "
                                                        "--vss-socket")),
                    kFreezeFailed);
  }
  vss_wire::SendLine(fd_, "freeze");
  std::string reply = vss_wire::ReadLine(fd_, static_cast<int>(absl::ToInt64Milliseconds(timeout + absl::Seconds(15))));
  if (reply == "frozen") return absl::OkStatus();
  ::close(fd_);
  fd_ = -1;
  int code = kFreezeFailed;
  std::vector<std::string> parts = absl::StrSplit(reply, absl::MaxSplits(' ', 2));
  if (parts.size() == 3 && parts[0] == "error" && absl::SimpleAtoi(parts[1], &code)) {
    return WithCode(absl::FailedPreconditionError(parts[2]), code);
  }
  return WithCode(absl::UnavailableError(absl::StrCat("VSS service answered \"", reply, "\"")),
                  reply.empty() ? kFreezeTimeout : kFreezeFailed);
}

absl::Status VssSocketFreezeProvider::Thaw() {
  if (fd_ < 0) return absl::OkStatus();
  vss_wire::SendLine(fd_, "thaw");
  std::string reply = vss_wire::ReadLine(fd_, 70000);
  ::close(fd_);
  fd_ = -1;
  if (reply != "thawed") return WithCode(absl::UnavailableError("VSS thaw not confirmed"), kFreezeFailed);
  return absl::OkStatus();
}

}  // namespace vmb::snapshot
