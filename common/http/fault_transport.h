// An HttpTransport wrapper that injects faults from a seed, for soak tests: connection resets before the request
// reaches the service (nothing happened) or after it (the service acted, the answer was lost), 503 ServerBusy storms
// with and without Retry-After, 500s, 409 SnapshotOperationRateExceeded on snapshot calls, 403 AuthenticationFailed
// as for an expired SAS, and truncated bodies. The same seed gives the same faults for the same request sequence
// (requests made from several threads interleave, so a multi-threaded run is reproducible only in distribution).
#ifndef VMBACKUP_COMMON_HTTP_FAULT_TRANSPORT_H_
#define VMBACKUP_COMMON_HTTP_FAULT_TRANSPORT_H_

#include <map>
#include <string>

#include "common/http/fault_plan.h"
#include "common/http/http_transport.h"

namespace vmb::http {

class FaultTransport : public HttpTransport {
 public:
  FaultTransport(HttpTransport* inner, FaultPlan plan) : inner_(inner), dice_(plan) {}

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    const Fault f = dice_.Roll(request.method, request.url);
    if (f == Fault::kResetBefore) {
      dice_.Record(f);
      return absl::UnavailableError("injected: connection reset");
    }
    if (FaultError e = ErrorOf(f); e.status != 0) {
      dice_.Record(f);
      HttpResponse r;
      r.status = e.status;
      r.headers.emplace_back("x-ms-error-code", e.code);
      if (f == Fault::kBusyRetryAfter) r.headers.emplace_back("retry-after", "1");
      r.body = ErrorBody(e);
      return r;
    }
    absl::StatusOr<HttpResponse> r = inner_->Send(request);
    if (f == Fault::kResetAfter) {
      dice_.Record(f);
      return absl::UnavailableError("injected: connection reset after sending");
    }
    if (f == Fault::kTruncate && r.ok() && r->body.size() > 1) {
      dice_.Record(f);
      r->body.resize(r->body.size() / 2);
    }
    return r;
  }

  std::map<std::string, int> injected() { return dice_.injected(); }

 private:
  HttpTransport* inner_;
  FaultDice dice_;
};

}  // namespace vmb::http

#endif  // VMBACKUP_COMMON_HTTP_FAULT_TRANSPORT_H_
