// A test double for HttpTransport: records every request and answers with a handler (a scripted reply, a
// stateful fake service, or an injected failure). Thread-safe.
#ifndef VMBACKUP_COMMON_HTTP_RECORDING_TRANSPORT_H_
#define VMBACKUP_COMMON_HTTP_RECORDING_TRANSPORT_H_

#include <functional>
#include <vector>

#include "common/concurrent/mutex.h"
#include "common/http/http_transport.h"

namespace vmb::http {

class RecordingTransport : public HttpTransport {
 public:
  using Handler = std::function<absl::StatusOr<HttpResponse>(const HttpRequest&)>;
  explicit RecordingTransport(Handler handler) : handler_(std::move(handler)) {}

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    {
      MutexLock lock(&mu_);
      requests_.push_back(request);
    }
    return handler_(request);
  }

  std::vector<HttpRequest> requests() {
    MutexLock lock(&mu_);
    return requests_;
  }

 private:
  Handler handler_;
  Mutex mu_;
  std::vector<HttpRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vmb::http

#endif  // VMBACKUP_COMMON_HTTP_RECORDING_TRANSPORT_H_
