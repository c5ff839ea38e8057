// The Import/Export service as the offline seeding tools use it (Microsoft.ImportExport, api-version 2021-01-01),
// behind one interface: ArmImportJobClient speaks ARM REST to Azure (or to the simulator, which plays Azure in
// tests); tests may hand the tools any other implementation.
//
// Errors keep the HTTP status and ARM's error code (HttpStatusOf / AzureErrorCodeOf, e.g. ResourceNotFound,
// TrackingNumberInUse, InvalidApiVersionParameter), and the message says what to do next.
#ifndef VMBACKUP_OFFLINE_SEED_IMPORT_JOB_IMPORT_JOB_SERVICE_H_
#define VMBACKUP_OFFLINE_SEED_IMPORT_JOB_IMPORT_JOB_SERVICE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "offline_seed/import_job/model.pb.h"

namespace vmb::ie {

inline constexpr char kApiVersion[] = "2021-01-01";
// Microsoft.Storage, for reading the target storage account.
inline constexpr char kStorageApiVersion[] = "2021-06-01";

struct JobRef {
  std::string subscription;
  std::string resource_group;
  std::string name;
};

class ImportJobService {
 public:
  virtual ~ImportJobService() = default;

  // Jobs_Create: PUT of PutJobParameters (create or update). `job` carries only what the caller sets; server-owned
  // fields (id, name, type, state, provisioningState, percentComplete) are not sent.
  virtual absl::StatusOr<proto::Job> CreateJob(const JobRef& ref, const proto::Job& job) = 0;
  // Jobs_Get. Drive keys are never in the answer (BitLockerKeys_List has them).
  virtual absl::StatusOr<proto::Job> GetJob(const JobRef& ref) = 0;
  // Jobs_Update: PATCH of UpdateJobParameters, carrying only what changes.
  virtual absl::StatusOr<proto::Job> UpdateJob(const JobRef& ref, const proto::UpdateJobParameters& patch) = 0;
  // Jobs_ListBySubscription, every page (nextLink followed).
  virtual absl::StatusOr<std::vector<proto::Job>> ListJobs(const std::string& subscription) = 0;
  // BitLockerKeys_List.
  virtual absl::StatusOr<std::vector<proto::DriveBitLockerKey>> ListBitLockerKeys(const JobRef& ref) = 0;
  // Locations_Get (tenant-scoped): the shipping address and carriers of a datacenter location.
  virtual absl::StatusOr<proto::Location> GetLocation(const std::string& location) = 0;
  // Microsoft.Storage StorageAccounts_GetProperties.
  virtual absl::StatusOr<proto::StorageAccount> GetStorageAccount(const std::string& subscription,
                                                                  const std::string& resource_group,
                                                                  const std::string& name) = 0;
};

}  // namespace vmb::ie

#endif  // VMBACKUP_OFFLINE_SEED_IMPORT_JOB_IMPORT_JOB_SERVICE_H_
