#include "simulators/http_server/bind_loopback.h"

#include <sys/socket.h>

namespace vmb::sim {

int BindLoopback(httplib::Server& server, int port) {
  // The listening socket passes through the socket options hook before it is bound and listens (with the library's
  // backlog); listening again on it only changes the backlog.
  socket_t listening = INVALID_SOCKET;
  server.set_socket_options([&listening](socket_t sock) {
    httplib::default_socket_options(sock);
    listening = sock;
  });
  int bound = port == 0 ? server.bind_to_any_port("127.0.0.1") : (server.bind_to_port("127.0.0.1", port) ? port : -1);
  if (bound > 0 && listening != INVALID_SOCKET && ::listen(listening, kBacklog) != 0) return -1;
  return bound;
}

}  // namespace vmb::sim
