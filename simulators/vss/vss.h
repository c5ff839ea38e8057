// A VSS-style coordinator: applications register writers; a backup freezes them all (prepare, then flush-and-hold
// in parallel) and thaws them after the snapshot. Limits as in VSS: a writer must finish flush-and-hold within 10 s
// and answer any event within 60 s; the time is measured on an injected Clock so tests scale it down.
// A writer can be in a failed state, which fails the freeze with ExtensionFailedVssWriterInBadState.
#ifndef VMBACKUP_SIMULATORS_VSS_VSS_H_
#define VMBACKUP_SIMULATORS_VSS_VSS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/concurrent/mutex.h"
#include "common/time/clock.h"

namespace vmb::vss {

class Writer {
 public:
  virtual ~Writer() = default;
  virtual std::string name() const = 0;
  // A backup is about to start.
  virtual absl::Status OnPrepare() = 0;
  // Flush and hold: return once the application's on-disk state is consistent and no write will reach the disks
  // until OnThaw.
  virtual absl::Status OnFreeze() = 0;
  // Writes may resume. Always called after a successful or failed freeze attempt.
  virtual absl::Status OnThaw() = 0;
};

struct Limits {
  absl::Duration flush_and_hold = absl::Seconds(10);
  absl::Duration writer_event = absl::Seconds(60);
  absl::Duration poll = absl::Milliseconds(1);
};

// Outcome codes carried on statuses (payload "vmbackup/vss-outcome"), also mapped to extension codes by the
// vss-sim freeze provider.
inline constexpr char kWriterInBadState[] = "ExtensionFailedVssWriterInBadState";
inline constexpr char kWriterTimeout[] = "ExtensionFailedVssWriterTimeout";
inline constexpr char kFreezeInProgress[] = "ExtensionFailedSnapshotInProgress";
std::string OutcomeOf(const absl::Status& status);

class Coordinator {
 public:
  explicit Coordinator(Clock& clock = RealClock(), Limits limits = {});

  void Register(std::shared_ptr<Writer> writer);
  void Unregister(const std::string& name);
  // Marks a writer failed (as VSS shows "State: [8] Failed"); a freeze then fails before touching any writer.
  void SetWriterFailed(const std::string& name, bool failed);

  // Prepare then freeze every writer. On any failure every writer is thawed and the freeze fails:
  //   kFailedPrecondition  a writer in a failed state, or a freeze already held (second freeze)
  //   kDeadlineExceeded    a writer missed the flush-and-hold or event limit
  //   other                the writer's own error
  absl::Status Freeze();
  absl::Status Thaw();
  bool frozen();

 private:
  struct Entry {
    std::shared_ptr<Writer> writer;
    bool failed = false;
  };
  // Runs `event` on every writer in parallel; waits at most `limit` on the clock.
  absl::Status RunEvent(const std::vector<std::shared_ptr<Writer>>& writers, const char* event_name,
                        absl::Duration limit, absl::Status (Writer::*event)());

  Clock& clock_;
  Limits limits_;
  Mutex mu_;
  std::vector<Entry> writers_ ABSL_GUARDED_BY(mu_);
  bool frozen_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::shared_ptr<Writer>> held_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vmb::vss

#endif  // VMBACKUP_SIMULATORS_VSS_VSS_H_
