// The Import/Export control plane simulator as a process:
//   bazel run //simulators/import_export:server -- --state-dir DIR [--port N] --token TOKEN
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "simulators/import_export/control_plane.h"

namespace {
volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help") {
      std::printf(
          "usage: server --state-dir DIR --token TOKEN [--port N]\n"
          "  serves import jobs, locations, storage accounts and applications on 127.0.0.1\n");
      return 0;
    }
    if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      opt[a.substr(2)] = argv[++i];
    } else {
      std::fprintf(stderr, "server: unexpected argument %s (see --help)\n", a.c_str());
      return 2;
    }
  }
  if (opt["state-dir"].empty() || opt["token"].empty()) {
    std::fprintf(stderr, "server: --state-dir and --token are required (see --help)\n");
    return 2;
  }
  int port = 0;
  if (!opt["port"].empty() && !absl::SimpleAtoi(opt["port"], &port)) {
    std::fprintf(stderr, "server: --port needs a number\n");
    return 2;
  }
  vmb::ie::ControlPlane plane({opt["state-dir"], opt["token"]});
  absl::StatusOr<std::string> url = plane.Start(port);
  if (!url.ok()) {
    std::fprintf(stderr, "server: %s\n", std::string(url.status().message()).c_str());
    return 1;
  }
  std::printf("import/export control plane listening on %s\n", url->c_str());
  std::fflush(stdout);
  ::signal(SIGTERM, OnSignal);
  ::signal(SIGINT, OnSignal);
  while (!g_stop) ::usleep(100000);
  plane.Stop();
  return 0;
}
