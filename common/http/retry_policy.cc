#include "common/http/retry_policy.h"

#include <algorithm>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace vmb::http {

bool IsRetryableHttpStatus(int s) { return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504; }

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return std::nullopt;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(value, &seconds)) {
    if (seconds < 0) return std::nullopt;
    return absl::Seconds(seconds);
  }
  absl::Time when;
  std::string err;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(value), absl::UTCTimeZone(), &when, &err)) {
    return std::max(absl::ZeroDuration(), when - now);
  }
  return std::nullopt;
}

RetryDecision DecideRetry(const RetryOptions& options, const AttemptOutcome& outcome, int attempts_made,
                          absl::Duration elapsed, absl::Time now) {
  RetryDecision d;
  if (!outcome.transport_status.ok()) {
    absl::StatusCode c = outcome.transport_status.code();
    if (c != absl::StatusCode::kUnavailable && c != absl::StatusCode::kDeadlineExceeded) {
      d.reason = absl::StrCat("not retryable: ", outcome.transport_status.message());
      return d;
    }
    d.reason = "connection error";
  } else if (IsRetryableHttpStatus(outcome.http_status)) {
    d.reason = absl::StrCat("HTTP ", outcome.http_status);
  } else {
    d.reason = absl::StrCat("HTTP ", outcome.http_status, " is final");
    return d;
  }
  if (attempts_made >= options.max_attempts) {
    d.reason = absl::StrCat(d.reason, "; gave up after ", attempts_made, " attempts");
    return d;
  }
  absl::Duration backoff = options.initial_backoff;
  for (int i = 1; i < attempts_made && backoff < options.max_backoff; ++i) backoff *= 2;
  backoff = std::min(backoff, options.max_backoff);
  std::mt19937_64 rng(options.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(attempts_made));
  double fraction = 0.5 + 0.5 * std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  absl::Duration delay = backoff * fraction;
  if (std::optional<absl::Duration> ra = ParseRetryAfter(outcome.retry_after, now)) {
    delay = std::max(delay, *ra);
    absl::StrAppend(&d.reason, " (Retry-After ", absl::FormatDuration(*ra), ")");
  }
  if (elapsed + delay > options.max_total) {
    d.reason = absl::StrCat(d.reason, "; gave up: retrying after ", absl::FormatDuration(delay), " would exceed the ",
                            absl::FormatDuration(options.max_total), " budget");
    return d;
  }
  d.retry = true;
  d.delay = delay;
  return d;
}

absl::StatusOr<HttpResponse> SendWithRetry(HttpTransport& transport, const HttpRequest& request,
                                           const RetryOptions& options, Clock& clock, int* attempts) {
  absl::Time start = clock.Now();
  for (int attempt = 1;; ++attempt) {
    if (attempts) *attempts = attempt;
    absl::StatusOr<HttpResponse> result = transport.Send(request);
    AttemptOutcome outcome;
    if (result.ok()) {
      outcome.http_status = result->status;
      outcome.retry_after = result->Header("retry-after");
    } else {
      outcome.transport_status = result.status();
    }
    RetryDecision decision = DecideRetry(options, outcome, attempt, clock.Now() - start, clock.Now());
    if (!decision.retry) return result;
    clock.SleepFor(decision.delay);
  }
}

}  // namespace vmb::http
