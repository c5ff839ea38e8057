// Running the scale benchmark's tools (ours and its peers) as child processes and measuring each one: wall time
// up to its output being on disk, the child's peak resident memory, and the bytes its output occupies.
#ifndef VMBACKUP_OFFLINE_SEED_BENCH_SCALE_RUN_H_
#define VMBACKUP_OFFLINE_SEED_BENCH_SCALE_RUN_H_

#include <cstdint>
#include <string>
#include <vector>

namespace vmb::offline::bench {

// One child process to measure.
struct Child {
  std::vector<std::string> argv;  // argv[0] looked up in PATH
  std::vector<std::string> env;   // "NAME=value", added to (or replacing in) this process's environment
  std::string cwd;                // empty: inherit
  std::string sync_path;          // when set, syncfs() on its file system before the clock stops
  std::string log;                // stdout and stderr are appended here (never shown unless the child fails)
};

struct Measured {
  bool started = false;
  int exit_code = -1;       // 128 + signal when killed
  double seconds = 0;       // fork to exit, plus the sync of sync_path
  double peak_rss_mib = 0;  // wait4's ru_maxrss: the child's own peak, or the largest of the processes it waited
                            // for (a shell pipeline: its biggest stage)
  bool ok() const { return started && exit_code == 0; }
};

// Forks, execs and waits for the child (stdin /dev/null). Never throws; a child that cannot start has started=false.
Measured RunMeasured(const Child& child);

// The last `lines` lines of a log file, for a failure message.
std::string LogTail(const std::string& log, int lines = 6);

// "1.23 0.98 0.75" from /proc/loadavg.
std::string LoadAverage();

// The slope of the least-squares line through (log x, log y): how y grows with x (1 linear, 0 flat). NaN when fewer
// than two points have positive x and y or the x are all equal.
double GrowthExponent(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace vmb::offline::bench

#endif  // VMBACKUP_OFFLINE_SEED_BENCH_SCALE_RUN_H_
