// The directory (Microsoft Graph v1.0 applications) for certgen's offline-backup application: its own endpoint
// (https://graph.microsoft.com) and its own token, apart from ARM's.
#ifndef VMBACKUP_OFFLINE_SEED_IMPORT_JOB_DIRECTORY_CLIENT_H_
#define VMBACKUP_OFFLINE_SEED_IMPORT_JOB_DIRECTORY_CLIENT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "offline_seed/import_job/arm_call.h"
#include "offline_seed/import_job/model.pb.h"

namespace vmb::ie {

inline constexpr char kGraphUrl[] = "https://graph.microsoft.com";

class DirectoryClient {
 public:
  // `clock` times the backoff between retries of a transient failure.
  DirectoryClient(http::HttpTransport* transport, std::string base_url, std::string token, Clock* clock = &RealClock())
      : graph_{transport, std::move(base_url), std::move(token), clock} {}

  // GET /v1.0/applications?$filter=displayName eq '<name>'. kNotFound when there is none.
  absl::StatusOr<proto::Application> FindApplication(const std::string& display_name);
  // POST /v1.0/applications (sent once: a retry could register two).
  absl::StatusOr<proto::Application> CreateApplication(const proto::Application& app);
  // PATCH /v1.0/applications/{id} with the application's whole keyCredentials list (Graph replaces it).
  absl::Status SetKeyCredentials(const std::string& object_id, const std::vector<proto::KeyCredential>& keys);
  // DELETE /v1.0/applications/{id}.
  absl::Status DeleteApplication(const std::string& object_id);
  // GET /v1.0/me?$select=id: the signed-in user's object id (the "Azure user id"). kNotFound when the answer has no
  // id; the service's status otherwise (e.g. a token without a user).
  absl::StatusOr<std::string> SignedInUserId();

 private:
  RestEndpoint graph_;
};

// The OData filter for a display name, quotes doubled as OData wants. Exposed for tests.
std::string DisplayNameFilter(const std::string& display_name);

}  // namespace vmb::ie

#endif  // VMBACKUP_OFFLINE_SEED_IMPORT_JOB_DIRECTORY_CLIENT_H_
