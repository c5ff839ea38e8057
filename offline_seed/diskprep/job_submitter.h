// The job submitter: the import job for the prepared drives, and where to ship them. Refuses more than 10 drives
// (kFailedPrecondition, before asking the service anything). An existing job of the staged name is this staging
// location's when it carries its item id (tag kItemTag: an earlier run created it) and is adopted as it is; another
// one (another server's job of the same name) is refused with kAlreadyExists, the drives being kept. Otherwise the
// job is created in the storage account's location, tagged with the item id, listing each drive's id, recovery
// password, manifest file and hash, and header hash. Errors of the service are returned as they are.
//
// CheckExistingJob runs first, before any drive is formatted: a job is created only once every staged range is on a
// verified drive, so an existing job of this staging location already holds all the data, and a chosen drive that
// is not in it would be formatted for nothing (and left out of the package the datacenter imports).
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

// A drive chosen for this run: its name and the id the job lists it by (its serial id, or the id a drive without a
// serial got when an earlier run formatted it; empty when it has neither).
struct ChosenDrive {
  std::string name;
  std::string drive_id;
};

// OK when no job of the staged name exists (kNotFound from the service) or when it is this staging location's, not
// cancelled, and lists every chosen drive (a resumed run). Otherwise, naming the way out: kAlreadyExists for another
// server's job of the same name; kFailedPrecondition for a cancelled job or for a chosen drive the job does not list.
// Other errors of the service are returned as they are.
absl::Status CheckExistingJob(ie::ImportJobService& service, const proto::ImportJobRecord& staged,
                              const std::string& resource_group, const std::vector<ChosenDrive>& chosen);

// `staged` names the job, subscription, storage account and item; `resource_group` is the storage account's (and
// the job's).
absl::StatusOr<SubmittedJob> SubmitImportJob(ie::ImportJobService& service, const proto::ImportJobRecord& staged,
                                             const std::string& resource_group,
                                             const std::vector<PreparedDrive>& drives);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_DISKPREP_JOB_SUBMITTER_H_
