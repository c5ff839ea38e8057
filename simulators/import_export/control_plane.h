// The Import/Export control plane (simulator): a real HTTP server on loopback playing Azure for the offline seeding
// tools, with Azure's rules (Microsoft's @azure/arm-storageimportexport SDK judges it in the tests):
//   ARM, Microsoft.ImportExport api-version 2021-01-01 (any other, or none, is refused as ARM refuses it):
//     Operations_List, Locations_List/Get (tenant-scoped; an unknown location is 404), Jobs_ListBySubscription /
//     ListByResourceGroup ($top, nextLink), Jobs_Get, Jobs_Create (PUT: create or update; an Import job takes 1-10
//     drives), Jobs_Update (PATCH of UpdateJobParameters), Jobs_Delete (Creating, Completed or Closed jobs),
//     BitLockerKeys_List (the only answer that carries drive keys);
//   Microsoft.Storage storage accounts (create, get), as the portal and the tools use them;
//   Microsoft Graph v1.0: the signed-in user (/me) and applications ($filter=displayName eq '...', get, create,
//     update keys, delete), as certgen and the portal's manual path use them (directory_routes.cc);
//   /internal/datacenter/...: the datacenter simulator's private updates (not part of any public API).
// Every request needs "Authorization: Bearer <token>"; errors are ARM's {"error": {"code", "message"}}, unknown
// routes included. State persists in a folder (state.json, 0600, written atomically).
#ifndef VMBACKUP_SIMULATORS_IMPORT_EXPORT_CONTROL_PLANE_H_
#define VMBACKUP_SIMULATORS_IMPORT_EXPORT_CONTROL_PLANE_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/concurrent/mutex.h"
#include "common/time/clock.h"
#include "simulators/import_export/state.pb.h"

namespace httplib {
class Server;
}

namespace vmb::ie {

inline constexpr char kSimulatedUserObjectId[] = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

struct ControlPlaneOptions {
  std::string state_dir;
  std::string token;
  // The service's clock: Azure deletes a Creating job left without shipping details for two weeks, and a Completed
  // or Closed job 90 days after it ended. Tests move it (FakeClock::Advance).
  Clock* clock = &RealClock();
  // The signed-in user Graph's GET /me answers with (whatever the token): the "Azure user id" of seed 004.
  std::string user_object_id = kSimulatedUserObjectId;
  std::string user_principal_name = "backupadmin@contoso.onmicrosoft.com";
};

inline constexpr absl::Duration kCreatingExpiry = absl::Hours(24 * 14);
inline constexpr absl::Duration kEndedRetention = absl::Hours(24 * 90);

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
  void DirectoryRoutes();  // Graph (directory_routes.cc)
  absl::Status Save() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Applies the expiry and retention rules as of now (on every request, before it is served).
  void Expire();

  ControlPlaneOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  Mutex mu_;
  proto::ServerState state_ ABSL_GUARDED_BY(mu_);
};

// The locations the simulator knows: each with its own datacenter address and carriers. kNotFound otherwise.
absl::StatusOr<proto::Location> LocationFor(const std::string& region);
std::vector<proto::Location> AllLocations();

}  // namespace vmb::ie

#endif  // VMBACKUP_SIMULATORS_IMPORT_EXPORT_CONTROL_PLANE_H_
