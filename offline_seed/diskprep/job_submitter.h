// The job submitter: the import job for the prepared drives, and where to ship them. Refuses more than 10 drives
// (kFailedPrecondition, before asking the service anything). An existing job of the staged name is this staging
// location's when it carries its item id (tag kItemTag: an earlier run created it) and is adopted as it is; another
// one (another server's job of the same name) is refused with kAlreadyExists, the drives being kept. Otherwise the
// job is created in the storage account's location, tagged with the item id, listing each drive's id, recovery
// password, manifest file and hash, and header hash. Errors of the service are returned as they are.
#ifndef VMBACKUP_OFFLINE_SEED_DISKPREP_JOB_SUBMITTER_H_
#define VMBACKUP_OFFLINE_SEED_DISKPREP_JOB_SUBMITTER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "offline_seed/agent/staging.pb.h"
#include "offline_seed/diskprep/drive_state.h"
#include "offline_seed/import_job/import_job_service.h"
#include "offline_seed/import_job/model.pb.h"

namespace vmb::offline {

// The job's tag naming the source computer (the staging location's sourceHost), so `diskprep u:` on that computer
// finds the job it waits for when another computer prepared the drives (ship_target.h).
inline constexpr char kSourceHostTag[] = "vmbackupSourceHost";

struct SubmittedJob {
  ie::proto::Job job;
  ie::proto::Location location;  // the datacenter the drives go to
};

// `staged` names the job, subscription, storage account and item; `resource_group` is the storage account's (and
// the job's).
absl::StatusOr<SubmittedJob> SubmitImportJob(ie::ImportJobService& service, const proto::ImportJobRecord& staged,
                                             const std::string& resource_group,
                                             const std::vector<PreparedDrive>& drives);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_DISKPREP_JOB_SUBMITTER_H_
