// faultproxy: a fault-injecting HTTP proxy in front of a loopback service (Azurite, the control plane), for soak
// runs of the real binaries. Prints "listening on http://127.0.0.1:PORT", then on SIGINT/SIGTERM the faults it
// injected, by kind, and exits.
#include <signal.h>

#include <cstdio>
#include <string>

#include "absl/strings/numbers.h"
#include "simulators/faultproxy/fault_proxy.h"

namespace {

constexpr char kHelp[] = R"(usage: faultproxy --upstream http://127.0.0.1:PORT [--port N] [--seed N] [--rate X]
                  [--latency X] [--max-latency-ms N] [--stall X] [--stall-ms N]

Forwards HTTP requests to the upstream service and injects faults from the seed: connections closed before or after
the service acted, truncated bodies, 503 ServerBusy with and without Retry-After, 500, 409
SnapshotOperationRateExceeded (snapshot calls), 403 AuthenticationFailed, latency.
  --upstream URL        the service (plain http on loopback only)
  --port N              where to listen on 127.0.0.1 (default: a free port, printed)
  --seed N              the fault sequence (default 1)
  --rate X              scales every fault share of the default plan (default 1; 0 = transparent)
  --latency X           share of requests delayed (default 0.1), up to --max-latency-ms (default 50)
  --stall X             share of requests left unanswered for --stall-ms (default 0 and 5000), then closed: the
                        client's own timeout is what ends them
  --help                this text
Exit codes: 0 stopped by a signal, 2 usage error, 1 cannot start.
)";

int Usage(const std::string& problem) {
  std::fprintf(stderr, "faultproxy: %s\n(run `faultproxy --help` for usage)\n", problem.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string upstream;
  int port = 0;
  double rate = 1, latency = 0.1;
  int max_latency_ms = 50, stall_ms = 5000;
  double stall = 0;
  uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    } else if (a == "--upstream") {
      if (!value(&upstream)) return Usage("--upstream needs a URL");
    } else if (a == "--port") {
      if (!value(&v) || !absl::SimpleAtoi(v, &port) || port < 0 || port > 65535)
        return Usage("--port needs a port number");
    } else if (a == "--seed") {
      if (!value(&v) || !absl::SimpleAtoi(v, &seed)) return Usage("--seed needs a number");
    } else if (a == "--rate") {
      if (!value(&v) || !absl::SimpleAtod(v, &rate) || rate < 0 || rate > 5) return Usage("--rate needs a number 0..5");
    } else if (a == "--latency") {
      if (!value(&v) || !absl::SimpleAtod(v, &latency) || latency < 0 || latency > 1)
        return Usage("--latency needs 0..1");
    } else if (a == "--max-latency-ms") {
      if (!value(&v) || !absl::SimpleAtoi(v, &max_latency_ms) || max_latency_ms < 0)
        return Usage("--max-latency-ms needs ms");
    } else if (a == "--stall") {
      if (!value(&v) || !absl::SimpleAtod(v, &stall) || stall < 0 || stall > 1) return Usage("--stall needs 0..1");
    } else if (a == "--stall-ms") {
      if (!value(&v) || !absl::SimpleAtoi(v, &stall_ms) || stall_ms < 0) return Usage("--stall-ms needs ms");
    } else {
      return Usage("unknown argument " + a);
    }
  }
  if (upstream.empty()) return Usage("--upstream URL is required");
  vmb::http::FaultPlan plan;
  plan.seed = seed;
  for (double* share :
       {&plan.reset_before, &plan.reset_after, &plan.busy, &plan.internal, &plan.rate, &plan.auth, &plan.truncate}) {
    *share *= rate;
  }
  plan.latency = latency;
  plan.max_latency = absl::Milliseconds(max_latency_ms);
  plan.stall = stall;
  plan.stall_for = absl::Milliseconds(stall_ms);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // the server threads inherit the mask; main waits below
  auto proxy = vmb::sim::FaultProxy::Start(upstream, plan, port);
  if (!proxy.ok()) {
    std::fprintf(stderr, "faultproxy: %s\n", std::string(proxy.status().message()).c_str());
    return 1;
  }
  std::printf("faultproxy: listening on http://127.0.0.1:%d (upstream %s, seed %llu)\n", (*proxy)->port(),
              upstream.c_str(), static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  std::printf("faultproxy: %d request(s) forwarded; injected:", (*proxy)->forwarded());
  for (const auto& [kind, n] : (*proxy)->injected()) std::printf(" %s x%d;", kind.c_str(), n);
  std::printf("\n");
  return 0;
}
