#include "offline_seed/diskprep/shipping.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/status/http_status.h"
#include "common/status/status_macros.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/diskprep/shipping_record.pb.h"
#include "offline_seed/import_job/arm_client.h"
#include "offline_seed/import_job/job_progress.h"

namespace vmb::offline {
namespace {

constexpr char kUtc[] = "%Y-%m-%dT%H:%M:%SZ";  // RFC 3339 in UTC

// The job `o` names: the staging location's record, else job_name in subscription.
absl::StatusOr<ie::JobRef> JobRefOf(const ShippingOptions& o) {
  if (o.staging.empty()) {
    if (o.job_name.empty() || o.subscription.empty()) {
      return absl::InvalidArgumentError("no import job: give s:<staging location> or the job's name");
    }
    return ie::JobRef{o.subscription, o.resource_group, o.job_name};
  }
  ASSIGN_OR_RETURN(proto::ImportJobRecord staged, ReadStagedJob(o.staging));
  return ie::JobRef{staged.subscriptionid(), o.resource_group, staged.jobname()};
}

std::string RecordPath(const ShippingOptions& o, const std::string& job) {
  if (!o.staging.empty()) return o.staging + "/shipping.json";
  return absl::StrCat(o.record_dir.empty() ? "." : o.record_dir, "/shipping-", job, ".json");
}

// When the details were first entered: the earlier record's, else `now` (a correction keeps the first deadline:
// fixing a typo gives the drives no more time).
absl::Time FirstEntered(const std::string& record_path, absl::Time now) {
  absl::StatusOr<std::string> text = file::ReadFile(record_path);
  proto::ShippingRecord earlier;
  absl::Time at;
  std::string err;
  if (text.ok() && json::Parse(*text, &earlier, record_path).ok() &&
      absl::ParseTime(absl::RFC3339_full, earlier.enteredat(), &at, &err) && at <= now) {
    return at;
  }
  return now;
}

ie::proto::UpdateJobParameters ShippingUpdate(const ie::proto::Job& job, const ShippingDetails& d) {
  ie::proto::UpdateJobParameters patch;
  auto* p = patch.mutable_properties();
  auto* pkg = p->mutable_deliverypackage();
  pkg->set_carriername(d.carrier);
  pkg->set_trackingnumber(NormalTrackingNumber(d.tracking_number));  // "1z 999 aa1 " is 1Z999AA1, as carriers print it
  pkg->set_drivecount(d.drive_count);
  pkg->set_shipdate(d.ship_date);
  *p->mutable_returnaddress() = d.return_address;
  if (!d.return_account.empty()) {
    auto* back = p->mutable_returnshipping();
    back->set_carriername(d.return_carrier.empty() ? d.carrier : d.return_carrier);
    back->set_carrieraccountnumber(d.return_account);
  }
  // UpdateJobParameters.state: "Shipping" tells the service the package is on its way; the delivery package and
  // return address may come in the same request. Sent once: a Shipping job is only corrected.
  if (job.properties().state() == "Creating") p->set_state("Shipping");
  return patch;
}

absl::Status WriteRecord(const std::string& path, const ie::JobRef& ref, const ie::proto::Job& accepted,
                         absl::Time entered) {
  proto::ShippingRecord record;
  record.set_name(accepted.name().empty() ? ref.name : accepted.name());
  record.set_subscription(ref.subscription);
  const auto& p = accepted.properties();
  record.mutable_properties()->set_state(p.state());
  *record.mutable_properties()->mutable_deliverypackage() = p.deliverypackage();
  *record.mutable_properties()->mutable_returnaddress() = p.returnaddress();
  *record.mutable_properties()->mutable_returnshipping() = p.returnshipping();
  record.set_enteredat(absl::FormatTime(kUtc, entered, absl::UTCTimeZone()));
  record.set_arriveby(absl::FormatTime(kUtc, entered + kArrivalWindow, absl::UTCTimeZone()));
  absl::Status written = file::WriteFileAtomic(path, json::ToJson(record, true), 0600);
  if (written.ok()) return written;
  return absl::Status(written.code(), absl::StrCat("import job ", record.name(),
                                                   " has the new shipping details, but "
                                                   "the local record could not be written: ",
                                                   written.message()));
}

}  // namespace

absl::StatusOr<std::pair<ie::proto::Job, ie::proto::Location>> LoadJob(const ShippingOptions& o) {
  ASSIGN_OR_RETURN(ie::JobRef ref, JobRefOf(o));
  ie::ArmImportJobClient client(o.transport, o.control_plane, o.token);
  absl::StatusOr<ie::proto::Job> job = client.GetJob(ref);
  if (!job.ok()) {
    // The job was made by `diskprep s:` (this staging location records it): a 404 now means Azure deleted it.
    if (HttpStatusOf(job.status()).value_or(0) == 404 && !o.staging.empty() &&
        ::access((o.staging + "/diskprep").c_str(), F_OK) == 0) {
      return absl::NotFoundError(ie::JobGoneExplanation(ref.name));
    }
    return absl::Status(job.status().code(), absl::StrCat("import job ", ref.name, ": ", job.status().message(),
                                                          " (prepare the drives with `diskprep s:` first)"));
  }
  ASSIGN_OR_RETURN(ie::proto::Location where, client.GetLocation(job->location()));
  return std::make_pair(*job, where);
}

absl::Status CheckShippingDetails(const ShippingDetails& d, const ie::proto::Job& job, const ie::proto::Location& where,
                                  absl::Time entered) {
  const ie::proto::ReturnAddress& a = d.return_address;
  // Each detail by the rule the dialogue checks it with as it is typed (shipping_checks.h).
  const std::pair<const char*, std::string> fields[] = {{"carrier", d.carrier},
                                                        {"tracking-number", d.tracking_number},
                                                        {"ship-date", d.ship_date},
                                                        {"drive-count", absl::StrCat(d.drive_count)},
                                                        {"contact", a.recipientname()},
                                                        {"street", a.streetaddress1()},
                                                        {"city", a.city()},
                                                        {"state", a.stateorprovince()},
                                                        {"postal-code", a.postalcode()},
                                                        {"country", a.countryorregion()},
                                                        {"phone", a.phone()},
                                                        {"email", a.email()}};
  for (const auto& [field, value] : fields) RETURN_IF_ERROR(CheckShippingField(field, value, job, where, entered));
  return absl::OkStatus();
}

absl::Status CheckShippingUpdatable(const ie::proto::Job& job) {
  const std::string& state = job.properties().state();
  if (state == "Creating" || state == "Shipping") return absl::OkStatus();
  std::string next = "nothing can be changed any more; `diskprep u:` shows its status";
  if (state == "Received" || state == "Transferring" || state == "Packaging") {
    next = "the datacenter has the package, so the details can no longer change; `diskprep u:` shows its progress";
  }
  return absl::FailedPreconditionError(absl::StrCat("import job ", job.name(), " is ", state,
                                                    ": Azure takes shipping details only while a job is Creating or "
                                                    "Shipping; ",
                                                    next, ". Nothing was changed"));
}

absl::StatusOr<ShippingResult> RecordShipping(const ShippingOptions& o, const ShippingDetails& d) {
  ASSIGN_OR_RETURN(ie::JobRef ref, JobRefOf(o));
  ASSIGN_OR_RETURN(auto loaded, LoadJob(o));
  const ie::proto::Job& job = loaded.first;
  RETURN_IF_ERROR(CheckShippingUpdatable(job));
  ShippingResult r;
  r.details_path = RecordPath(o, ref.name);
  const absl::Time entered = FirstEntered(r.details_path, o.clock->Now());
  RETURN_IF_ERROR(CheckShippingDetails(d, job, loaded.second, entered));
  ie::ArmImportJobClient client(o.transport, o.control_plane, o.token);
  // One request: the service applies all of it or none, so it never holds half an update.
  ASSIGN_OR_RETURN(r.job, client.UpdateJob(ref, ShippingUpdate(job, d)));
  RETURN_IF_ERROR(WriteRecord(r.details_path, ref, r.job, entered));
  r.arrive_by = entered + kArrivalWindow;
  return r;
}

absl::StatusOr<std::string> JobStatusText(const ShippingOptions& o) {
  ASSIGN_OR_RETURN(auto loaded, LoadJob(o));
  const ie::proto::Job& job = loaded.first;
  std::string out = absl::StrCat("import job ", job.name(), ": ", job.properties().state(), " (",
                                 job.properties().percentcomplete(), "%)\n");
  const auto& pkg = job.properties().deliverypackage();
  if (!pkg.trackingnumber().empty()) {
    absl::StrAppend(&out, "  shipped with ", pkg.carriername(), ", tracking number ", pkg.trackingnumber(), " on ",
                    pkg.shipdate(), ", ", pkg.drivecount(), " drive(s)\n");
  }
  for (const auto& d : job.properties().drivelist()) {
    absl::StrAppend(&out, absl::StrFormat("  drive %-10s %-18s %3d%%", d.driveid(), d.state(), d.percentcomplete()));
    if (!d.errorloguri().empty()) absl::StrAppend(&out, "  error log: ", d.errorloguri());
    if (!d.verboseloguri().empty()) absl::StrAppend(&out, "  verbose log: ", d.verboseloguri());
    absl::StrAppend(&out, "\n");
  }
  if (!job.properties().diagnosticspath().empty()) {
    absl::StrAppend(&out, "  drive logs go to the container ", job.properties().diagnosticspath(), "\n");
  }
  return out;
}

absl::StatusOr<ie::proto::Job> CancelJob(const ShippingOptions& o) {
  ASSIGN_OR_RETURN(ie::JobRef ref, JobRefOf(o));
  ie::ArmImportJobClient client(o.transport, o.control_plane, o.token);
  ie::proto::UpdateJobParameters cancel;
  cancel.mutable_properties()->set_cancelrequested(true);
  return client.UpdateJob(ref, cancel);
}

}  // namespace vmb::offline
