#include "common/http/curl_transport.h"

#include <curl/curl.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/concurrent/mutex.h"
#include "common/http/url.h"
#include "common/log/redact.h"

namespace vmb::http {
namespace {

void GlobalInitOnce() {
  static bool done = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)done;
}

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  absl::string_view line(data, size * n);
  if (absl::StartsWith(line, "HTTP/")) {
    response->headers.clear();  // a new response (after 100 Continue or a redirect we do not follow)
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    response->headers.emplace_back(absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon))),
                                   std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
    // The body's room at once (a large download would otherwise be copied as it grows), within reason.
    uint64_t length = 0;
    if (response->headers.back().first == "content-length" &&
        absl::SimpleAtoi(response->headers.back().second, &length) && length <= (64u << 20)) {
      response->body.reserve(length);
    }
  }
  return size * n;
}

absl::Status CurlError(CURLcode code, const char* errbuf, const std::string& redacted_url) {
  std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(code);
  std::string message = absl::StrCat("HTTP request to ", redacted_url, " failed: ", detail);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return absl::DeadlineExceededError(message);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return absl::InvalidArgumentError(message);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return absl::FailedPreconditionError(absl::StrCat(message, " (TLS verification failed; it cannot be disabled)"));
    default:
      return absl::UnavailableError(message);
  }
}

class CurlTransport : public HttpTransport {
 public:
  explicit CurlTransport(const CurlTransportOptions& options) : options_(options) { GlobalInitOnce(); }
  ~CurlTransport() override {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    absl::StatusOr<Url> url = ParseUrl(request.url);
    if (!url.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad URL ", RedactSecrets(request.url), ": ", url.status().message()));
    }
    if (url->scheme == "http" && !IsLoopbackHost(url->host)) {
      return absl::InvalidArgumentError(absl::StrCat("refusing plain http to non-loopback host ", url->host,
                                                     ": use https (SAS tokens and keys must not cross the network "
                                                     "unencrypted)"));
    }
    CURL* h = Acquire();
    HttpResponse response;
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_slist* header_list = nullptr;
    bool has_content_type = false;
    for (const auto& [k, v] : request.headers) {
      if (absl::EqualsIgnoreCase(k, "content-type")) has_content_type = true;
      header_list = curl_slist_append(header_list, absl::StrCat(k, ": ", v).c_str());
    }
    if (!has_content_type) header_list = curl_slist_append(header_list, "Content-Type:");
    header_list = curl_slist_append(header_list, "Expect:");

    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, header_list);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, WriteHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &response);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L << 10);  // fewer, larger reads for large bodies
    absl::Duration timeout = request.timeout > absl::ZeroDuration() ? request.timeout : options_.default_timeout;
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(timeout)));
    if (request.method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    }
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(header_list);
    if (rc != CURLE_OK) {
      curl_easy_cleanup(h);  // its connection may be broken; do not pool it
      return CurlError(rc, errbuf, RedactSecrets(request.url));
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    Release(h);
    return response;
  }

 private:
  CURL* Acquire() {
    CURL* h = nullptr;
    {
      MutexLock lock(&mu_);
      if (!idle_.empty()) {
        h = idle_.back();
        idle_.pop_back();
      }
    }
    if (h == nullptr) h = curl_easy_init();
    curl_easy_reset(h);  // keeps the connection cache, clears options
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    return h;
  }

  void Release(CURL* h) {
    MutexLock lock(&mu_);
    if (static_cast<int>(idle_.size()) < options_.max_idle_handles) {
      idle_.push_back(h);
    } else {
      curl_easy_cleanup(h);
    }
  }

  const CurlTransportOptions options_;
  Mutex mu_;
  std::vector<CURL*> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<HttpTransport> NewCurlTransport(const CurlTransportOptions& options) {
  return std::make_unique<CurlTransport>(options);
}

}  // namespace vmb::http
