// A fault-injecting HTTP proxy on a real loopback socket, put in front of Azurite or the Import/Export control plane
// so soak tests exercise the real client stack (libcurl, retries, timeouts) against real failures on the wire.
// Clients are pointed at the proxy's address instead of the service's; each request is forwarded to the upstream
// (keep-alive connections, one per server thread) unless the FaultPlan's roll for it says otherwise:
//   reset before / reset after   the connection is closed mid-response (status line and headers sent, body cut),
//                                before forwarding (nothing happened) or after it (the service acted)
//   truncated body               a GET's response body cut in the middle, then the connection closed
//   503 (with and without Retry-After), 500, 409 SnapshotOperationRateExceeded, 403 AuthenticationFailed
//                                answered by the proxy with Azure's error body, not forwarded
//   latency                      a delay before forwarding (independent roll)
//   stall                        no answer for stall_for, then the connection closed (the client's timeout fires)
// Without faults (FaultPlan::None()) it is transparent; the blob conformance suite runs through it.
#ifndef VMBACKUP_SIMULATORS_FAULTPROXY_FAULT_PROXY_H_
#define VMBACKUP_SIMULATORS_FAULTPROXY_FAULT_PROXY_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/http/fault_plan.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace vmb::sim {

class FaultProxy {
 public:
  // upstream: "http://127.0.0.1:PORT" (loopback only: this is a test tool). port 0: a free port.
  static absl::StatusOr<std::unique_ptr<FaultProxy>> Start(const std::string& upstream, http::FaultPlan plan,
                                                           int port = 0);
  ~FaultProxy();

  int port() const { return port_; }
  // `url` with its scheme://host:port replaced by the proxy's: what clients use instead of the upstream URL.
  std::string Rewrite(const std::string& url) const;
  // The faults injected since the start or the last SetPlan, by kind.
  std::map<std::string, int> injected();
  // A new plan from the next request on (counts start again): one proxy serves a whole soak, with faults switched
  // off for setup and checks and on for the runs.
  void SetPlan(const http::FaultPlan& plan);
  int forwarded() const;

 private:
  explicit FaultProxy(http::FaultPlan plan);
  void Handle(const httplib::Request& req, httplib::Response& res);

  std::string upstream_host_;
  int upstream_port_ = 0;
  std::shared_ptr<http::FaultDice> Dice();
  std::mutex mu_;
  std::shared_ptr<http::FaultDice> dice_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> forwarded_{0};
};

}  // namespace vmb::sim

#endif  // VMBACKUP_SIMULATORS_FAULTPROXY_FAULT_PROXY_H_
