// A REST client for the Import/Export management API (and the directory's applications) over an HttpTransport:
// pointed at the simulator's base URL, or at Azure's with a real bearer token. Errors keep the HTTP status and the
// service's error code (HttpStatusOf / AzureErrorCodeOf), e.g. TrackingNumberInUse, ResourceNotFound.
#ifndef VMBACKUP_SIMULATORS_IMPORT_EXPORT_CLIENT_H_
#define VMBACKUP_SIMULATORS_IMPORT_EXPORT_CLIENT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/http/http_transport.h"
#include "simulators/import_export/model.pb.h"

namespace vmb::ie {

inline constexpr char kApiVersion[] = "2021-01-01";

struct JobRef {
  std::string subscription;
  std::string resource_group;
  std::string name;
};

class ImportExportClient {
 public:
  ImportExportClient(http::HttpTransport* transport, std::string base_url, std::string token)
      : transport_(transport), base_(std::move(base_url)), token_(std::move(token)) {}

  absl::StatusOr<proto::Job> CreateJob(const JobRef& ref, const proto::Job& job);
  absl::StatusOr<proto::Job> GetJob(const JobRef& ref);
  absl::StatusOr<proto::Job> UpdateJob(const JobRef& ref, const proto::Job& patch);
  absl::StatusOr<std::vector<proto::Job>> ListJobs(const std::string& subscription);
  absl::StatusOr<proto::Location> GetLocation(const std::string& subscription, const std::string& region);
  absl::StatusOr<proto::StorageAccount> PutStorageAccount(const std::string& subscription, const std::string& rg,
                                                          const std::string& name, const std::string& region);
  absl::StatusOr<proto::StorageAccount> GetStorageAccount(const std::string& subscription, const std::string& rg,
                                                          const std::string& name);
  // The datacenter simulator's update of a job's state and drives (an internal endpoint of the simulator).
  absl::StatusOr<proto::Job> DatacenterUpdate(const JobRef& ref, const proto::Job& job);
  absl::StatusOr<proto::Application> FindApplication(const std::string& display_name);
  absl::StatusOr<proto::Application> CreateApplication(const proto::Application& app);

 private:
  absl::StatusOr<std::string> Call(const std::string& method, const std::string& path, const std::string& body,
                                   const std::string& what);

  http::HttpTransport* transport_;
  std::string base_;
  std::string token_;
};

}  // namespace vmb::ie

#endif  // VMBACKUP_SIMULATORS_IMPORT_EXPORT_CLIENT_H_
