// Which import job `diskprep u:` is about when it is given no staging location and this computer has recorded none
// (`seedagent initiate` and `diskprep s:` record theirs): the seed runs u: "on the source computer that waits for the
// import job", and says the tool finds that job itself. The job is looked up in the control plane, in the subscriptions
// of the publish settings file (p:): the job of the given name, or else the jobs prepared from this computer's staging
// location (tag kSourceHostTag, set by `diskprep s:`) that still wait for their package (Creating or Shipping).
#ifndef VMBACKUP_OFFLINE_SEED_DISKPREP_SHIP_TARGET_H_
#define VMBACKUP_OFFLINE_SEED_DISKPREP_SHIP_TARGET_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "offline_seed/diskprep/shipping.h"
#include "offline_seed/import_job/import_job_service.h"

namespace vmb::offline {

struct JobSearch {
  std::vector<std::string> subscriptions;  // where to look (the publish settings file's)
  std::string job_name;                    // the name entered at "Initiate offline backup"; empty: by this host
  std::string host;                        // this computer (the source computer)
};

// The one job the search finds. kNotFound saying where it looked and the way out (s:<staging>, --job NAME);
// kFailedPrecondition listing the jobs when several wait for this computer (choose one with --job NAME).
absl::StatusOr<ie::JobRef> FindWaitingJob(ie::ImportJobService& service, const JobSearch& search);

// This computer's host name, as seedagent records it in the staging location (sourceHost).
std::string ThisHost();

struct ShipTargetInputs {
  std::string staging;           // s:
  std::string publish_settings;  // p:
  std::string job_name;          // --job
  std::string agent_dir;         // where this computer recorded the job it waits for (pending-import)
};

// Points `so` (whose control plane, token and transport are set) at u:'s job, the seed's way:
//   1. s:<staging>: the staging location's job record; p: must hold its subscription (the seed requires p: with s:
//      off the source computer: without p:, this must be the computer that staged it).
//   2. the job this computer waits for (<agent_dir>/pending-import, RecordWaitingImport: written by `seedagent
//      initiate` on the source computer and by `diskprep s:` where it ran): the first choice without s:.
//   3. with p: (and --job NAME, or this computer's name): FindWaitingJob in p:'s subscriptions; the local record then
//      goes to `agent_dir`.
// kInvalidArgument / kNotFound / kFailedPrecondition saying what to give; the control plane's errors as they are.
absl::Status ResolveShippingTarget(const ShipTargetInputs& in, ShippingOptions& so);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_DISKPREP_SHIP_TARGET_H_
