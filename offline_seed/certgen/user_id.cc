#include "offline_seed/certgen/user_id.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/crypto/encoding.h"
#include "common/json/json.h"
#include "google/protobuf/struct.pb.h"
#include "offline_seed/import_job/directory_client.h"

namespace vmb::offline {

absl::StatusOr<std::string> ObjectIdFromToken(absl::string_view token) {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3 || parts[1].empty()) {
    return absl::NotFoundError("the token is not a JWT (header.payload.signature)");
  }
  // base64url without padding -> standard base64.
  std::string payload = absl::StrReplaceAll(parts[1], {{"-", "+"}, {"_", "/"}});
  payload.append((4 - payload.size() % 4) % 4, '=');
  absl::StatusOr<std::string> json = crypto::Base64Decode(payload);
  if (!json.ok()) return absl::NotFoundError("the token's payload is not base64url");
  google::protobuf::Struct claims;
  if (!json::Parse(*json, &claims, "token payload").ok()) {
    return absl::NotFoundError("the token's payload is not a JSON object");
  }
  auto oid = claims.fields().find("oid");
  if (oid == claims.fields().end() || oid->second.string_value().empty()) {
    return absl::NotFoundError("the token has no oid claim (not a user's token?)");
  }
  return oid->second.string_value();
}

absl::StatusOr<std::string> ResolveUserId(const std::string& explicit_id, const std::string& graph_token,
                                          ie::DirectoryClient& directory) {
  if (!explicit_id.empty()) return explicit_id;
  absl::StatusOr<std::string> from_token = ObjectIdFromToken(graph_token);
  if (from_token.ok()) return from_token;
  absl::StatusOr<std::string> me = directory.SignedInUserId();
  if (me.ok()) return me;
  return absl::NotFoundError(absl::StrCat(
      "cannot tell the Azure user id the application is named after: ", from_token.status().message(),
      ", and the directory's GET /me failed (", me.status().message(),
      "). Pass --user-id <object id> (Get-AzureRmADUser -UserPrincipalName <you> shows it as Id), or sign in with "
      "a user's token"));
}

}  // namespace vmb::offline
