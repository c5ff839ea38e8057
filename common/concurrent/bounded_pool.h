// A few worker threads running queued jobs that return a status. Submit blocks while the queue holds `queue_limit`
// jobs (default: as many as there are workers), so memory stays bounded however much work is submitted; after the first
// error the remaining jobs are dropped. Drain waits until every submitted job has finished (the pool stays usable);
// Wait (also called by the destructor) joins the workers. Both return the first error.
#ifndef VMBACKUP_COMMON_CONCURRENT_BOUNDED_POOL_H_
#define VMBACKUP_COMMON_CONCURRENT_BOUNDED_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"

namespace vmb::concurrent {

class BoundedPool {
 public:
  explicit BoundedPool(int threads, int queue_limit = 0)
      : limit_(static_cast<size_t>(queue_limit > 0 ? queue_limit : (threads < 1 ? 1 : threads))) {
    for (int i = 0; i < (threads < 1 ? 1 : threads); ++i) workers_.emplace_back([this] { Run(); });
  }
  ~BoundedPool() { (void)Wait(); }
  BoundedPool(const BoundedPool&) = delete;
  BoundedPool& operator=(const BoundedPool&) = delete;

  void Submit(std::function<absl::Status()> job) {
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [&] { return jobs_.size() < limit_; });
    jobs_.push_back(std::move(job));
    work_.notify_one();
  }

  absl::Status Drain() {
    std::unique_lock<std::mutex> lock(mu_);
    idle_.wait(lock, [&] { return jobs_.empty() && active_ == 0; });
    return first_error_;
  }

  absl::Status Wait() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
      work_.notify_all();
    }
    for (auto& t : workers_) {
      if (t.joinable()) t.join();
    }
    std::lock_guard<std::mutex> lock(mu_);
    return first_error_;
  }

  bool failed() {
    std::lock_guard<std::mutex> lock(mu_);
    return !first_error_.ok();
  }

 private:
  void Run() {
    for (;;) {
      std::function<absl::Status()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_.wait(lock, [&] { return done_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
        space_.notify_one();
        if (!first_error_.ok()) {  // drop the rest after an error
          if (jobs_.empty() && active_ == 0) idle_.notify_all();
          continue;
        }
        ++active_;
      }
      absl::Status s = job();
      std::lock_guard<std::mutex> lock(mu_);
      if (!s.ok() && first_error_.ok()) first_error_ = s;
      --active_;
      if (jobs_.empty() && active_ == 0) idle_.notify_all();
    }
  }

  const size_t limit_;
  std::mutex mu_;
  std::condition_variable work_, space_, idle_;
  int active_ = 0;
  std::deque<std::function<absl::Status()>> jobs_;
  std::vector<std::thread> workers_;
  bool done_ = false;
  absl::Status first_error_;
};

}  // namespace vmb::concurrent

#endif  // VMBACKUP_COMMON_CONCURRENT_BOUNDED_POOL_H_
