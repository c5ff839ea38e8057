// One JSON call to an Azure REST endpoint (ARM or Microsoft Graph) with a bearer token, retried where safe, and its
// error body mapped to a status that keeps the HTTP status and the service's error code.
#ifndef VMBACKUP_OFFLINE_SEED_IMPORT_JOB_ARM_CALL_H_
#define VMBACKUP_OFFLINE_SEED_IMPORT_JOB_ARM_CALL_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/http/http_transport.h"
#include "common/time/clock.h"

namespace vmb::ie {

struct RestEndpoint {
  http::HttpTransport* transport = nullptr;
  std::string base_url;         // e.g. https://management.azure.com, https://graph.microsoft.com, or a simulator's URL
  std::string token;            // bearer token (a secret: never logged)
  Clock* clock = &RealClock();  // times the backoff between retries
};

// `path_and_query` is appended to the base URL. `what` names the call in errors ("get import job job1").
// GET/PUT/PATCH/DELETE are retried on transient failures; POST is sent once unless `idempotent_post`.
absl::StatusOr<std::string> CallRest(const RestEndpoint& endpoint, const std::string& method,
                                     const std::string& path_and_query, const std::string& body,
                                     const std::string& what, bool idempotent_post = false);

}  // namespace vmb::ie

#endif  // VMBACKUP_OFFLINE_SEED_IMPORT_JOB_ARM_CALL_H_
