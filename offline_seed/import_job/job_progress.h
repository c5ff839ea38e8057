// Where an import job stands, read as Azure reports it (api-version 2021-01-01): the job goes Creating -> Shipping ->
// Received -> Transferring -> Packaging -> Completed, or Closed when there were errors; each drive goes Specified ->
// Received -> Transferring -> Completed | CompletedMoreInfo | NeverReceived, then ShippedBack. The data is in the
// storage account once every drive has finished, which happens while the job is still Packaging (the drives are
// being shipped back), so the tools follow the drives, not the job.
#ifndef VMBACKUP_OFFLINE_SEED_IMPORT_JOB_JOB_PROGRESS_H_
#define VMBACKUP_OFFLINE_SEED_IMPORT_JOB_JOB_PROGRESS_H_

#include <string>

#include "absl/status/status.h"
#include "offline_seed/import_job/model.pb.h"

namespace vmb::ie {

struct JobProgress {
  bool data_done = false;     // every drive finished: the vault copy can start (after repair, if needed)
  bool needs_repair = false;  // some drive ended CompletedMoreInfo or NeverReceived, or the job Closed
  std::string summary;        // e.g. "Packaging; drives: 2 Completed, 1 NeverReceived"
};

JobProgress ProgressOf(const proto::Job& job);

// The message for a job the service no longer knows (404): Azure deletes jobs 90 days after they end, and a job left
// in Creating without shipping details after two weeks.
std::string JobGoneExplanation(const std::string& job_name);

}  // namespace vmb::ie

#endif  // VMBACKUP_OFFLINE_SEED_IMPORT_JOB_JOB_PROGRESS_H_
