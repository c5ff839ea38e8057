// An HttpTransport wrapper that injects faults from a seed, for soak tests: connection resets before the request
// reaches the service (nothing happened) or after it (the service acted, the answer was lost), 503 ServerBusy storms
// with and without Retry-After, 500s, 409 SnapshotOperationRateExceeded on snapshot calls, 403 AuthenticationFailed
// as for an expired SAS, and truncated bodies. The same seed gives the same faults for the same request sequence
// (requests made from several threads interleave, so a multi-threaded run is reproducible only in distribution).
#ifndef VMBACKUP_COMMON_HTTP_FAULT_TRANSPORT_H_
#define VMBACKUP_COMMON_HTTP_FAULT_TRANSPORT_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/http/http_transport.h"

namespace vmb::http {

struct FaultPlan {
  uint64_t seed = 1;
  double reset_before = 0.04;   // request not sent
  double reset_after = 0.03;    // request handled, response lost
  double busy = 0.04;           // 503 ServerBusy (half of them with Retry-After: 1)
  double internal = 0.02;       // 500 InternalError
  double rate = 0.03;           // 409 SnapshotOperationRateExceeded (snapshot calls only)
  double auth = 0.005;          // 403 AuthenticationFailed
  double truncate = 0.02;       // 200 with half the body (GETs only)
};

class FaultTransport : public HttpTransport {
 public:
  FaultTransport(HttpTransport* inner, FaultPlan plan) : inner_(inner), plan_(plan), rng_(plan.seed) {}

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    double p;
    {
      std::lock_guard<std::mutex> lock(mu_);
      p = std::uniform_real_distribution<double>(0, 1)(rng_);
    }
    double edge = 0;
    auto hit = [&](double share, const char* kind) {
      edge += share;
      if (p < edge) {
        std::lock_guard<std::mutex> lock(mu_);
        ++injected_[kind];
        return true;
      }
      return false;
    };
    if (hit(plan_.reset_before, "reset before")) return absl::UnavailableError("injected: connection reset");
    if (hit(plan_.busy, "503 ServerBusy")) {
      HttpResponse r = Error(503, "ServerBusy", "The server is busy.");
      if (static_cast<int>(p * 1e6) % 2) r.headers.emplace_back("retry-after", "1");
      return r;
    }
    if (hit(plan_.internal, "500 InternalError")) return Error(500, "InternalError", "The server encountered an internal error.");
    if (absl::StrContains(request.url, "comp=snapshot") && hit(plan_.rate, "409 SnapshotOperationRateExceeded")) {
      return Error(409, "SnapshotOperationRateExceeded", "The rate of snapshot blob calls is exceeded.");
    }
    if (hit(plan_.auth, "403 AuthenticationFailed")) {
      return Error(403, "AuthenticationFailed", "Signature not valid in the specified time frame");
    }
    absl::StatusOr<HttpResponse> r = inner_->Send(request);
    if (hit(plan_.reset_after, "reset after")) return absl::UnavailableError("injected: connection reset after sending");
    if (r.ok() && request.method == "GET" && r->body.size() > 1 && hit(plan_.truncate, "truncated body")) {
      r->body.resize(r->body.size() / 2);
    }
    return r;
  }

  std::map<std::string, int> injected() {
    std::lock_guard<std::mutex> lock(mu_);
    return injected_;
  }

 private:
  static HttpResponse Error(int status, const std::string& code, const std::string& message) {
    HttpResponse r;
    r.status = status;
    r.headers.emplace_back("x-ms-error-code", code);
    r.body = absl::StrCat("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>", code, "</Code><Message>", message,
                          "</Message></Error>");
    return r;
  }

  HttpTransport* inner_;
  FaultPlan plan_;
  std::mutex mu_;
  std::mt19937_64 rng_;
  std::map<std::string, int> injected_;
};

}  // namespace vmb::http

#endif  // VMBACKUP_COMMON_HTTP_FAULT_TRANSPORT_H_
