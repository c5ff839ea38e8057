#include "common/concurrent/bounded_pool.h"

#include <atomic>
#include <chrono>

#include "gtest/gtest.h"

namespace vmb::concurrent {
namespace {

TEST(BoundedPool, RunsEveryJobConcurrentlyAndBoundsTheQueue) {
  std::atomic<int> ran{0}, running{0}, peak{0};
  BoundedPool pool(3);
  for (int i = 0; i < 40; ++i) {
    pool.Submit([&] {
      int now = ++running;
      for (int p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      --running;
      ++ran;
      return absl::OkStatus();
    });
  }
  EXPECT_TRUE(pool.Wait().ok());
  EXPECT_EQ(ran.load(), 40);
  EXPECT_LE(peak.load(), 3);
  EXPECT_GE(peak.load(), 2);  // they did overlap
}

TEST(BoundedPool, DrainWaitsForEveryJobAndKeepsThePoolUsable) {
  std::atomic<int> ran{0};
  BoundedPool pool(2);
  for (int round = 1; round <= 3; ++round) {
    for (int i = 0; i < 10; ++i) {
      pool.Submit([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        ++ran;
        return absl::OkStatus();
      });
    }
    EXPECT_TRUE(pool.Drain().ok());
    EXPECT_EQ(ran.load(), 10 * round);  // all of this round's jobs finished before Drain returned
  }
}

TEST(BoundedPool, TheFirstErrorWinsAndLaterJobsAreDropped) {
  std::atomic<int> ran{0};
  BoundedPool pool(1);
  pool.Submit([] { return absl::UnavailableError("first"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (int i = 0; i < 5; ++i) {
    pool.Submit([&] {
      ++ran;
      return absl::InternalError("later");
    });
  }
  absl::Status s = pool.Wait();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "first");
  EXPECT_EQ(ran.load(), 0);
  EXPECT_TRUE(pool.failed());
}

}  // namespace
}  // namespace vmb::concurrent
