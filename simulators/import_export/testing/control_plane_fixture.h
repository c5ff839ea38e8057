// A running Import/Export control-plane simulator for tests: started on a free loopback port with a bearer token,
// its state in a folder, and a transport and the tools' clients pointed at it. Tests that need the control plane
// (certgen, diskprep, the simulator's own) hold one instead of starting the simulator by hand.
#ifndef VMBACKUP_SIMULATORS_IMPORT_EXPORT_TESTING_CONTROL_PLANE_FIXTURE_H_
#define VMBACKUP_SIMULATORS_IMPORT_EXPORT_TESTING_CONTROL_PLANE_FIXTURE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/http/http_transport.h"
#include "common/time/clock.h"
#include "offline_seed/import_job/arm_client.h"
#include "offline_seed/import_job/directory_client.h"
#include "simulators/import_export/control_plane.h"

namespace vmb::ie::testing {

inline constexpr char kToken[] = "tok";

struct ControlPlaneFixtureOptions {
  std::string state_dir;        // the simulator's state folder (made if absent; reused by Restart)
  std::string token = kToken;   // the bearer token it accepts
  Clock* clock = &RealClock();  // the service's clock (expiry and retention rules): a FakeClock to move it
};

class ControlPlaneFixture {
 public:
  // Starts the simulator (any free port) and a curl transport. Errors: the simulator's (a bad state folder, no port).
  static absl::StatusOr<std::unique_ptr<ControlPlaneFixture>> Start(ControlPlaneFixtureOptions options);
  // The same with the default token and clock.
  static absl::StatusOr<std::unique_ptr<ControlPlaneFixture>> Start(const std::string& state_dir);

  // Stops the simulator and starts it again on the same state folder (a new port: url() changes), as a service
  // restart does; what it persisted must survive. The transport's open connections are dropped first (transport()
  // stays valid), so the server stops at once instead of waiting out idle keep-alive connections (5 s).
  absl::Status Restart();

  ~ControlPlaneFixture();
  ControlPlaneFixture(const ControlPlaneFixture&) = delete;
  ControlPlaneFixture& operator=(const ControlPlaneFixture&) = delete;

  const std::string& url() const { return url_; }
  const std::string& token() const { return options_.token; }
  http::HttpTransport* transport() const;  // valid as long as the fixture
  ControlPlane& plane() { return *plane_; }

  // The tools' clients, pointed at the simulator now, with its token (ARM and Graph are one endpoint here).
  ArmImportJobClient Arm() const;
  DirectoryClient Directory() const;

 private:
  explicit ControlPlaneFixture(ControlPlaneFixtureOptions options);

  class Reconnecting;

  ControlPlaneFixtureOptions options_;
  std::unique_ptr<ControlPlane> plane_;
  std::string url_;
  // Declared after plane_, so it goes first: the server then stops at once instead of waiting out the transport's
  // idle keep-alive connections (5 s).
  std::unique_ptr<Reconnecting> transport_;
};

}  // namespace vmb::ie::testing

#endif  // VMBACKUP_SIMULATORS_IMPORT_EXPORT_TESTING_CONTROL_PLANE_FIXTURE_H_
