// diskprep `u:`: the shipping step of an import job (seed 004). Records carrier, tracking number, ship date, drive
// count and return address in the control plane, moves the job to Shipping, keeps a local copy, and shows the job's
// status (job state, each drive's state and percent complete, log locations).
//
// The job is the staging location's (s:), or, without one, the job named by `job_name` in `subscription` (found by
// FindWaitingJob, ship_target.h). The control plane is signed in to with a bearer token: the Import/Export API the
// tools speak (Azure Resource Manager, api-version 2021-01-01) takes Azure AD tokens only, never the publish
// settings' management certificate (which signed the classic Service Management API the original tool used).
#ifndef VMBACKUP_OFFLINE_SEED_DISKPREP_SHIPPING_H_
#define VMBACKUP_OFFLINE_SEED_DISKPREP_SHIPPING_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/http_transport.h"
#include "common/time/clock.h"
#include "offline_seed/diskprep/shipping_checks.h"
#include "offline_seed/import_job/model.pb.h"

namespace vmb::offline {

struct ShippingDetails {
  std::string carrier;
  std::string tracking_number;
  std::string ship_date;  // YYYY-MM-DD
  int drive_count = 0;
  ie::proto::ReturnAddress return_address;
  // Return shipping (the job's returnShipping): the carrier and the account Azure bills the drives' return to.
  // Sent when the account is given; the carrier defaults to `carrier`.
  std::string return_carrier;
  std::string return_account;
};

struct ShippingOptions {
  std::string staging;
  std::string control_plane;
  std::string token;
  std::string resource_group = "offlinebackup";
  http::HttpTransport* transport = nullptr;
  // Without a staging location: the job by name and subscription, and the folder its local record goes to.
  std::string job_name;
  std::string subscription;
  std::string record_dir;
  // When the details are entered: the seed's two-week rule counts from it.
  Clock* clock = &RealClock();
};

// The seed: the drives must reach the datacenter within two weeks of the shipping details being entered.
inline constexpr absl::Duration kArrivalWindow = absl::Hours(24 * 14);

// Checks the details against the job and the location, each by CheckShippingField (shipping_checks.h: carrier
// supported, tracking number, ship date, drive count equal to the job's drives, address fields, phone, email)
// without changing anything; `entered` is when the details are entered (the ship date's two-week rule).
// kInvalidArgument naming the field.
absl::Status CheckShippingDetails(const ShippingDetails& d, const ie::proto::Job& job, const ie::proto::Location& where,
                                  absl::Time entered = absl::Now());

// Whether Azure still takes shipping details for the job: while it is Creating or Shipping (the datacenter has not
// received the package). kFailedPrecondition otherwise, naming the state and what the admin can do.
absl::Status CheckShippingUpdatable(const ie::proto::Job& job);

struct ShippingResult {
  ie::proto::Job job;
  std::string details_path;  // local copy, 0600 (it holds a name, address, phone and email)
  absl::Time arrive_by;      // two weeks after the details were first entered
};

// Commits the details in one update of the job (delivery package, return address and shipping, and the move to
// Shipping when it is Creating), after checking the whole update against the job's current state; a second run
// corrects what the first sent. The local record (<staging>/shipping.json, or <record_dir>/shipping-<job>.json) is
// written only after the control plane accepted the update, so the two never disagree; it keeps when the details
// were first entered. Errors: kInvalidArgument (a detail), kFailedPrecondition (the job's state), kAborted with code
// TrackingNumberInUse (another job's number); then nothing changed anywhere.
absl::StatusOr<ShippingResult> RecordShipping(const ShippingOptions& o, const ShippingDetails& d);

// The job as the control plane reports it, rendered for the admin.
absl::StatusOr<std::string> JobStatusText(const ShippingOptions& o);

// Cancels the import job (cancelRequested), which Azure allows while it is Creating or Shipping (before the
// datacenter received the drives). Returns the job as the service then reports it. kFailedPrecondition, with the
// service's code, later on.
absl::StatusOr<ie::proto::Job> CancelJob(const ShippingOptions& o);

// The job and its location, for prompting.
absl::StatusOr<std::pair<ie::proto::Job, ie::proto::Location>> LoadJob(const ShippingOptions& o);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_DISKPREP_SHIPPING_H_
