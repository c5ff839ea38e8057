#include "simulators/vss/vss.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"

namespace vmb::vss {
namespace {

constexpr char kOutcomePayload[] = "vmbackup/vss-outcome";

absl::Status WithOutcome(absl::Status s, const char* outcome) {
  s.SetPayload(kOutcomePayload, absl::Cord(outcome));
  return s;
}

}  // namespace

std::string OutcomeOf(const absl::Status& status) {
  auto p = status.GetPayload(kOutcomePayload);
  return p ? std::string(*p) : "";
}

Coordinator::Coordinator(Clock& clock, Limits limits) : clock_(clock), limits_(limits) {}

void Coordinator::Register(std::shared_ptr<Writer> writer) {
  MutexLock lock(&mu_);
  writers_.push_back({std::move(writer), false});
}

void Coordinator::Unregister(const std::string& name) {
  MutexLock lock(&mu_);
  writers_.erase(
      std::remove_if(writers_.begin(), writers_.end(), [&](const Entry& e) { return e.writer->name() == name; }),
      writers_.end());
}

void Coordinator::SetWriterFailed(const std::string& name, bool failed) {
  MutexLock lock(&mu_);
  for (Entry& e : writers_) {
    if (e.writer->name() == name) e.failed = failed;
  }
}

bool Coordinator::frozen() {
  MutexLock lock(&mu_);
  return frozen_;
}

absl::Status Coordinator::RunEvent(const std::vector<std::shared_ptr<Writer>>& writers, const char* event_name,
                                   absl::Duration limit, absl::Status (Writer::*event)()) {
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;  // notified as each writer finishes
    int done = 0;
    absl::Status first_error;
    std::vector<bool> finished;
  };
  auto shared = std::make_shared<Shared>();
  shared->finished.assign(writers.size(), false);
  for (size_t i = 0; i < writers.size(); ++i) {
    // Detached: a writer that never answers must not hang the backup; its thread finishes whenever it does.
    std::thread([shared, w = writers[i], i, event] {
      absl::Status s = ((*w).*event)();
      std::lock_guard<std::mutex> lock(shared->mu);
      shared->cv.notify_all();
      if (!s.ok() && shared->first_error.ok()) {
        shared->first_error = absl::Status(s.code(), absl::StrCat("writer ", w->name(), ": ", s.message()));
      }
      shared->finished[i] = true;
      ++shared->done;
    }).detach();
  }
  absl::Time deadline = clock_.Now() + limit;
  const int total = static_cast<int>(writers.size());
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(shared->mu);
      // A short real-time wait lets writer threads run even when the injected clock is a fake one whose sleeps
      // return at once; the limit itself is measured on the injected clock.
      shared->cv.wait_for(lock, std::chrono::microseconds(100), [&] { return shared->done == total; });
      if (shared->done == total) return shared->first_error;
      if (clock_.Now() >= deadline) {
        std::string late;
        for (size_t i = 0; i < writers.size(); ++i) {
          if (!shared->finished[i]) late = writers[i]->name();
        }
        return WithOutcome(absl::DeadlineExceededError(absl::StrCat("writer ", late, " did not finish ", event_name,
                                                                    " within ", absl::FormatDuration(limit))),
                           kWriterTimeout);
      }
    }
    clock_.SleepFor(limits_.poll);
  }
}

absl::Status Coordinator::Freeze() {
  std::vector<std::shared_ptr<Writer>> writers;
  {
    MutexLock lock(&mu_);
    if (frozen_) {
      return WithOutcome(absl::FailedPreconditionError("a snapshot freeze is already in progress"), kFreezeInProgress);
    }
    for (const Entry& e : writers_) {
      if (e.failed) {
        return WithOutcome(absl::FailedPreconditionError(absl::StrCat(
                               "VSS writer ", e.writer->name(),
                               " is in a failed state; restart the application (or its writer) and retry")),
                           kWriterInBadState);
      }
      writers.push_back(e.writer);
    }
    frozen_ = true;
    held_ = writers;
  }
  absl::Status s = RunEvent(writers, "prepare", limits_.writer_event, &Writer::OnPrepare);
  if (s.ok()) s = RunEvent(writers, "flush-and-hold", limits_.flush_and_hold, &Writer::OnFreeze);
  if (!s.ok()) {
    (void)Thaw();
    return s;
  }
  return absl::OkStatus();
}

absl::Status Coordinator::Thaw() {
  std::vector<std::shared_ptr<Writer>> writers;
  {
    MutexLock lock(&mu_);
    if (!frozen_) return absl::OkStatus();
    writers.swap(held_);
    frozen_ = false;
  }
  return RunEvent(writers, "thaw", limits_.writer_event, &Writer::OnThaw);
}

}  // namespace vmb::vss
