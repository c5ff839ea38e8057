// Time behind an interface, so retries, timeouts and expiry checks are tested without sleeping
// (RocksDB's MockTimeEnv habit: the fake clock's sleep only advances time).
#ifndef VMBACKUP_COMMON_TIME_CLOCK_H_
#define VMBACKUP_COMMON_TIME_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/concurrent/mutex.h"

namespace vmb {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  virtual void SleepFor(absl::Duration d) = 0;
};

// The process-wide real clock. Thread-safe.
Clock& RealClock();

// Starts at `start`; SleepFor advances time instantly. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1700000000)) : now_(start) {}
  absl::Time Now() override {
    MutexLock lock(&mu_);
    return now_;
  }
  void SleepFor(absl::Duration d) override { Advance(d); }
  void Advance(absl::Duration d) {
    MutexLock lock(&mu_);
    now_ += d;
    slept_ += d;
  }
  absl::Duration total_slept() {
    MutexLock lock(&mu_);
    return slept_;
  }

 private:
  Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  absl::Duration slept_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vmb

#endif  // VMBACKUP_COMMON_TIME_CLOCK_H_
