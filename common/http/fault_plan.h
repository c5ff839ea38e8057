// What to inject and how often, from a seed: shared by the in-process FaultTransport (unit and soak tests) and the
// fault proxy (simulators/faultproxy, real sockets in front of Azurite and the control plane).
//
// One roll per request decides its fault (the shares add up; the rest of the time: none):
//   reset before   the request never reaches the service (nothing happened)
//   503 busy       ServerBusy, half of them with Retry-After: 1
//   500            InternalError
//   409 rate       SnapshotOperationRateExceeded (snapshot calls only)
//   403 auth       AuthenticationFailed, as for an expired SAS
//   reset after    the service acted, the answer was lost
//   truncated      a GET's body cut short
// Independent rolls add latency and stalls (the proxy only: a stalled request gets no answer for stall_for, then
// its connection is closed, so the client's own timeout is what ends it).
#ifndef VMBACKUP_COMMON_HTTP_FAULT_PLAN_H_
#define VMBACKUP_COMMON_HTTP_FAULT_PLAN_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vmb::http {

struct FaultPlan {
  uint64_t seed = 1;
  double reset_before = 0.04;
  double reset_after = 0.03;
  double busy = 0.04;
  double internal = 0.02;
  double rate = 0.03;
  double auth = 0.005;
  double truncate = 0.02;
  double latency = 0;  // share of requests delayed by up to max_latency
  absl::Duration max_latency = absl::Milliseconds(50);
  double stall = 0;  // share of requests never answered within stall_for (the client's timeout fires)
  absl::Duration stall_for = absl::Seconds(5);

  static FaultPlan None() { return FaultPlan{0, 0, 0, 0, 0, 0, 0, 0}; }
};

enum class Fault {
  kNone,
  kResetBefore,
  kBusy,
  kBusyRetryAfter,
  kInternal,
  kSnapshotRate,
  kAuth,
  kResetAfter,
  kTruncate
};

// "503 ServerBusy", "reset before", ...: the names the soak tests print.
const char* FaultName(Fault f);

// The HTTP status, Azure error code and message of a fault that is an error response (busy, internal, rate, auth).
struct FaultError {
  int status;
  const char* code;
  const char* message;
};
FaultError ErrorOf(Fault f);
// Azure's error body: <?xml ...?><Error><Code>..</Code><Message>..</Message></Error>
std::string ErrorBody(const FaultError& e);

// Thread-safe; one instance per plan. The same seed and request sequence give the same faults.
class FaultDice {
 public:
  explicit FaultDice(FaultPlan plan) : plan_(plan), rng_(plan.seed) {}
  Fault Roll(absl::string_view method, absl::string_view url);
  absl::Duration Latency();  // zero for most requests
  bool Stall();
  void Record(Fault f);  // counts an injected fault by name
  void RecordLatency();
  void RecordStall();
  std::map<std::string, int> injected();
  const FaultPlan& plan() const { return plan_; }

 private:
  double Uniform();
  FaultPlan plan_;
  std::mutex mu_;
  std::mt19937_64 rng_;
  std::map<std::string, int> injected_;
};

}  // namespace vmb::http

#endif  // VMBACKUP_COMMON_HTTP_FAULT_PLAN_H_
