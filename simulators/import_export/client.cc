#include "simulators/import_export/client.h"

#include "absl/strings/str_cat.h"
#include "common/http/retry_policy.h"
#include "common/http/url.h"
#include "common/json/json.h"
#include "common/status/http_status.h"
#include "common/status/status_macros.h"
#include "common/time/clock.h"

namespace vmb::ie {
namespace {

std::string JobPath(const JobRef& r) {
  return absl::StrCat("/subscriptions/", http::PercentEncode(r.subscription), "/resourceGroups/",
                      http::PercentEncode(r.resource_group), "/providers/Microsoft.ImportExport/jobs/",
                      http::PercentEncode(r.name), "?api-version=", kApiVersion);
}

template <typename T>
absl::StatusOr<T> ParseAs(const std::string& body, const std::string& what) {
  T out;
  RETURN_IF_ERROR(json::Parse(body, &out, what));
  return out;
}

}  // namespace

absl::StatusOr<std::string> ImportExportClient::Call(const std::string& method, const std::string& path,
                                                     const std::string& body, const std::string& what) {
  http::HttpRequest req;
  req.method = method;
  req.url = base_ + path;
  req.headers = {{"Authorization", "Bearer " + token_}, {"Accept", "application/json"}};
  if (!body.empty() || method == "PUT" || method == "POST" || method == "PATCH") {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = body;
  }
  // GET, PUT and PATCH are idempotent here (a PUT or PATCH sends the whole state it sets), so a lost answer or a
  // busy service is retried; POST (a new application registration) is sent once.
  http::RetryOptions retry;
  retry.max_attempts = method == "POST" ? 1 : 5;
  retry.initial_backoff = absl::Milliseconds(200);
  retry.max_total = absl::Minutes(2);
  ASSIGN_OR_RETURN(http::HttpResponse r, http::SendWithRetry(*transport_, req, retry, RealClock()));
  if (r.status >= 200 && r.status < 300) return std::move(r.body);
  proto::ErrorBody e;
  std::string code, message;
  if (json::Parse(r.body, &e, "error").ok()) {
    code = e.error().code();
    message = e.error().message();
  }
  absl::Status s = absl::Status(HttpStatusToCode(r.status),
                                absl::StrCat(what, ": HTTP ", r.status, code.empty() ? "" : " " + code,
                                             message.empty() ? "" : ": " + message));
  s.SetPayload(kHttpStatusPayload, absl::Cord(absl::StrCat(r.status)));
  if (!code.empty()) s.SetPayload(kAzureErrorCodePayload, absl::Cord(code));
  return s;
}

absl::StatusOr<proto::Job> ImportExportClient::CreateJob(const JobRef& ref, const proto::Job& job) {
  ASSIGN_OR_RETURN(std::string body, Call("PUT", JobPath(ref), json::ToJson(job), "create import job " + ref.name));
  return ParseAs<proto::Job>(body, "job");
}

absl::StatusOr<proto::Job> ImportExportClient::GetJob(const JobRef& ref) {
  ASSIGN_OR_RETURN(std::string body, Call("GET", JobPath(ref), "", "get import job " + ref.name));
  return ParseAs<proto::Job>(body, "job");
}

absl::StatusOr<proto::Job> ImportExportClient::UpdateJob(const JobRef& ref, const proto::Job& patch) {
  ASSIGN_OR_RETURN(std::string body, Call("PATCH", JobPath(ref), json::ToJson(patch), "update import job " + ref.name));
  return ParseAs<proto::Job>(body, "job");
}

absl::StatusOr<std::vector<proto::Job>> ImportExportClient::ListJobs(const std::string& subscription) {
  ASSIGN_OR_RETURN(std::string body,
                   Call("GET", absl::StrCat("/subscriptions/", http::PercentEncode(subscription),
                                            "/providers/Microsoft.ImportExport/jobs?api-version=", kApiVersion),
                        "", "list import jobs"));
  ASSIGN_OR_RETURN(proto::JobList list, ParseAs<proto::JobList>(body, "job list"));
  return std::vector<proto::Job>(list.value().begin(), list.value().end());
}

absl::StatusOr<proto::Location> ImportExportClient::GetLocation(const std::string& subscription,
                                                                const std::string& region) {
  ASSIGN_OR_RETURN(std::string body,
                   Call("GET", absl::StrCat("/subscriptions/", http::PercentEncode(subscription),
                                            "/providers/Microsoft.ImportExport/locations/", http::PercentEncode(region),
                                            "?api-version=", kApiVersion),
                        "", "get location " + region));
  return ParseAs<proto::Location>(body, "location");
}

absl::StatusOr<proto::StorageAccount> ImportExportClient::PutStorageAccount(const std::string& subscription,
                                                                            const std::string& rg,
                                                                            const std::string& name,
                                                                            const std::string& region) {
  proto::StorageAccount a;
  a.set_location(region);
  ASSIGN_OR_RETURN(std::string body,
                   Call("PUT", absl::StrCat("/subscriptions/", subscription, "/resourceGroups/", rg,
                                            "/providers/Microsoft.Storage/storageAccounts/", name),
                        json::ToJson(a), "create storage account " + name));
  return ParseAs<proto::StorageAccount>(body, "storage account");
}

absl::StatusOr<proto::StorageAccount> ImportExportClient::GetStorageAccount(const std::string& subscription,
                                                                            const std::string& rg,
                                                                            const std::string& name) {
  ASSIGN_OR_RETURN(std::string body, Call("GET", absl::StrCat("/subscriptions/", subscription, "/resourceGroups/", rg,
                                                             "/providers/Microsoft.Storage/storageAccounts/", name),
                                          "", "get storage account " + name));
  return ParseAs<proto::StorageAccount>(body, "storage account");
}

absl::StatusOr<proto::Job> ImportExportClient::DatacenterUpdate(const JobRef& ref, const proto::Job& job) {
  ASSIGN_OR_RETURN(std::string body,
                   Call("PUT", absl::StrCat("/internal/datacenter/jobs/", http::PercentEncode(ref.subscription), "/",
                                            http::PercentEncode(ref.resource_group), "/", http::PercentEncode(ref.name)),
                        json::ToJson(job), "datacenter update of " + ref.name));
  return ParseAs<proto::Job>(body, "job");
}

absl::StatusOr<proto::Application> ImportExportClient::FindApplication(const std::string& display_name) {
  ASSIGN_OR_RETURN(std::string body, Call("GET", "/v1.0/applications?displayName=" + http::PercentEncode(display_name),
                                          "", "find application " + display_name));
  return ParseAs<proto::Application>(body, "application");
}

absl::StatusOr<proto::Application> ImportExportClient::CreateApplication(const proto::Application& app) {
  ASSIGN_OR_RETURN(std::string body,
                   Call("POST", "/v1.0/applications", json::ToJson(app), "create application " + app.displayname()));
  return ParseAs<proto::Application>(body, "application");
}

}  // namespace vmb::ie
