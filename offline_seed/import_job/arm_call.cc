#include "offline_seed/import_job/arm_call.h"

#include "absl/strings/str_cat.h"
#include "common/http/retry_policy.h"
#include "common/json/json.h"
#include "common/status/http_status.h"
#include "common/status/status_macros.h"
#include "common/time/clock.h"
#include "offline_seed/import_job/model.pb.h"

namespace vmb::ie {
namespace {

// What to do next, for the errors an admin can act on.
std::string WayOut(int status, const std::string& code) {
  if (status == 401 || code == "AuthenticationFailed" || code == "InvalidAuthenticationToken" ||
      code == "ExpiredAuthenticationToken") {
    return " (the token is missing, wrong or expired: get a new one, e.g. `az account get-access-token`)";
  }
  if (status == 403) return " (the signed-in identity lacks the role for this; ask the subscription's owner)";
  if (code == "InvalidApiVersionParameter" || code == "MissingApiVersionParameter") {
    return " (this tool's api-version is not accepted by the endpoint: check --control-plane points at Azure)";
  }
  return "";
}

}  // namespace

absl::StatusOr<std::string> CallRest(const RestEndpoint& e, const std::string& method, const std::string& path,
                                     const std::string& body, const std::string& what, bool idempotent_post) {
  http::HttpRequest req;
  req.method = method;
  req.url = e.base_url + path;
  req.headers = {{"Authorization", "Bearer " + e.token}, {"Accept", "application/json"}};
  if (!body.empty() || method == "PUT" || method == "POST" || method == "PATCH") {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = body;
  }
  http::RetryOptions retry;
  retry.max_attempts = method == "POST" && !idempotent_post ? 1 : 5;
  retry.initial_backoff = absl::Milliseconds(200);
  retry.max_total = absl::Minutes(2);
  ASSIGN_OR_RETURN(http::HttpResponse r, http::SendWithRetry(*e.transport, req, retry, *e.clock));
  if (r.status >= 200 && r.status < 300) return std::move(r.body);
  // ARM and Graph both answer {"error": {"code", "message"}}.
  proto::ErrorBody err;
  std::string code, message;
  if (json::Parse(r.body, &err, "error").ok()) {
    code = err.error().code();
    message = err.error().message();
  }
  absl::Status s = absl::Status(HttpStatusToCode(r.status),
                                absl::StrCat(what, ": HTTP ", r.status, code.empty() ? "" : " " + code,
                                             message.empty() ? "" : ": " + message, WayOut(r.status, code)));
  s.SetPayload(kHttpStatusPayload, absl::Cord(absl::StrCat(r.status)));
  if (!code.empty()) s.SetPayload(kAzureErrorCodePayload, absl::Cord(code));
  return s;
}

}  // namespace vmb::ie
