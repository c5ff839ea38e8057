// The `vss-sim` freeze provider: the extension's side of the VSS line protocol on a Unix socket (the guest
// application's writer host serves it; simulators/vss is that other side). One connection is one freeze:
//   client: "freeze\n"        server: "frozen\n" | "error <code> <message>\n"
//   client: "thaw\n" (or closes the connection: the extension died) -> server thaws, replies "thawed\n"
// so a killed extension never leaves the writers holding.
#ifndef VMBACKUP_SNAPSHOT_VSS_CLIENT_H_
#define VMBACKUP_SNAPSHOT_VSS_CLIENT_H_

#include <sys/un.h>

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "snapshot/freeze.h"

namespace vmb::snapshot {

// The protocol's framing, for both sides.
namespace vss_wire {
inline constexpr char kDefaultSocket[] = "/run/vmbackup-vss.sock";
// Fills a Unix socket address; false when the path is too long for one.
bool FillAddress(const std::string& path, struct sockaddr_un* addr);
// One line without its '\n'; what was read so far on end of file, error or `timeout_ms` (-1: no timeout).
std::string ReadLine(int fd, int timeout_ms);
void SendLine(int fd, const std::string& line);
}  // namespace vss_wire

class VssSocketFreezeProvider : public FreezeProvider {
 public:
  explicit VssSocketFreezeProvider(std::string socket_path) : path_(std::move(socket_path)) {}
  ~VssSocketFreezeProvider() override;
  std::string name() const override { return "vss-sim"; }
  Consistency consistency() const override { return kApplicationConsistent; }
  // Errors: 121 when no VSS service listens on the socket; otherwise the server's code.
  absl::Status Freeze(absl::Duration timeout) override;
  absl::Status Thaw() override;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace vmb::snapshot

#endif  // VMBACKUP_SNAPSHOT_VSS_CLIENT_H_
