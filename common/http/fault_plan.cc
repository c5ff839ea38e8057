#include "common/http/fault_plan.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace vmb::http {

const char* FaultName(Fault f) {
  switch (f) {
    case Fault::kNone:
      return "none";
    case Fault::kResetBefore:
      return "reset before";
    case Fault::kBusy:
      return "503 ServerBusy";
    case Fault::kBusyRetryAfter:
      return "503 ServerBusy + Retry-After";
    case Fault::kInternal:
      return "500 InternalError";
    case Fault::kSnapshotRate:
      return "409 SnapshotOperationRateExceeded";
    case Fault::kAuth:
      return "403 AuthenticationFailed";
    case Fault::kResetAfter:
      return "reset after";
    case Fault::kTruncate:
      return "truncated body";
  }
  return "?";
}

FaultError ErrorOf(Fault f) {
  switch (f) {
    case Fault::kBusy:
    case Fault::kBusyRetryAfter:
      return {503, "ServerBusy", "The server is busy."};
    case Fault::kInternal:
      return {500, "InternalError", "The server encountered an internal error."};
    case Fault::kSnapshotRate:
      return {409, "SnapshotOperationRateExceeded", "The rate of snapshot blob calls is exceeded."};
    case Fault::kAuth:
      return {403, "AuthenticationFailed", "Signature not valid in the specified time frame"};
    default:
      return {0, "", ""};
  }
}

std::string ErrorBody(const FaultError& e) {
  return absl::StrCat("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>", e.code, "</Code><Message>", e.message,
                      "</Message></Error>");
}

double FaultDice::Uniform() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::uniform_real_distribution<double>(0, 1)(rng_);
}

Fault FaultDice::Roll(absl::string_view method, absl::string_view url) {
  const double p = Uniform();
  double edge = 0;
  auto hit = [&](double share) { return p < (edge += share); };
  if (hit(plan_.reset_before)) return Fault::kResetBefore;
  if (hit(plan_.busy)) return static_cast<int>(p * 1e6) % 2 ? Fault::kBusyRetryAfter : Fault::kBusy;
  if (hit(plan_.internal)) return Fault::kInternal;
  if (absl::StrContains(url, "comp=snapshot") && hit(plan_.rate)) return Fault::kSnapshotRate;
  if (hit(plan_.auth)) return Fault::kAuth;
  if (hit(plan_.reset_after)) return Fault::kResetAfter;
  if (method == "GET" && hit(plan_.truncate)) return Fault::kTruncate;
  return Fault::kNone;
}

absl::Duration FaultDice::Latency() {
  if (plan_.latency <= 0) return absl::ZeroDuration();
  double p = Uniform();
  if (p >= plan_.latency) return absl::ZeroDuration();
  return plan_.max_latency * (p / plan_.latency);
}

bool FaultDice::Stall() { return plan_.stall > 0 && Uniform() < plan_.stall; }

void FaultDice::RecordStall() {
  std::lock_guard<std::mutex> lock(mu_);
  ++injected_["stall (client timeout)"];
}

void FaultDice::Record(Fault f) {
  std::lock_guard<std::mutex> lock(mu_);
  ++injected_[FaultName(f)];
}

void FaultDice::RecordLatency() {
  std::lock_guard<std::mutex> lock(mu_);
  ++injected_["latency"];
}

std::map<std::string, int> FaultDice::injected() {
  std::lock_guard<std::mutex> lock(mu_);
  return injected_;
}

}  // namespace vmb::http
