// The log of one enable job: lines go to <logFolder>/extension.log and into memory for the logs blob. While the file
// systems are frozen nothing may touch the disk, so the job pauses the log: lines wait in memory and reach the file on
// Resume.
#ifndef VMBACKUP_SNAPSHOT_JOB_LOG_H_
#define VMBACKUP_SNAPSHOT_JOB_LOG_H_

#include <cstdio>
#include <string>

#include "absl/base/thread_annotations.h"
#include "common/concurrent/mutex.h"
#include "common/log/logger.h"
#include "common/time/clock.h"

namespace vmb::snapshot {

// Thread-safe: the snapshot workers log from their own threads.
class JobLog {
 public:
  // `echo`: every line also goes to stderr (--verbose).
  JobLog(Clock& clock, bool echo);
  ~JobLog() { Resume(); }

  // Appends to <folder>/extension.log (creating the folder), starting with the lines logged so far. Without a folder
  // or file the lines stay in memory only.
  void OpenFile(const std::string& folder);
  void Pause();
  void Resume();
  // Every line logged, for the logs blob.
  std::string All();
  Logger& logger() { return logger_; }
  // Writes what waits and closes the file; later lines stay in memory.
  void Close();

 private:
  void FlushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Logger logger_;
  Mutex mu_;
  std::string all_ ABSL_GUARDED_BY(mu_);
  std::string pending_ ABSL_GUARDED_BY(mu_);
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  std::FILE* file_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace vmb::snapshot

#endif  // VMBACKUP_SNAPSHOT_JOB_LOG_H_
