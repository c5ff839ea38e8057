// When and how long to wait before retrying an HTTP request: a pure function of the outcome, the attempt count,
// the time spent and a seed, so every decision is reproducible in tests.
//
// Retried: connection errors and timeouts (kUnavailable, kDeadlineExceeded from the transport) and HTTP
// 408, 429, 500, 502, 503, 504. Never retried: 403 (an expired or wrong SAS will not heal) and every other 4xx.
// Delay: exponential from `initial_backoff`, capped at `max_backoff`, with "equal jitter" (uniform in [d/2, d]);
// a server's Retry-After (seconds or HTTP date) is honoured as a floor. No retry when the attempt budget or the
// total-time budget would be exceeded.
#ifndef VMBACKUP_COMMON_HTTP_RETRY_POLICY_H_
#define VMBACKUP_COMMON_HTTP_RETRY_POLICY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/http_transport.h"
#include "common/time/clock.h"

namespace vmb::http {

struct RetryOptions {
  int max_attempts = 6;  // including the first
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
  absl::Duration max_total = absl::Minutes(5);  // from the first attempt's start to the last attempt's start
  uint64_t seed = 0;                            // jitter seed; fixed in tests, random in production
};

struct AttemptOutcome {
  absl::Status transport_status;  // non-OK when no response arrived
  int http_status = 0;            // when a response arrived
  std::string retry_after;        // the response's Retry-After header, if any
};

struct RetryDecision {
  bool retry = false;
  absl::Duration delay;
  std::string reason;  // why (not) retried, for logs
};

bool IsRetryableHttpStatus(int http_status);

// Parses Retry-After ("120" or "Wed, 21 Oct 2015 07:28:00 GMT") relative to `now`; nullopt if unparsable.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now);

// `attempts_made` >= 1 (the attempt that produced `outcome` included); `elapsed` since the first attempt started.
RetryDecision DecideRetry(const RetryOptions& options, const AttemptOutcome& outcome, int attempts_made,
                          absl::Duration elapsed, absl::Time now);

// Sends `request`, retrying per `options`, sleeping on `clock`. Returns the last response (even a non-2xx one) or
// the last transport error. `attempts` receives the number of attempts made.
absl::StatusOr<HttpResponse> SendWithRetry(HttpTransport& transport, const HttpRequest& request,
                                           const RetryOptions& options, Clock& clock, int* attempts = nullptr);

}  // namespace vmb::http

#endif  // VMBACKUP_COMMON_HTTP_RETRY_POLICY_H_
