// The seam for all HTTP: clients build HttpRequests and hand them to an HttpTransport given in their constructor,
// so tests pass a fake and production the curl transport (the only code that includes curl).
#ifndef VMBACKUP_COMMON_HTTP_HTTP_TRANSPORT_H_
#define VMBACKUP_COMMON_HTTP_HTTP_TRANSPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vmb::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute http(s) URL, already percent-encoded
  Headers headers;  // sent in order; names are case-insensitive
  std::string body;
  absl::Duration timeout = absl::ZeroDuration();  // total time for this request; zero = transport default

  // First value of header `name` (case-insensitive), or "".
  std::string Header(absl::string_view name) const;
};

struct HttpResponse {
  int status = 0;
  Headers headers;  // names lower-cased
  std::string body;

  std::string Header(absl::string_view name) const;
};

// Implementations are thread-safe: many requests may be in flight from different threads.
//
// Send returns a response for every HTTP exchange that completed, whatever its status code (a 503 is a response,
// not an error). It returns an error status only when no response arrived:
//   kUnavailable        connection refused / reset / DNS failure / truncated response (retryable)
//   kDeadlineExceeded   connect or total timeout (retryable)
//   kInvalidArgument    malformed URL or a URL the transport refuses (e.g. plain http to a non-loopback host)
// Error messages contain the URL with secrets redacted.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

}  // namespace vmb::http

#endif  // VMBACKUP_COMMON_HTTP_HTTP_TRANSPORT_H_
