#include "common/http/retry_policy.h"

#include "common/http/recording_transport.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::http {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

AttemptOutcome Http(int status, std::string retry_after = "") {
  AttemptOutcome o;
  o.http_status = status;
  o.retry_after = std::move(retry_after);
  return o;
}

AttemptOutcome Transport(absl::Status s) {
  AttemptOutcome o;
  o.transport_status = std::move(s);
  return o;
}

TEST(DecideRetry, WhichOutcomesAreRetried) {
  RetryOptions o;
  for (int s : {408, 429, 500, 502, 503, 504}) EXPECT_TRUE(DecideRetry(o, Http(s), 1, {}, kNow).retry) << s;
  for (int s : {400, 401, 403, 404, 409, 412, 416, 501}) EXPECT_FALSE(DecideRetry(o, Http(s), 1, {}, kNow).retry) << s;
  EXPECT_TRUE(DecideRetry(o, Transport(absl::UnavailableError("reset")), 1, {}, kNow).retry);
  EXPECT_TRUE(DecideRetry(o, Transport(absl::DeadlineExceededError("timeout")), 1, {}, kNow).retry);
  EXPECT_FALSE(DecideRetry(o, Transport(absl::InvalidArgumentError("bad url")), 1, {}, kNow).retry);
  EXPECT_THAT(DecideRetry(o, Http(403), 1, {}, kNow).reason, HasSubstr("final"));
}

TEST(DecideRetry, ExponentialWithBoundedJitterAndDeterministicPerSeed) {
  RetryOptions o;
  o.initial_backoff = absl::Seconds(1);
  o.max_backoff = absl::Seconds(8);
  o.max_attempts = 10;
  absl::Duration expected_cap[] = {absl::Seconds(1), absl::Seconds(2), absl::Seconds(4), absl::Seconds(8),
                                   absl::Seconds(8)};
  for (int attempt = 1; attempt <= 5; ++attempt) {
    RetryDecision d = DecideRetry(o, Http(503), attempt, {}, kNow);
    ASSERT_TRUE(d.retry);
    EXPECT_GE(d.delay, expected_cap[attempt - 1] / 2) << attempt;
    EXPECT_LE(d.delay, expected_cap[attempt - 1]) << attempt;
    EXPECT_EQ(d.delay, DecideRetry(o, Http(503), attempt, {}, kNow).delay);  // same seed, same answer
  }
  RetryOptions other = o;
  other.seed = 42;
  EXPECT_NE(DecideRetry(o, Http(503), 3, {}, kNow).delay, DecideRetry(other, Http(503), 3, {}, kNow).delay);
}

TEST(DecideRetry, HonoursRetryAfterAndBudgets) {
  RetryOptions o;
  o.max_total = absl::Seconds(60);
  EXPECT_EQ(DecideRetry(o, Http(503, "7"), 1, {}, kNow).delay, absl::Seconds(7));
  EXPECT_EQ(DecideRetry(o, Http(429, "Tue, 14 Nov 2023 22:13:40 GMT"), 1, {}, kNow).delay, absl::Seconds(20));
  EXPECT_FALSE(DecideRetry(o, Http(503, "120"), 1, {}, kNow).retry);  // beyond the total budget
  EXPECT_THAT(DecideRetry(o, Http(503, "120"), 1, {}, kNow).reason, HasSubstr("budget"));
  EXPECT_FALSE(DecideRetry(o, Http(503), 6, {}, kNow).retry);  // attempt budget
  EXPECT_FALSE(DecideRetry(o, Http(503), 1, absl::Seconds(60), kNow).retry);
  EXPECT_EQ(ParseRetryAfter("garbage", kNow), std::nullopt);
}

TEST(SendWithRetry, RetriesUntilSuccessSleepingOnTheClock) {
  int calls = 0;
  RecordingTransport transport([&](const HttpRequest&) -> absl::StatusOr<HttpResponse> {
    ++calls;
    if (calls == 1) return absl::UnavailableError("connection reset");
    HttpResponse r;
    r.status = calls < 3 ? 503 : 201;
    return r;
  });
  FakeClock clock;
  int attempts = 0;
  absl::StatusOr<HttpResponse> r = SendWithRetry(transport, HttpRequest{}, RetryOptions{}, clock, &attempts);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(attempts, 3);
  EXPECT_GT(clock.total_slept(), absl::ZeroDuration());
}

TEST(SendWithRetry, NeverRetriesForbidden) {
  RecordingTransport transport([](const HttpRequest&) -> absl::StatusOr<HttpResponse> {
    HttpResponse r;
    r.status = 403;
    return r;
  });
  FakeClock clock;
  absl::StatusOr<HttpResponse> r = SendWithRetry(transport, HttpRequest{}, RetryOptions{}, clock);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(transport.requests().size(), 1u);
  EXPECT_EQ(clock.total_slept(), absl::ZeroDuration());
}

}  // namespace
}  // namespace vmb::http
