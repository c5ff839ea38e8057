#include "simulators/http_server/bind_loopback.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "gtest/gtest.h"

namespace vmb::sim {
namespace {

// Connections the server has not accepted yet; how many of `n` connects complete within 500 ms each.
int ConnectBurst(int port, int n) {
  std::vector<int> fds;
  int done = 0;
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof(err);
    if (rc == 0 || (errno == EINPROGRESS && ::poll(&p, 1, 500) == 1 &&
                    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)) {
      ++done;
    }
    fds.push_back(fd);
  }
  for (int fd : fds) ::close(fd);
  return done;
}

// A burst of 64 connections (one per disk snapshotted at once) all get through before the server accepts any.
// With the backlog of 5 the library is built with, all but about six wait a second for the SYN retransmit.
TEST(BindLoopback, ABurstOfConnectionsFitsTheBacklog) {
  httplib::Server server;
  int port = BindLoopback(server, 0);
  ASSERT_GT(port, 0);
  EXPECT_EQ(ConnectBurst(port, 64), 64);
}

TEST(BindLoopback, APortInUseIsRefused) {
  httplib::Server first, second;
  int port = BindLoopback(first, 0);
  ASSERT_GT(port, 0);
  // SO_REUSEPORT is the library's default, so a second bind to the same port by the same user succeeds; a port
  // held by a plain socket without it is refused.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = 0;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof(a);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  EXPECT_EQ(BindLoopback(second, ntohs(a.sin_port)), -1);
  ::close(fd);
}

}  // namespace
}  // namespace vmb::sim
