// The VSS simulator across processes: the guest application's process serves its Coordinator on a Unix socket;
// the extension's `vss-sim` freeze provider (snapshot/vss_client.h) connects to it. One connection is one freeze:
//   client: "freeze\n"        server: "frozen\n" | "error <code> <message>\n"
//   client: "thaw\n" (or closes the connection: the extension died) -> server thaws, replies "thawed\n"
// so a killed extension never leaves the writers holding.
#ifndef VMBACKUP_SIMULATORS_VSS_VSS_SOCKET_H_
#define VMBACKUP_SIMULATORS_VSS_VSS_SOCKET_H_

#include <atomic>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "simulators/vss/vss.h"

namespace vmb::vss {

class VssSocketServer {
 public:
  VssSocketServer(Coordinator* coordinator, std::string socket_path);
  ~VssSocketServer();
  absl::Status Start();
  void Stop();

 private:
  void Serve();
  void HandleConnection(int fd);

  Coordinator* coordinator_;
  std::string path_;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace vmb::vss

#endif  // VMBACKUP_SIMULATORS_VSS_VSS_SOCKET_H_
