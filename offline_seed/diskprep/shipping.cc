#include "offline_seed/diskprep/shipping.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/import_job/arm_client.h"
#include "offline_seed/import_job/job_progress.h"
#include "common/status/http_status.h"
#include <unistd.h>

namespace vmb::offline {

absl::StatusOr<std::pair<ie::proto::Job, ie::proto::Location>> LoadJob(const ShippingOptions& o) {
  ASSIGN_OR_RETURN(proto::ImportJobRecord staged, ReadStagedJob(o.staging));
  ie::ArmImportJobClient client(o.transport, o.control_plane, o.token);
  absl::StatusOr<ie::proto::Job> job = client.GetJob({staged.subscriptionid(), o.resource_group, staged.jobname()});
  if (!job.ok()) {
    // The job was made by `diskprep s:` (this staging location records it): a 404 now means Azure deleted it.
    if (HttpStatusOf(job.status()).value_or(0) == 404 && ::access((o.staging + "/diskprep").c_str(), F_OK) == 0) {
      return absl::NotFoundError(ie::JobGoneExplanation(staged.jobname()));
    }
    return absl::Status(job.status().code(), absl::StrCat("import job ", staged.jobname(), ": ", job.status().message(),
                                                          " (prepare the drives with `diskprep s:` first)"));
  }
  ASSIGN_OR_RETURN(ie::proto::Location where, client.GetLocation(job->location()));
  return std::make_pair(*job, where);
}

std::string NormalTrackingNumber(const std::string& typed) {
  std::string out;
  for (char c : typed) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) out.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

absl::Status CheckShippingDetails(const ShippingDetails& d, const ie::proto::Job& job, const ie::proto::Location& where) {
  bool carrier_ok = false;
  for (const auto& c : where.properties().supportedcarriers()) carrier_ok |= absl::EqualsIgnoreCase(c, d.carrier);
  if (!carrier_ok) {
    return absl::InvalidArgumentError(absl::StrCat("carrier \"", d.carrier, "\" does not serve ", where.name(),
                                                   "; choose one of ",
                                                   absl::StrJoin(where.properties().supportedcarriers(), ", ")));
  }
  if (NormalTrackingNumber(d.tracking_number).size() < 5) {
    return absl::InvalidArgumentError("the tracking number looks too short");
  }
  absl::Time date;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%d", d.ship_date, absl::UTCTimeZone(), &date, &err)) {
    return absl::InvalidArgumentError(absl::StrCat("ship date \"", d.ship_date, "\" is not YYYY-MM-DD"));
  }
  // The drives must reach the datacenter within two weeks of the details being entered (now): a ship date outside
  // two weeks either side of today is a typo, or a package that cannot arrive in time.
  const absl::Time today = absl::FromCivil(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()), absl::UTCTimeZone());
  if (date < today - absl::Hours(24 * 14) || date > today + absl::Hours(24 * 14)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ship date ", d.ship_date, " is more than two weeks from today (",
        absl::FormatTime("%Y-%m-%d", today, absl::UTCTimeZone()),
        "): the drives must reach the datacenter within two weeks of these details; enter the date you ship them"));
  }
  int drives = job.properties().drivelist_size();
  if (d.drive_count != drives) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the package holds ", d.drive_count, " drive(s) but import job ", job.name(), " has ", drives,
        "; a package carries exactly the drives of one job (do not mix drives of different jobs)"));
  }
  const auto& a = d.return_address;
  for (const auto& [field, value] : std::vector<std::pair<const char*, std::string>>{
           {"contact name", a.recipientname()}, {"street address", a.streetaddress1()}, {"city", a.city()},
           {"postal code", a.postalcode()}, {"country or region", a.countryorregion()}, {"phone", a.phone()},
           {"email", a.email()}}) {
    if (value.empty()) return absl::InvalidArgumentError(absl::StrCat("the return address needs a ", field));
  }
  if (a.email().find('@') == std::string::npos) return absl::InvalidArgumentError("the email address has no '@'");
  return absl::OkStatus();
}

absl::StatusOr<ShippingResult> RecordShipping(const ShippingOptions& o, const ShippingDetails& d) {
  ASSIGN_OR_RETURN(auto loaded, LoadJob(o));
  RETURN_IF_ERROR(CheckShippingDetails(d, loaded.first, loaded.second));
  ASSIGN_OR_RETURN(proto::ImportJobRecord staged, ReadStagedJob(o.staging));
  ie::ArmImportJobClient client(o.transport, o.control_plane, o.token);
  ie::JobRef ref{staged.subscriptionid(), o.resource_group, staged.jobname()};
  ie::proto::UpdateJobParameters patch;
  auto* pkg = patch.mutable_properties()->mutable_deliverypackage();
  pkg->set_carriername(d.carrier);
  pkg->set_trackingnumber(NormalTrackingNumber(d.tracking_number));  // "1z 999 aa1 " is 1Z999AA1, as carriers print it
  pkg->set_drivecount(d.drive_count);
  pkg->set_shipdate(d.ship_date);
  *patch.mutable_properties()->mutable_returnaddress() = d.return_address;
  if (!d.return_account.empty()) {
    auto* back = patch.mutable_properties()->mutable_returnshipping();
    back->set_carriername(d.return_carrier.empty() ? d.carrier : d.return_carrier);
    back->set_carrieraccountnumber(d.return_account);
  }
  RETURN_IF_ERROR(client.UpdateJob(ref, patch).status());
  ie::proto::UpdateJobParameters to_shipping;
  to_shipping.mutable_properties()->set_state("Shipping");
  ShippingResult r;
  ASSIGN_OR_RETURN(r.job, client.UpdateJob(ref, to_shipping));
  r.details_path = o.staging + "/shipping.json";
  ie::proto::Job local;
  *local.mutable_properties()->mutable_deliverypackage() = *pkg;
  *local.mutable_properties()->mutable_returnaddress() = d.return_address;
  local.set_name(r.job.name());
  RETURN_IF_ERROR(file::WriteFileAtomic(r.details_path, json::ToJson(local, true), 0600));
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
  ASSIGN_OR_RETURN(proto::ImportJobRecord staged, ReadStagedJob(o.staging));
  ie::ArmImportJobClient client(o.transport, o.control_plane, o.token);
  ie::proto::UpdateJobParameters cancel;
  cancel.mutable_properties()->set_cancelrequested(true);
  return client.UpdateJob({staged.subscriptionid(), o.resource_group, staged.jobname()}, cancel);
}

}  // namespace vmb::offline
