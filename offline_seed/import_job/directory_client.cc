#include "offline_seed/import_job/directory_client.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/http/url.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"
#include "google/protobuf/struct.pb.h"

namespace vmb::ie {

std::string DisplayNameFilter(const std::string& display_name) {
  return absl::StrCat("displayName eq '", absl::StrReplaceAll(display_name, {{"'", "''"}}), "'");
}

absl::StatusOr<proto::Application> DirectoryClient::FindApplication(const std::string& display_name) {
  ASSIGN_OR_RETURN(std::string body, CallRest(graph_, "GET",
                                              absl::StrCat("/v1.0/applications?$filter=",
                                                           http::PercentEncode(DisplayNameFilter(display_name))),
                                              "", "find application " + display_name));
  proto::ApplicationList list;
  RETURN_IF_ERROR(json::Parse(body, &list, "application list"));
  if (list.value_size() == 0) return absl::NotFoundError(absl::StrCat("no application named ", display_name));
  return list.value(0);
}

absl::StatusOr<proto::Application> DirectoryClient::CreateApplication(const proto::Application& app) {
  proto::Application body = app;
  body.clear_id();
  body.clear_appid();
  ASSIGN_OR_RETURN(std::string answer, CallRest(graph_, "POST", "/v1.0/applications", json::ToJsonCompact(body),
                                                "create application " + app.displayname()));
  proto::Application out;
  RETURN_IF_ERROR(json::Parse(answer, &out, "application"));
  return out;
}

absl::Status DirectoryClient::SetKeyCredentials(const std::string& object_id,
                                                const std::vector<proto::KeyCredential>& keys) {
  proto::Application patch;
  for (const auto& k : keys) *patch.add_keycredentials() = k;
  return CallRest(graph_, "PATCH", absl::StrCat("/v1.0/applications/", http::PercentEncode(object_id)),
                  json::ToJsonCompact(patch), "set the keys of application " + object_id)
      .status();
}

absl::Status DirectoryClient::DeleteApplication(const std::string& object_id) {
  return CallRest(graph_, "DELETE", absl::StrCat("/v1.0/applications/", http::PercentEncode(object_id)), "",
                  "delete application " + object_id)
      .status();
}

absl::StatusOr<std::string> DirectoryClient::SignedInUserId() {
  ASSIGN_OR_RETURN(std::string body, CallRest(graph_, "GET", "/v1.0/me?$select=id", "", "get the signed-in user"));
  google::protobuf::Struct user;
  RETURN_IF_ERROR(json::Parse(body, &user, "the signed-in user"));
  auto id = user.fields().find("id");
  if (id == user.fields().end() || id->second.string_value().empty()) {
    return absl::NotFoundError("the directory's answer to GET /me has no id");
  }
  return id->second.string_value();
}

}  // namespace vmb::ie
