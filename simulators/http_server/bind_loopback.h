// Binding the simulators' HTTP servers (cpp-httplib) to loopback with a listen backlog fit for bursts.
#ifndef VMBACKUP_SIMULATORS_HTTP_SERVER_BIND_LOOPBACK_H_
#define VMBACKUP_SIMULATORS_HTTP_SERVER_BIND_LOOPBACK_H_

#include <httplib.h>

namespace vmb::sim {

// Binds `server` to 127.0.0.1:`port` (any free port when 0) and returns the port, or -1. Debian's cpp-httplib is
// built with a listen backlog of 5: a burst of more connections than that (64 disks snapshotted at once) overflows
// it, and the connections left out wait for the client's SYN retransmit, 1 s and then 3 s later. The backlog is
// raised to kBacklog here.
int BindLoopback(httplib::Server& server, int port);

constexpr int kBacklog = 1024;

}  // namespace vmb::sim

#endif  // VMBACKUP_SIMULATORS_HTTP_SERVER_BIND_LOOPBACK_H_
