// The Azure user id certgen names the offline application after (seed 004: AzureOfflineBackup_<Azure User Id>, the
// id Get-AzureRmADUser shows, which the agent keeps as CurrentUserId): the signed-in user's directory object id,
// never the login name of this computer.
#ifndef VMBACKUP_OFFLINE_SEED_CERTGEN_USER_ID_H_
#define VMBACKUP_OFFLINE_SEED_CERTGEN_USER_ID_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmb::ie {
class DirectoryClient;
}

namespace vmb::offline {

// The `oid` claim of a JWT access token (its payload decoded; the signature is not checked: the id only names the
// application, and the directory checks the token on every call). kNotFound when the token is not a JWT or has no
// `oid` (an opaque token); never quotes the token.
absl::StatusOr<std::string> ObjectIdFromToken(absl::string_view token);

// The id to name the application after: `explicit_id` when given (--user-id), else the `oid` of `graph_token`, else
// the directory's answer to GET /me. kNotFound naming what was tried and the way out otherwise.
absl::StatusOr<std::string> ResolveUserId(const std::string& explicit_id, const std::string& graph_token,
                                          ie::DirectoryClient& directory);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_CERTGEN_USER_ID_H_
