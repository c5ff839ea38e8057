#include "simulators/import_export/sim_admin.h"

#include "absl/strings/str_cat.h"
#include "common/http/url.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"
#include "offline_seed/import_job/arm_call.h"

namespace vmb::ie {

absl::StatusOr<proto::StorageAccount> SimAdmin::PutStorageAccount(const std::string& subscription,
                                                                  const std::string& rg, const std::string& name,
                                                                  const std::string& region) {
  proto::StorageAccount a;
  a.set_location(region);
  a.set_kind("StorageV2");
  a.mutable_sku()->set_name("Standard_LRS");
  ASSIGN_OR_RETURN(std::string body, CallRest({transport_, base_, token_}, "PUT",
                                              absl::StrCat("/subscriptions/", subscription, "/resourceGroups/", rg,
                                                           "/providers/Microsoft.Storage/storageAccounts/", name,
                                                           "?api-version=", kStorageApiVersion),
                                              json::ToJsonCompact(a), "create storage account " + name));
  proto::StorageAccount out;
  RETURN_IF_ERROR(json::Parse(body, &out, "storage account"));
  return out;
}

namespace {

std::string DatacenterPath(const JobRef& ref) {
  return absl::StrCat("/internal/datacenter/jobs/", http::PercentEncode(ref.subscription), "/",
                      http::PercentEncode(ref.resource_group), "/", http::PercentEncode(ref.name));
}

}  // namespace

absl::StatusOr<proto::DatacenterJob> SimAdmin::DatacenterGet(const JobRef& ref) {
  ASSIGN_OR_RETURN(std::string body, CallRest({transport_, base_, token_}, "GET", DatacenterPath(ref), "",
                                              "datacenter view of " + ref.name));
  proto::DatacenterJob out;
  RETURN_IF_ERROR(json::Parse(body, &out, "datacenter job"));
  return out;
}

absl::StatusOr<proto::Job> SimAdmin::DatacenterUpdate(const JobRef& ref, const proto::Job& job) {
  ASSIGN_OR_RETURN(std::string body, CallRest({transport_, base_, token_}, "PUT", DatacenterPath(ref),
                                              json::ToJson(job), "datacenter update of " + ref.name));
  proto::Job out;
  RETURN_IF_ERROR(json::Parse(body, &out, "job"));
  return out;
}

}  // namespace vmb::ie
