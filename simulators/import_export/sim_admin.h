// Calls that only the simulator has: what an admin does in the portal (create the storage account) and the
// datacenter's private updates of a job (an /internal endpoint, apart from the ARM surface).
#ifndef VMBACKUP_SIMULATORS_IMPORT_EXPORT_SIM_ADMIN_H_
#define VMBACKUP_SIMULATORS_IMPORT_EXPORT_SIM_ADMIN_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/http/http_transport.h"
#include "offline_seed/import_job/import_job_service.h"
#include "offline_seed/import_job/model.pb.h"
#include "simulators/import_export/state.pb.h"

namespace vmb::ie {

class SimAdmin {
 public:
  SimAdmin(http::HttpTransport* transport, std::string base_url, std::string token)
      : transport_(transport), base_(std::move(base_url)), token_(std::move(token)) {}

  // Microsoft.Storage StorageAccounts_Create, as the portal would.
  absl::StatusOr<proto::StorageAccount> PutStorageAccount(const std::string& subscription, const std::string& rg,
                                                          const std::string& name, const std::string& region);
  // The datacenter's view of a job: the job and when its shipping details were first entered.
  absl::StatusOr<proto::DatacenterJob> DatacenterGet(const JobRef& ref);
  // The datacenter's update of a job's state and drives.
  absl::StatusOr<proto::Job> DatacenterUpdate(const JobRef& ref, const proto::Job& job);

 private:
  http::HttpTransport* transport_;
  std::string base_;
  std::string token_;
};

}  // namespace vmb::ie

#endif  // VMBACKUP_SIMULATORS_IMPORT_EXPORT_SIM_ADMIN_H_
