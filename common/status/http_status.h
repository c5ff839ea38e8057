// The one place where HTTP status codes become absl::StatusCode, and where Azure Storage error bodies
// (`<Error><Code>…</Code><Message>…</Message></Error>`) become statuses that keep both the HTTP code and the
// Azure error code, so callers can branch on "SnapshotOperationRateExceeded" without parsing messages.
#ifndef VMBACKUP_COMMON_STATUS_HTTP_STATUS_H_
#define VMBACKUP_COMMON_STATUS_HTTP_STATUS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmb {

// Maps an HTTP status to the absl code a caller should act on:
//   2xx -> kOk; 400 -> kInvalidArgument; 401/403 -> kPermissionDenied; 404 -> kNotFound;
//   408/504 -> kDeadlineExceeded; 409 -> kAborted (conflicting state, e.g. a lease or an operation in progress);
//   412 -> kFailedPrecondition; 413/416 -> kOutOfRange; 429/500/502/503 -> kUnavailable (retry with backoff);
//   other 4xx -> kInvalidArgument (wrong request, do not retry); other 5xx -> kUnavailable; anything else -> kUnknown.
absl::StatusCode HttpStatusToCode(int http_status);

// Payload keys attached to statuses produced from HTTP responses.
inline constexpr absl::string_view kHttpStatusPayload = "vmbackup/http-status";
inline constexpr absl::string_view kAzureErrorCodePayload = "vmbackup/azure-error-code";

// The Azure error code fields of an error body. `code` is empty when the body carried none.
struct AzureError {
  std::string code;                         // e.g. "SnapshotOperationRateExceeded"
  std::string message;                      // first line of <Message>, without the RequestId/Time trailer
  std::string authentication_error_detail;  // <AuthenticationErrorDetail>, when present
};

// Parses an Azure Storage error body. Returns kInvalidArgument if `body` is not XML or has no <Error> root.
absl::StatusOr<AzureError> ParseAzureErrorXml(absl::string_view body);

// Builds the status for a failed HTTP response: code from HttpStatusToCode, message
// "<operation>: HTTP <status> <AzureCode>: <message>" (or the first 200 bytes of a non-XML body, marked as such),
// with the HTTP status and Azure error code attached as payloads. `x_ms_error_code` (the response header) wins
// over the body's code when both are present. `operation` must not contain secrets (pass a redacted URI).
absl::Status StatusFromHttpResponse(absl::string_view operation, int http_status, absl::string_view body,
                                    absl::string_view x_ms_error_code = {});

// The HTTP status / Azure error code carried by a status built above (nullopt / "" when absent).
std::optional<int> HttpStatusOf(const absl::Status& status);
std::string AzureErrorCodeOf(const absl::Status& status);

}  // namespace vmb

#endif  // VMBACKUP_COMMON_STATUS_HTTP_STATUS_H_
