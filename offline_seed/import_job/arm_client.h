// ImportJobService over ARM REST (api-version 2021-01-01 exactly): Azure's management endpoint with a bearer token,
// or the simulator's, which plays Azure in tests.
#ifndef VMBACKUP_OFFLINE_SEED_IMPORT_JOB_ARM_CLIENT_H_
#define VMBACKUP_OFFLINE_SEED_IMPORT_JOB_ARM_CLIENT_H_

#include <string>
#include <vector>

#include "offline_seed/import_job/arm_call.h"
#include "offline_seed/import_job/import_job_service.h"

namespace vmb::ie {

class ArmImportJobClient : public ImportJobService {
 public:
  // `clock` times the backoff between retries of a transient failure.
  ArmImportJobClient(http::HttpTransport* transport, std::string base_url, std::string token,
                     Clock* clock = &RealClock())
      : arm_{transport, std::move(base_url), std::move(token), clock} {}

  absl::StatusOr<proto::Job> CreateJob(const JobRef& ref, const proto::Job& job) override;
  absl::StatusOr<proto::Job> GetJob(const JobRef& ref) override;
  absl::StatusOr<proto::Job> UpdateJob(const JobRef& ref, const proto::UpdateJobParameters& patch) override;
  absl::StatusOr<std::vector<proto::Job>> ListJobs(const std::string& subscription) override;
  absl::StatusOr<std::vector<proto::DriveBitLockerKey>> ListBitLockerKeys(const JobRef& ref) override;
  absl::StatusOr<proto::Location> GetLocation(const std::string& location) override;
  absl::StatusOr<proto::StorageAccount> GetStorageAccount(const std::string& subscription,
                                                          const std::string& resource_group,
                                                          const std::string& name) override;

 private:
  RestEndpoint arm_;
};

// The body of Jobs_Create: PutJobParameters (location, tags, properties) with only what `job` sets; server-owned
// fields are dropped. Exposed for tests.
std::string PutJobBody(const proto::Job& job);

}  // namespace vmb::ie

#endif  // VMBACKUP_OFFLINE_SEED_IMPORT_JOB_ARM_CLIENT_H_
