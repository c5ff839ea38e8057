#include "common/http/url.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::http {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::StatusIs;

TEST(ParseUrl, SplitsParts) {
  absl::StatusOr<Url> u = ParseUrl("HTTPS://Acct.Blob.Core.Windows.Net/vhds/a%20b.vhd?sv=1&sig=x%3D#frag");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "acct.blob.core.windows.net");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, "/vhds/a%20b.vhd");
  EXPECT_EQ(u->query, "sv=1&sig=x%3D");
  EXPECT_EQ(u->Origin(), "https://acct.blob.core.windows.net");
  u = ParseUrl("http://127.0.0.1:10000/devstoreaccount1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 10000);
  EXPECT_EQ(u->Origin(), "http://127.0.0.1:10000");
  u = ParseUrl("http://[::1]:8080");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_TRUE(IsLoopbackHost(u->host));
}

TEST(ParseUrl, RejectsNonsense) {
  EXPECT_THAT(ParseUrl("blob.core.windows.net/x"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("absolute")));
  EXPECT_THAT(ParseUrl("ftp://h/x"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("scheme")));
  EXPECT_THAT(ParseUrl("https:///x"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no host")));
  EXPECT_THAT(ParseUrl("https://h:99999/"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("port")));
}

TEST(Query, PercentCodingRoundTrip) {
  EXPECT_EQ(PercentEncode("a b/c+d=é"), "a%20b%2Fc%2Bd%3D%C3%A9");
  EXPECT_EQ(PercentEncode("dir/file name", true), "dir/file%20name");
  auto q = ParseQuery("sv=2014-02-14&sig=Tyw%2BkR%3D&st=2017-11-09T14%3A23%3A28Z&flag");
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 4u);
  EXPECT_EQ((*q)[1].second, "Tyw+kR=");
  EXPECT_EQ((*q)[2].second, "2017-11-09T14:23:28Z");
  EXPECT_EQ((*q)[3].first, "flag");
  EXPECT_THAT(ParseQuery("sig=%G1"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sig")));
}

TEST(Url, LoopbackMeansAnAddressLiteralOrLocalhostOnly) {
  for (const char* host : {"localhost", "127.0.0.1", "127.255.255.254", "::1", "0:0:0:0:0:0:0:1"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  // Names that merely start like a loopback address resolve wherever their owner wants (plain http to them would
  // send SAS signatures in the clear).
  for (const char* host : {"127.0.0.1.nip.io", "127.attacker.example", "localhost.attacker.example", "128.0.0.1",
                           "10.0.0.1", "::2", "127.0.0.1 ", ""}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

}  // namespace
}  // namespace vmb::http
