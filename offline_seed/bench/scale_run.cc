#include "offline_seed/bench/scale_run.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/file/file_util.h"

extern char** environ;

namespace vmb::offline::bench {
namespace {

// This process's environment with `extra` added, later entries replacing earlier ones of the same name.
std::vector<std::string> MergedEnv(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  auto name_of = [](const std::string& kv) { return kv.substr(0, kv.find('=')); };
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    bool replaced = false;
    for (const std::string& x : extra) replaced = replaced || name_of(x) == name_of(kv);
    if (!replaced) env.push_back(kv);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

}  // namespace

Measured RunMeasured(const Child& child) {
  Measured m;
  // Everything the child needs is built before fork: only async-signal-safe calls after it.
  std::vector<std::string> env = MergedEnv(child.env);
  std::vector<char*> argv, envp;
  for (const std::string& a : child.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const char* log_path = child.log.empty() ? "/dev/null" : child.log.c_str();
  int log = ::open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log < 0 || null_in < 0 || argv.size() < 2) {
    if (log >= 0) ::close(log);
    if (null_in >= 0) ::close(null_in);
    return m;
  }
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    if (!child.cwd.empty() && ::chdir(child.cwd.c_str()) != 0) ::_exit(127);
    ::dup2(null_in, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execvpe(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log);
  ::close(null_in);
  if (pid < 0) return m;
  int status = 0;
  struct rusage ru;
  std::memset(&ru, 0, sizeof(ru));
  while (::wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  if (!child.sync_path.empty()) {
    int fd = ::open(child.sync_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::syncfs(fd);
      ::close(fd);
    }
  }
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  m.started = !(WIFEXITED(status) && WEXITSTATUS(status) == 127);
  m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  m.peak_rss_mib = ru.ru_maxrss / 1024.0;  // Linux reports KiB
  return m;
}

std::string LogTail(const std::string& log, int lines) {
  std::string text = file::ReadFile(log).value_or("");
  std::vector<std::string> all = absl::StrSplit(text, '\n', absl::SkipEmpty());
  if (static_cast<int>(all.size()) > lines) all.erase(all.begin(), all.end() - lines);
  return absl::StrJoin(all, "\n");
}

std::string LoadAverage() {
  std::string text = file::ReadFile("/proc/loadavg").value_or("? ? ?");
  std::vector<std::string> parts = absl::StrSplit(text, ' ');
  parts.resize(3);
  return absl::StrJoin(parts, " ");
}

double GrowthExponent(const std::vector<double>& x, const std::vector<double>& y) {
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (!(x[i] > 0 && y[i] > 0)) continue;
    double lx = std::log(x[i]), ly = std::log(y[i]);
    n += 1;
    sx += lx;
    sy += ly;
    sxx += lx * lx;
    sxy += lx * ly;
  }
  double den = n * sxx - sx * sx;
  if (n < 2 || std::fabs(den) < 1e-12) return std::numeric_limits<double>::quiet_NaN();
  return (n * sxy - sx * sy) / den;
}

}  // namespace vmb::offline::bench
