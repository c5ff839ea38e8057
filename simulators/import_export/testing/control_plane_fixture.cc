#include "simulators/import_export/testing/control_plane_fixture.h"

#include <utility>

#include "common/http/curl_transport.h"
#include "common/status/status_macros.h"

namespace vmb::ie::testing {

// A curl transport whose connections can be dropped while callers keep the same pointer.
class ControlPlaneFixture::Reconnecting : public http::HttpTransport {
 public:
  absl::StatusOr<http::HttpResponse> Send(const http::HttpRequest& request) override { return curl_->Send(request); }
  // Not while a request is in flight (the fixture's callers are the test's own thread).
  void DropConnections() { curl_ = http::NewCurlTransport(); }

 private:
  std::unique_ptr<http::HttpTransport> curl_ = http::NewCurlTransport();
};

ControlPlaneFixture::ControlPlaneFixture(ControlPlaneFixtureOptions options)
    : options_(std::move(options)), transport_(std::make_unique<Reconnecting>()) {}

ControlPlaneFixture::~ControlPlaneFixture() = default;

absl::StatusOr<std::unique_ptr<ControlPlaneFixture>> ControlPlaneFixture::Start(ControlPlaneFixtureOptions options) {
  std::unique_ptr<ControlPlaneFixture> f(new ControlPlaneFixture(std::move(options)));
  RETURN_IF_ERROR(f->Restart());
  return f;
}

absl::StatusOr<std::unique_ptr<ControlPlaneFixture>> ControlPlaneFixture::Start(const std::string& state_dir) {
  ControlPlaneFixtureOptions options;
  options.state_dir = state_dir;
  return Start(std::move(options));
}

absl::Status ControlPlaneFixture::Restart() {
  if (plane_ != nullptr) {
    transport_->DropConnections();
    plane_->Stop();
  }
  ControlPlaneOptions po;
  po.state_dir = options_.state_dir;
  po.token = options_.token;
  po.clock = options_.clock;
  plane_ = std::make_unique<ControlPlane>(std::move(po));
  ASSIGN_OR_RETURN(url_, plane_->Start());
  return absl::OkStatus();
}

http::HttpTransport* ControlPlaneFixture::transport() const { return transport_.get(); }

ArmImportJobClient ControlPlaneFixture::Arm() const { return ArmImportJobClient(transport(), url_, options_.token); }

DirectoryClient ControlPlaneFixture::Directory() const { return DirectoryClient(transport(), url_, options_.token); }

}  // namespace vmb::ie::testing
