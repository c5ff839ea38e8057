// diskprep `u:`: the shipping step of an import job (seed 004). Records carrier, tracking number, ship date, drive
// count and return address in the control plane, moves the job to Shipping, keeps a local copy, and shows the job's
// status (job state, each drive's state and percent complete, log locations).
#ifndef VMBACKUP_OFFLINE_SEED_DISKPREP_SHIPPING_H_
#define VMBACKUP_OFFLINE_SEED_DISKPREP_SHIPPING_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/http/http_transport.h"
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
};

// Checks the details against the job and the location (carrier supported, drive count equal to the job's drives,
// date format, required address fields) without changing anything. kInvalidArgument naming the field.
// A tracking number as carriers print it: no spaces, upper case (so "1z999aa1 0123 " and "1Z999AA10123" are one).
std::string NormalTrackingNumber(const std::string& typed);

absl::Status CheckShippingDetails(const ShippingDetails& d, const ie::proto::Job& job, const ie::proto::Location& where);

struct ShippingResult {
  ie::proto::Job job;
  std::string details_path;  // local copy, 0600 (it holds a name, address, phone and email)
};

// Commits the details: updates the job (the control plane refuses a tracking number used by another job:
// kAborted, code TrackingNumberInUse), moves it to Shipping, writes <staging>/shipping.json.
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
