#include "offline_seed/import_job/arm_client.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/http/url.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"

namespace vmb::ie {
namespace {

std::string Version() { return absl::StrCat("api-version=", kApiVersion); }

std::string JobPath(const JobRef& r) {
  return absl::StrCat("/subscriptions/", http::PercentEncode(r.subscription), "/resourceGroups/",
                      http::PercentEncode(r.resource_group), "/providers/Microsoft.ImportExport/jobs/",
                      http::PercentEncode(r.name));
}

template <typename T>
absl::StatusOr<T> ParseAs(const std::string& body, const std::string& what) {
  T out;
  RETURN_IF_ERROR(json::Parse(body, &out, what));
  return out;
}

// nextLink is an absolute URL on the same endpoint; the part after the host is what CallRest appends.
std::string PathOf(const std::string& next_link, const std::string& base) {
  if (absl::StartsWith(next_link, base)) return next_link.substr(base.size());
  size_t scheme = next_link.find("://");
  size_t path = scheme == std::string::npos ? 0 : next_link.find('/', scheme + 3);
  return path == std::string::npos ? next_link : next_link.substr(path);
}

}  // namespace

std::string PutJobBody(const proto::Job& job) {
  proto::Job body;
  body.set_location(job.location());
  *body.mutable_tags() = job.tags();  // PutJobParameters.tags
  *body.mutable_properties() = job.properties();
  proto::JobProperties* p = body.mutable_properties();
  // Server-owned: never sent.
  p->clear_state();
  p->clear_provisioningstate();
  p->clear_percentcomplete();
  p->clear_incompletebloblisturi();
  for (proto::DriveStatus& d : *p->mutable_drivelist()) {
    d.clear_state();
    d.clear_percentcomplete();
    d.clear_copystatus();
    d.clear_errorloguri();
    d.clear_verboseloguri();
    d.clear_bytessucceeded();
    d.clear_manifesturi();
  }
  return json::ToJsonCompact(body);
}

absl::StatusOr<proto::Job> ArmImportJobClient::CreateJob(const JobRef& ref, const proto::Job& job) {
  ASSIGN_OR_RETURN(std::string body, CallRest(arm_, "PUT", absl::StrCat(JobPath(ref), "?", Version()), PutJobBody(job),
                                              "create import job " + ref.name));
  return ParseAs<proto::Job>(body, "job");
}

absl::StatusOr<proto::Job> ArmImportJobClient::GetJob(const JobRef& ref) {
  ASSIGN_OR_RETURN(std::string body,
                   CallRest(arm_, "GET", absl::StrCat(JobPath(ref), "?", Version()), "", "get import job " + ref.name));
  return ParseAs<proto::Job>(body, "job");
}

absl::StatusOr<proto::Job> ArmImportJobClient::UpdateJob(const JobRef& ref, const proto::UpdateJobParameters& patch) {
  ASSIGN_OR_RETURN(std::string body, CallRest(arm_, "PATCH", absl::StrCat(JobPath(ref), "?", Version()),
                                              json::ToJsonCompact(patch), "update import job " + ref.name));
  return ParseAs<proto::Job>(body, "job");
}

absl::StatusOr<std::vector<proto::Job>> ArmImportJobClient::ListJobs(const std::string& subscription) {
  std::vector<proto::Job> out;
  std::string next = absl::StrCat("/subscriptions/", http::PercentEncode(subscription),
                                  "/providers/Microsoft.ImportExport/jobs?", Version());
  for (int page = 0; !next.empty(); ++page) {
    if (page > 10000) return absl::DataLossError("list import jobs: the service keeps answering with a nextLink");
    ASSIGN_OR_RETURN(std::string body, CallRest(arm_, "GET", next, "", "list import jobs"));
    ASSIGN_OR_RETURN(proto::JobList list, ParseAs<proto::JobList>(body, "job list"));
    out.insert(out.end(), list.value().begin(), list.value().end());
    next = list.nextlink().empty() ? "" : PathOf(list.nextlink(), arm_.base_url);
  }
  return out;
}

absl::StatusOr<std::vector<proto::DriveBitLockerKey>> ArmImportJobClient::ListBitLockerKeys(const JobRef& ref) {
  ASSIGN_OR_RETURN(std::string body,
                   CallRest(arm_, "POST", absl::StrCat(JobPath(ref), "/listBitLockerKeys?", Version()), "",
                            "list the drive keys of import job " + ref.name, /*idempotent_post=*/true));
  ASSIGN_OR_RETURN(proto::GetBitLockerKeysResponse keys, ParseAs<proto::GetBitLockerKeysResponse>(body, "keys"));
  return std::vector<proto::DriveBitLockerKey>(keys.value().begin(), keys.value().end());
}

absl::StatusOr<proto::Location> ArmImportJobClient::GetLocation(const std::string& location) {
  ASSIGN_OR_RETURN(std::string body, CallRest(arm_, "GET",
                                              absl::StrCat("/providers/Microsoft.ImportExport/locations/",
                                                           http::PercentEncode(location), "?", Version()),
                                              "", "get Import/Export location " + location));
  return ParseAs<proto::Location>(body, "location");
}

absl::StatusOr<proto::StorageAccount> ArmImportJobClient::GetStorageAccount(const std::string& subscription,
                                                                            const std::string& resource_group,
                                                                            const std::string& name) {
  ASSIGN_OR_RETURN(
      std::string body,
      CallRest(arm_, "GET",
               absl::StrCat("/subscriptions/", http::PercentEncode(subscription), "/resourceGroups/",
                            http::PercentEncode(resource_group), "/providers/Microsoft.Storage/storageAccounts/",
                            http::PercentEncode(name), "?api-version=", kStorageApiVersion),
               "", "get storage account " + name));
  return ParseAs<proto::StorageAccount>(body, "storage account");
}

}  // namespace vmb::ie
