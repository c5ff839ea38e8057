#include "simulators/faultproxy/fault_proxy.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/http/url.h"
#include "simulators/http_server/bind_loopback.h"

namespace vmb::sim {
namespace {

// Hop-by-hop and length headers the two HTTP stacks set themselves, and httplib's pseudo headers.
bool Passes(const std::string& name) {
  static const char* const kDropped[] = {"host",   "content-length", "transfer-encoding", "connection", "keep-alive",
                                         "expect", "remote_addr",    "remote_port",       "local_addr", "local_port"};
  std::string lower = absl::AsciiStrToLower(name);
  return std::none_of(std::begin(kDropped), std::end(kDropped), [&](const char* d) { return lower == d; });
}

// Sends status and headers with a Content-Length of `length`, then `body` up to `cut` bytes, then closes the
// connection: the client sees a response cut short.
void CutShort(httplib::Response& res, std::string body, size_t length, size_t cut) {
  auto shared = std::make_shared<std::string>(std::move(body));
  std::string type = res.get_header_value("Content-Type");
  res.set_content_provider(length, type.empty() ? "application/octet-stream" : type,
                           [shared, cut](size_t offset, size_t len, httplib::DataSink& sink) {
                             if (offset >= cut) return false;  // closes the connection
                             sink.write(shared->data() + offset, std::min(len, cut - offset));
                             return true;
                           });
}

}  // namespace

FaultProxy::FaultProxy(http::FaultPlan plan) : dice_(std::make_shared<http::FaultDice>(plan)) {}

std::shared_ptr<http::FaultDice> FaultProxy::Dice() {
  std::lock_guard<std::mutex> lock(mu_);
  return dice_;
}

void FaultProxy::SetPlan(const http::FaultPlan& plan) {
  std::lock_guard<std::mutex> lock(mu_);
  dice_ = std::make_shared<http::FaultDice>(plan);
}

std::map<std::string, int> FaultProxy::injected() { return Dice()->injected(); }

absl::StatusOr<std::unique_ptr<FaultProxy>> FaultProxy::Start(const std::string& upstream, http::FaultPlan plan,
                                                              int port) {
  absl::StatusOr<http::Url> u = http::ParseUrl(upstream);
  if (!u.ok()) return absl::InvalidArgumentError(absl::StrCat("fault proxy: bad upstream URL: ", u.status().message()));
  if (u->scheme != "http" || !http::IsLoopbackHost(u->host)) {
    return absl::InvalidArgumentError("fault proxy: the upstream must be plain http on loopback (a test service)");
  }
  std::unique_ptr<FaultProxy> p(new FaultProxy(plan));
  p->upstream_host_ = u->host;
  p->upstream_port_ = u->port;
  p->server_ = std::make_unique<httplib::Server>();
  FaultProxy* self = p.get();
  auto handler = [self](const httplib::Request& req, httplib::Response& res) { self->Handle(req, res); };
  const std::string any = ".*";
  p->server_->Get(any, handler);  // also HEAD
  p->server_->Put(any, handler);
  p->server_->Post(any, handler);
  p->server_->Patch(any, handler);
  p->server_->Delete(any, handler);
  p->server_->Options(any, handler);
  p->server_->set_payload_max_length(256u << 20);
  p->server_->set_tcp_nodelay(true);
  p->server_->new_task_queue = [] { return new httplib::ThreadPool(64); };  // never the bottleneck for a client
  p->server_->set_keep_alive_timeout(1);  // idle connections go within a second, so stopping is quick  // no Nagle +
                                          // delayed-ACK stalls between headers and body
  p->port_ = BindLoopback(*p->server_, port);
  if (p->port_ <= 0) return absl::UnavailableError(absl::StrCat("fault proxy: cannot listen on 127.0.0.1:", port));
  p->thread_ = std::thread([self] { self->server_->listen_after_bind(); });
  for (int i = 0; i < 5000 && !p->server_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!p->server_->is_running()) return absl::UnavailableError("fault proxy: the server did not start");
  return p;
}

FaultProxy::~FaultProxy() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

int FaultProxy::forwarded() const { return forwarded_.load(); }

std::string FaultProxy::Rewrite(const std::string& url) const {
  size_t scheme = url.find("://");
  size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return absl::StrCat("http://127.0.0.1:", port_, path == std::string::npos ? "" : url.substr(path));
}

void FaultProxy::Handle(const httplib::Request& req, httplib::Response& res) {
  std::shared_ptr<http::FaultDice> rolled = Dice();  // this request's plan, even if SetPlan runs meanwhile
  http::FaultDice& dice = *rolled;
  const http::Fault f = dice.Roll(req.method, req.target);
  if (absl::Duration d = dice.Latency(); d > absl::ZeroDuration()) {
    dice.RecordLatency();
    absl::SleepFor(d);
  }
  if (dice.Stall()) {
    dice.RecordStall();
    absl::SleepFor(dice.plan().stall_for);
    res.status = 200;
    CutShort(res, "", 512, 0);
    return;
  }
  if (f == http::Fault::kResetBefore) {
    dice.Record(f);
    res.status = 200;
    CutShort(res, "", 512, 0);
    return;
  }
  if (http::FaultError e = http::ErrorOf(f); e.status != 0) {
    dice.Record(f);
    res.status = e.status;
    res.set_header("x-ms-error-code", e.code);
    if (f == http::Fault::kBusyRetryAfter) res.set_header("Retry-After", "1");
    res.set_content(http::ErrorBody(e), "application/xml");
    return;
  }
  // Forward. One keep-alive client per server thread.
  thread_local std::unique_ptr<httplib::Client> client;
  thread_local std::string client_for;
  const std::string key = absl::StrCat(upstream_host_, ":", upstream_port_);
  if (!client || client_for != key) {
    client = std::make_unique<httplib::Client>(upstream_host_, upstream_port_);
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);
    client->set_read_timeout(120, 0);
    client->set_write_timeout(120, 0);
    client_for = key;
  }
  httplib::Request up;
  up.method = req.method;
  up.path = req.target;
  for (const auto& [name, value] : req.headers) {
    if (Passes(name)) up.headers.emplace(name, value);
  }
  up.body = req.body;
  if (!req.body.empty() && !up.has_header("Content-Type")) up.headers.emplace("Content-Type", "");
  httplib::Response got;
  httplib::Error error = httplib::Error::Success;
  if (!client->send(up, got, error)) {
    client.reset();
    res.status = 502;
    res.set_content(absl::StrCat("fault proxy: upstream ", key, " failed: ", httplib::to_string(error)), "text/plain");
    return;
  }
  ++forwarded_;
  res.status = got.status;
  std::string length;
  for (const auto& [name, value] : got.headers) {
    if (absl::EqualsIgnoreCase(name, "content-length")) length = value;
    if (Passes(name)) res.headers.emplace(name, value);
  }
  if (f == http::Fault::kResetAfter) {
    dice.Record(f);
    CutShort(res, got.body, std::max<size_t>(got.body.size(), 1), 0);
    return;
  }
  if (f == http::Fault::kTruncate && got.body.size() > 1) {
    dice.Record(f);
    CutShort(res, got.body, got.body.size(), got.body.size() / 2);
    return;
  }
  if (req.method == "HEAD") {
    // No body; the upstream's Content-Length describes the resource.
    uint64_t n = 0;
    if (absl::SimpleAtoi(length, &n)) {
      res.set_content_provider(n, res.get_header_value("Content-Type"),
                               [](size_t, size_t, httplib::DataSink&) { return true; });
    }
    return;
  }
  std::string type = res.get_header_value("Content-Type");
  res.headers.erase("Content-Type");
  res.set_content(std::move(got.body), type.c_str());
}

}  // namespace vmb::sim
