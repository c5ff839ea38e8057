// The Import/Export control plane (simulator): a real HTTP server on loopback serving the parts of the Azure
// management API the offline-seeding tools use: import jobs (Microsoft.ImportExport resource model), datacenter
// locations (shipping address, carriers), storage accounts, and the directory's application registrations.
// Every request needs "Authorization: Bearer <token>". State persists in a folder (state.json, written atomically).
#ifndef VMBACKUP_SIMULATORS_IMPORT_EXPORT_CONTROL_PLANE_H_
#define VMBACKUP_SIMULATORS_IMPORT_EXPORT_CONTROL_PLANE_H_

#include <mutex>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "simulators/import_export/model.pb.h"

namespace httplib {
class Server;
}

namespace vmb::ie {

struct ControlPlaneOptions {
  std::string state_dir;
  std::string token;
};

class ControlPlane {
 public:
  explicit ControlPlane(ControlPlaneOptions options);
  ~ControlPlane();

  // Loads the state folder and listens on 127.0.0.1 (`port` 0: any free port). Returns the base URL.
  absl::StatusOr<std::string> Start(int port = 0);
  void Stop();

  // Test and datacenter access to the state (thread-safe copies).
  proto::ServerState state();
  absl::Status Mutate(const std::function<absl::Status(proto::ServerState&)>& change);

 private:
  void Routes();
  absl::Status Save() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ControlPlaneOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::mutex mu_;
  proto::ServerState state_ ABSL_GUARDED_BY(mu_);
};

// The locations the simulator knows (region -> datacenter address and carriers).
proto::Location LocationFor(const std::string& subscription, const std::string& region);

}  // namespace vmb::ie

#endif  // VMBACKUP_SIMULATORS_IMPORT_EXPORT_CONTROL_PLANE_H_
