#include "common/json/json.h"

#include "common/json/json_test.pb.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace vmb::json {
namespace {

using testing::Outer;
using testing::OuterList;

TEST(ParseLenient, NumbersAndBooleansForStringFieldsBecomeTheirText) {
  Outer o;
  ASSERT_TRUE(ParseLenient(R"({"version": 1.0, "name": 636458000000000000, "words": [2.5, true, "x"]})", &o, "t").ok());
  EXPECT_EQ(o.version(), "1");
  EXPECT_EQ(o.name(), "636458000000000000");
  ASSERT_EQ(o.words_size(), 3);
  EXPECT_EQ(o.words(0), "2.5");
  EXPECT_EQ(o.words(1), "true");
  EXPECT_EQ(o.words(2), "x");
}

TEST(ParseLenient, NestedMessagesUnknownKeysNullsAndBooleanText) {
  Outer o;
  absl::Status s = ParseLenient(
      R"({"inner": {"text": 7, "flag": "True", "count": "12", "extra": {"a": [1]}}, "list": [{"flag": 1}, {"text": null}],
          "enabled": "false", "name": null, "unknownKey": 3})",
      &o, "t");
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(o.inner().text(), "7");
  EXPECT_TRUE(o.inner().flag());
  EXPECT_EQ(o.inner().count(), 12);
  ASSERT_EQ(o.list_size(), 2);
  EXPECT_TRUE(o.list(0).flag());
  EXPECT_EQ(o.list(1).text(), "");
  EXPECT_FALSE(o.enabled());
  EXPECT_EQ(o.name(), "");
}

TEST(ParseLenient, ShapesThatDoNotFitAreStillErrorsNamingTheFile) {
  Outer o;
  for (const char* bad :
       {R"({"inner": "text"})", R"({"enabled": "maybe"})", R"([1])", R"({"version": )", "", R"({"list": [3]})"}) {
    absl::Status s = ParseLenient(bad, &o, "HandlerEnvironment.json");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("HandlerEnvironment.json"), absl::string_view::npos) << s;
  }
}

TEST(ParseArrayLenient, TheGuestAgentsHandlerEnvironmentForm) {
  // What waagent's create_handler_env writes (json.dumps of a list with "version": 1.0).
  OuterList list;
  absl::Status s = ParseArrayLenient(
      "\xEF\xBB\xBF [{\"name\": \"Microsoft.Azure.RecoveryServices.VMSnapshotLinux\", \"version\": 1.0, "
      "\"handlerEnvironment\": {\"eventsFolder_preview\": \"/x\"}}]",
      &list, "t");
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(list.items_size(), 1);
  EXPECT_EQ(list.items(0).version(), "1");
  EXPECT_EQ(ParseArrayLenient("{}", &list, "t").code(), absl::StatusCode::kInvalidArgument);
}

TEST(Parse, StaysStrictAboutTypes) {
  Outer o;
  EXPECT_EQ(Parse(R"({"version": 1.0})", &o, "t").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vmb::json
