// The curl transport against a real HTTP server (cpp-httplib) on loopback.
#include "common/http/curl_transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <set>
#include <thread>

#include "common/crypto/certificate.h"
#include "common/file/file_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace vmb::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::vmb::testing::StatusIs;

class CurlTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Put("/echo", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ports_.insert(req.remote_port);
      }
      res.status = 201;
      res.set_header("x-ms-request-id", "r1");
      res.set_header("X-Echo-Type", req.get_header_value("Content-Type"));
      res.set_header("X-Echo-Meta", req.get_header_value("x-ms-meta-a"));
      res.set_content(req.body, "application/octet-stream");
    });
    server_.Get("/status/503", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_header("Retry-After", "3");
      res.set_content("<Error><Code>ServerBusy</Code></Error>", "application/xml");
    });
    server_.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      res.set_content("late", "text/plain");
    });
    server_.Delete("/thing", [](const httplib::Request&, httplib::Response& res) { res.status = 202; });
    server_.set_keep_alive_max_count(1000);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    base_ = "http://127.0.0.1:" + std::to_string(port_);
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::string base_;
  std::mutex mu_;
  std::set<int> ports_;
};

TEST_F(CurlTransportTest, SendsMethodHeadersBodyAndReturnsResponse) {
  auto transport = NewCurlTransport();
  HttpRequest req;
  req.method = "PUT";
  req.url = base_ + "/echo";
  req.headers = {{"x-ms-meta-a", "b"}, {"Content-Type", "text/plain"}};
  req.body = std::string("bin\0ary", 7);
  absl::StatusOr<HttpResponse> r = transport->Send(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, req.body);
  EXPECT_EQ(r->Header("X-MS-Request-Id"), "r1");
  EXPECT_EQ(r->Header("x-echo-type"), "text/plain");
  EXPECT_EQ(r->Header("x-echo-meta"), "b");
  // Without a Content-Type, curl must not invent one (it would break Shared Key signatures).
  req.headers = {};
  r = transport->Send(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Header("x-echo-type"), "");
  HttpRequest del;
  del.method = "DELETE";
  del.url = base_ + "/thing";
  EXPECT_EQ(transport->Send(del)->status, 202);
}

TEST_F(CurlTransportTest, ErrorStatusesAreResponsesNotErrors) {
  auto transport = NewCurlTransport();
  absl::StatusOr<HttpResponse> r = transport->Send(HttpRequest{"GET", base_ + "/status/503"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->Header("retry-after"), "3");
  EXPECT_THAT(r->body, HasSubstr("ServerBusy"));
}

TEST_F(CurlTransportTest, ReusesConnectionsAndRunsConcurrently) {
  auto transport = NewCurlTransport();
  for (int i = 0; i < 20; ++i) {
    HttpRequest req{"PUT", base_ + "/echo"};
    ASSERT_EQ(transport->Send(req)->status, 201);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(ports_.size(), 1u) << "sequential requests should share one connection";
    ports_.clear();
  }
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        HttpRequest req{"PUT", base_ + "/echo"};
        req.body = std::string(1000, 'x');
        absl::StatusOr<HttpResponse> r = transport->Send(req);
        if (r.ok() && r->status == 201 && r->body.size() == 1000) ok++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_LE(ports_.size(), 8u);
}

TEST_F(CurlTransportTest, TimeoutsAndRefusedConnectionsAreRetryableErrors) {
  auto transport = NewCurlTransport();
  HttpRequest slow{"GET", base_ + "/slow"};
  slow.timeout = absl::Milliseconds(200);
  EXPECT_THAT(transport->Send(slow), StatusIs(absl::StatusCode::kDeadlineExceeded));
  // A port that nobody listens on: bind an ephemeral port, read it, close it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int dead_port = ntohs(addr.sin_port);
  ::close(fd);
  HttpRequest refused{"GET", "http://127.0.0.1:" + std::to_string(dead_port) + "/x?sig=SECRET"};
  absl::StatusOr<HttpResponse> r = transport->Send(refused);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(r.status().message()), Not(HasSubstr("SECRET")));
}

TEST(CurlTransportPolicy, RefusesPlainHttpToNonLoopbackHosts) {
  auto transport = NewCurlTransport();
  absl::StatusOr<HttpResponse> r =
      transport->Send(HttpRequest{"GET", "http://acct.blob.core.windows.net/c/b?sig=SECRET"});
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("use https")));
  EXPECT_THAT(std::string(r.status().message()), Not(HasSubstr("SECRET")));
  EXPECT_THAT(transport->Send(HttpRequest{"GET", "file:///etc/passwd"}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(transport->Send(HttpRequest{"GET", "http://127.0.0.1.nip.io/c/b?sig=SECRET"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("use https")));
}

TEST(CurlTransportTls, VerifiesPeerAlwaysAndAcceptsAddedCa) {
  std::string dir = ::vmb::testing::TempDir();
  crypto::SelfSignedOptions options;
  options.common_name = "127.0.0.1";
  options.not_before = absl::Now() - absl::Hours(1);
  absl::StatusOr<crypto::CertificateAndKey> pair = crypto::GenerateSelfSigned(options);
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE(file::WriteFileAtomic(dir + "/tls.crt", pair->certificate.Pem(), 0644).ok());
  ASSERT_TRUE(file::WriteFileAtomic(dir + "/tls.key", pair->key.Pem(), 0600).ok());
  httplib::SSLServer server((dir + "/tls.crt").c_str(), (dir + "/tls.key").c_str());
  server.Get("/hi", [](const httplib::Request&, httplib::Response& res) { res.set_content("hello", "text/plain"); });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::string url = "https://127.0.0.1:" + std::to_string(port) + "/hi";

  EXPECT_THAT(NewCurlTransport()->Send(HttpRequest{"GET", url}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("cannot be disabled")));
  CurlTransportOptions with_ca;
  with_ca.ca_file = dir + "/tls.crt";
  absl::StatusOr<HttpResponse> r = NewCurlTransport(with_ca)->Send(HttpRequest{"GET", url});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "hello");
  server.stop();
  thread.join();
}

}  // namespace
}  // namespace vmb::http
