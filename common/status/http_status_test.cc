#include "common/status/http_status.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::vmb::testing::StatusIs;

TEST(HttpStatusToCode, Table) {
  struct Case {
    int http;
    absl::StatusCode code;
  };
  const Case cases[] = {
      {200, absl::StatusCode::kOk},
      {201, absl::StatusCode::kOk},
      {206, absl::StatusCode::kOk},
      {400, absl::StatusCode::kInvalidArgument},
      {401, absl::StatusCode::kPermissionDenied},
      {403, absl::StatusCode::kPermissionDenied},
      {404, absl::StatusCode::kNotFound},
      {408, absl::StatusCode::kDeadlineExceeded},
      {409, absl::StatusCode::kAborted},
      {412, absl::StatusCode::kFailedPrecondition},
      {416, absl::StatusCode::kOutOfRange},
      {429, absl::StatusCode::kUnavailable},
      {418, absl::StatusCode::kInvalidArgument},
      {500, absl::StatusCode::kUnavailable},
      {502, absl::StatusCode::kUnavailable},
      {503, absl::StatusCode::kUnavailable},
      {504, absl::StatusCode::kDeadlineExceeded},
      {507, absl::StatusCode::kUnavailable},
      {0, absl::StatusCode::kUnknown},
      {302, absl::StatusCode::kUnknown},
  };
  for (const Case& c : cases) EXPECT_EQ(HttpStatusToCode(c.http), c.code) << c.http;
}

constexpr char kRateExceeded[] =
    "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>SnapshotOperationRateExceeded</Code>"
    "<Message>The rate of snapshot blob calls is exceeded.\nRequestId:5d7e\nTime:2017-11-09T14:33:29.000Z"
    "</Message></Error>";

TEST(AzureErrorXml, ParsesCodeAndFirstMessageLine) {
  absl::StatusOr<AzureError> e = ParseAzureErrorXml(kRateExceeded);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->code, "SnapshotOperationRateExceeded");
  EXPECT_EQ(e->message, "The rate of snapshot blob calls is exceeded.");
}

TEST(AzureErrorXml, RejectsNonXmlAndWrongRoot) {
  EXPECT_THAT(ParseAzureErrorXml("<html>Bad gateway</htm"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not XML")));
  EXPECT_THAT(ParseAzureErrorXml("<Other/>"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("<Error>")));
}

TEST(StatusFromHttpResponse, CarriesHttpAndAzureCodes) {
  struct Case {
    int http;
    const char* azure;
    absl::StatusCode code;
  };
  const Case cases[] = {
      {503, "ServerBusy", absl::StatusCode::kUnavailable},
      {409, "SnapshotCountExceeded", absl::StatusCode::kAborted},
      {409, "SnapshotOperationRateExceeded", absl::StatusCode::kAborted},
      {403, "AuthenticationFailed", absl::StatusCode::kPermissionDenied},
      {404, "BlobNotFound", absl::StatusCode::kNotFound},
      {404, "ContainerNotFound", absl::StatusCode::kNotFound},
  };
  for (const Case& c : cases) {
    std::string body = absl::StrCat("<?xml version=\"1.0\"?><Error><Code>", c.azure,
                                    "</Code><Message>Detail text.\nRequestId:1</Message></Error>");
    absl::Status s = StatusFromHttpResponse("Snapshot Blob https://a/c/b", c.http, body);
    EXPECT_THAT(s, StatusIs(c.code, HasSubstr(c.azure)));
    EXPECT_THAT(std::string(s.message()), HasSubstr("Detail text."));
    EXPECT_THAT(std::string(s.message()), Not(HasSubstr("RequestId")));
    EXPECT_EQ(HttpStatusOf(s), c.http);
    EXPECT_EQ(AzureErrorCodeOf(s), c.azure);
  }
}

TEST(StatusFromHttpResponse, HeaderCodeWinsAndNonXmlBodyIsQuoted) {
  absl::Status s = StatusFromHttpResponse("Get Blob", 502, "<html>\x01proxy error</html>", "ServerBusy");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("non-XML error body")));
  EXPECT_THAT(std::string(s.message()), HasSubstr(".proxy error"));
  EXPECT_EQ(AzureErrorCodeOf(s), "ServerBusy");
  absl::Status empty = StatusFromHttpResponse("Get Blob", 404, "");
  EXPECT_THAT(empty, StatusIs(absl::StatusCode::kNotFound, "Get Blob: HTTP 404"));
  EXPECT_EQ(AzureErrorCodeOf(empty), "");
  EXPECT_TRUE(StatusFromHttpResponse("x", 201, "").ok());
}

TEST(StatusFromHttpResponse, AuthenticationDetailIsKept) {
  absl::Status s = StatusFromHttpResponse(
      "Put Page", 403,
      "<Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request.</Message>"
      "<AuthenticationErrorDetail>Signed expiry time [Thu, 09 Nov 2017 17:38:28 GMT] must be after signed start "
      "time</AuthenticationErrorDetail></Error>");
  EXPECT_THAT(std::string(s.message()), HasSubstr("Signed expiry time"));
}

}  // namespace
}  // namespace vmb
