// One `enable` run of the extension: read the settings, check them, report transitioning, freeze, snapshot every
// disk in parallel, thaw (always), and report the outcome to the status file, the status blob and the logs blob.
#ifndef VMBACKUP_SNAPSHOT_ENABLE_JOB_H_
#define VMBACKUP_SNAPSHOT_ENABLE_JOB_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "common/http/http_transport.h"
#include "common/time/clock.h"
#include "snapshot/freeze.h"

namespace vmb::snapshot {

struct EnableOptions {
  std::string handler_environment = "HandlerEnvironment.json";
  std::string cert_dir = "/var/lib/waagent";
  std::optional<int> seq;                        // else $ConfigSequenceNumber, else the highest N.settings
  http::HttpTransport* transport = nullptr;      // required
  FreezeProvider* freeze = nullptr;              // required
  Clock* clock = nullptr;                        // RealClock() when null
  absl::Duration deadline = absl::Seconds(270);  // the agent kills handlers at 300 s
  absl::Duration max_lateness = absl::Minutes(140);
  absl::Duration freeze_budget = absl::Seconds(60);  // freeze-to-thaw, including snapshot retries
  absl::Duration per_call_timeout = absl::Seconds(30);
  int parallelism = 64;
  bool echo_log_to_stderr = false;
};

struct EnableResult {
  int code = 2;
  std::string status;       // success | error (or "" when nothing could be reported)
  std::string message;      // the English headline + detail, for the terminal
  std::string status_file;  // path written, if any
  int exit_code = 1;        // 0 for success and "already processed"
  absl::Duration freeze_window;
  int snapshots_taken = 0;
};

EnableResult RunEnable(const EnableOptions& options);

// install / disable / uninstall / update: report and exit 0, leaving no frozen state behind.
EnableResult RunLifecycle(const std::string& operation, const EnableOptions& options);

}  // namespace vmb::snapshot

#endif  // VMBACKUP_SNAPSHOT_ENABLE_JOB_H_
