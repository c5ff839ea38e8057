#include "offline_seed/diskprep/ship_target.h"

#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/diskprep/job_submitter.h"
#include "offline_seed/import_job/arm_client.h"
#include "offline_seed/publish/publish_settings.h"

namespace vmb::offline {
namespace {

bool Waiting(const ie::proto::Job& job) {
  const std::string& state = job.properties().state();
  return state == "Creating" || state == "Shipping";
}

// The resource group out of an ARM id (/subscriptions/S/resourceGroups/RG/providers/...).
std::string ResourceGroupOf(const std::string& id) {
  std::vector<std::string> parts = absl::StrSplit(id, '/');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (absl::EqualsIgnoreCase(parts[i], "resourceGroups")) return parts[i + 1];
  }
  return "";
}

bool Matches(const ie::proto::Job& job, const JobSearch& search) {
  if (!search.job_name.empty()) return job.name() == search.job_name;
  auto tag = job.tags().find(kSourceHostTag);
  return tag != job.tags().end() && tag->second == search.host && Waiting(job);
}

}  // namespace

std::string ThisHost() {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  return host;
}

absl::StatusOr<ie::JobRef> FindWaitingJob(ie::ImportJobService& service, const JobSearch& search) {
  std::vector<ie::JobRef> found;
  for (const std::string& sub : search.subscriptions) {
    ASSIGN_OR_RETURN(std::vector<ie::proto::Job> jobs, service.ListJobs(sub));
    for (const ie::proto::Job& job : jobs) {
      if (Matches(job, search)) found.push_back({sub, ResourceGroupOf(job.id()), job.name()});
    }
  }
  const std::string where = absl::StrCat("subscription ", absl::StrJoin(search.subscriptions, ", "));
  if (found.empty() && !search.job_name.empty()) {
    return absl::NotFoundError(absl::StrCat("no import job ", search.job_name, " in ", where,
                                            " (the name entered at \"Initiate offline backup\"; check it, or give "
                                            "s:<staging location>)"));
  }
  if (found.empty()) {
    return absl::NotFoundError(absl::StrCat("no import job prepared from this computer (", search.host,
                                            ") waits for its package in ", where,
                                            "; name it with --job NAME, or give s:<staging location>"));
  }
  if (found.size() > 1) {
    std::vector<std::string> names;
    for (const ie::JobRef& r : found) names.push_back(absl::StrCat(r.name, " (", r.subscription, ")"));
    return absl::FailedPreconditionError(absl::StrCat(
        "several import jobs wait for this computer: ", absl::StrJoin(names, ", "), "; choose one with --job NAME"));
  }
  return found.front();
}

namespace {

// s: given: its job record, checked against p: (or this being the source computer). A staging location that is
// none is left to the command, which says so.
absl::Status CheckStaging(const ShipTargetInputs& in) {
  absl::StatusOr<proto::ImportJobRecord> staged = ReadStagedJob(in.staging);
  if (!staged.ok()) return absl::OkStatus();
  if (!in.publish_settings.empty()) {
    return LoadSubscription(in.publish_settings, staged->subscriptionid()).status();
  }
  if (staged->sourcehost() != ThisHost()) {
    return absl::InvalidArgumentError(absl::StrCat("this is not the source computer (", staged->sourcehost(),
                                                   "): pass the publish settings file with p:<file>"));
  }
  return absl::OkStatus();
}

// The staging location this computer waits for (WaitingImport: recorded by `seedagent initiate` or `diskprep s:`
// here), if any (and if it is the job --job names).
std::string PendingStaging(const ShipTargetInputs& in) {
  absl::StatusOr<std::string> pending = WaitingImport(in.agent_dir);
  if (!pending.ok()) return "";
  const std::string& staging = *pending;
  if (in.job_name.empty()) return staging;
  absl::StatusOr<proto::ImportJobRecord> staged = ReadStagedJob(staging);
  return staged.ok() && staged->jobname() == in.job_name ? staging : "";
}

}  // namespace

absl::Status ResolveShippingTarget(const ShipTargetInputs& in, ShippingOptions& so) {
  if (!in.staging.empty()) {
    so.staging = in.staging;
    return CheckStaging(in);
  }
  so.staging = PendingStaging(in);
  if (!so.staging.empty()) return absl::OkStatus();
  if (in.publish_settings.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no import job is recorded on this computer", in.job_name.empty() ? "" : " under the name " + in.job_name,
        "; on the source computer give the publish settings file entered at \"Initiate offline backup\" (u: p:<file>; "
        "the job is then found in its subscription), or from any computer u: s:<staging> p:<file>"));
  }
  if (so.control_plane.empty()) return absl::InvalidArgumentError("no management endpoint: --control-plane URL");
  ASSIGN_OR_RETURN(std::vector<PublishedSubscription> subs, ReadPublishSettings(in.publish_settings));
  JobSearch search{{}, in.job_name, ThisHost()};
  for (const PublishedSubscription& s : subs) search.subscriptions.push_back(s.id);
  ie::ArmImportJobClient client(so.transport, so.control_plane, so.token);
  ASSIGN_OR_RETURN(ie::JobRef ref, FindWaitingJob(client, search));
  so.job_name = ref.name;
  so.subscription = ref.subscription;
  if (!ref.resource_group.empty()) so.resource_group = ref.resource_group;
  so.record_dir = in.agent_dir;
  return absl::OkStatus();
}

}  // namespace vmb::offline
