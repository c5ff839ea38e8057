#include "common/concurrent/mutex.h"

#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "gtest/gtest.h"

namespace vmb {
namespace {

class Counter {
 public:
  void Add() {
    MutexLock lock(&mu_);
    ++n_;
    cv_.SignalAll();
  }
  // Blocks until the count reaches `target`.
  int WaitFor(int target) {
    MutexLock lock(&mu_);
    while (n_ < target) cv_.Wait(&mu_);
    return n_;
  }
  bool WaitForWithTimeout(int target, absl::Duration timeout) {
    MutexLock lock(&mu_);
    return n_ >= target || (cv_.WaitWithTimeout(&mu_, timeout) && n_ >= target);
  }

 private:
  Mutex mu_;
  CondVar cv_;
  int n_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(Mutex, CountsEveryIncrementFromManyThreads) {
  Counter c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < 10000; ++i) c.Add();
    });
  }
  EXPECT_EQ(c.WaitFor(80000), 80000);
  for (auto& t : threads) t.join();
}

TEST(Mutex, TryLockFailsWhileHeld) {
  Mutex mu;
  mu.Lock();
  bool got = false;
  std::thread([&] {
    if (mu.TryLock()) {
      got = true;
      mu.Unlock();
    }
  }).join();
  mu.Unlock();
  EXPECT_FALSE(got);
  if (mu.TryLock()) {
    mu.Unlock();
  } else {
    ADD_FAILURE() << "TryLock failed on a free mutex";
  }
}

TEST(CondVar, TimesOutWithoutASignal) {
  Counter c;
  EXPECT_FALSE(c.WaitForWithTimeout(1, absl::Milliseconds(1)));
  c.Add();
  EXPECT_TRUE(c.WaitForWithTimeout(1, absl::Milliseconds(1)));
}

}  // namespace
}  // namespace vmb
