// A mutex that clang's thread-safety analysis (-Wthread-safety) understands, so ABSL_GUARDED_BY annotations are
// checked at compile time (tools/check_code.sh runs the analysis), over std::mutex, so ThreadSanitizer sees every
// lock and unlock through its pthread interceptors. (absl::Mutex carries the same annotations, but Debian's libabsl
// is built without TSan's hooks, so a TSan build would report races on data it guards.)
//
//   vmb::Mutex mu_;
//   int count_ ABSL_GUARDED_BY(mu_);
//   { vmb::MutexLock lock(&mu_); ++count_; }
//   while (!ready_) cv_.Wait(&mu_);  // with mu_ held
#ifndef VMBACKUP_COMMON_CONCURRENT_MUTEX_H_
#define VMBACKUP_COMMON_CONCURRENT_MUTEX_H_

#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace vmb {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) { return mu_.try_lock(); }
  // Tells the analysis the caller holds the lock (it cannot check this at run time).
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

  // BasicLockable, for CondVar.
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Holds `mu` for its scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable used with Mutex. Wait releases `mu` while blocked and holds it again on return; wake-ups may
// be spurious, so wait in a loop on the condition.
class CondVar {
 public:
  void Wait(Mutex* mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { cv_.wait(*mu); }
  // false when `timeout` passed without a notification.
  bool WaitWithTimeout(Mutex* mu, absl::Duration timeout) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return cv_.wait_for(*mu, absl::ToChronoNanoseconds(timeout)) == std::cv_status::no_timeout;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable_any cv_;
};

}  // namespace vmb

#endif  // VMBACKUP_COMMON_CONCURRENT_MUTEX_H_
