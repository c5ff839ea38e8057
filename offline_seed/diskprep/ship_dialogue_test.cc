// u:'s questions with a scripted admin: each answer checked as it is typed and re-asked on a bad one (keeping what
// was typed before), state or province asked and sent, flags checked before anything is asked; and the rule for
// each detail (CheckShippingField), table-driven.
#include "offline_seed/diskprep/ship_dialogue.h"

#include "absl/time/clock.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/diskprep/scripted_prompter.h"
#include "offline_seed/diskprep/shipping_checks.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using testing::ScriptedPrompter;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

std::string Today(int days = 0) {
  return absl::FormatTime("%Y-%m-%d", absl::Now() + absl::Hours(24 * days), absl::UTCTimeZone());
}

class ShipDialogueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    job_.set_name("seedjob");
    job_.mutable_properties()->add_drivelist()->set_driveid("SN-1");
    job_.mutable_properties()->add_drivelist()->set_driveid("SN-2");
    where_.set_name("westeurope");
    for (const char* c : {"DHL", "FedEx", "UPS"}) where_.mutable_properties()->add_supportedcarriers(c);
  }
  ie::proto::Job job_;
  ie::proto::Location where_;
};

TEST_F(ShipDialogueTest, EachAnswerIsCheckedAsItIsTypedAndTheOthersAreKept) {
  ScriptedPrompter p(
      {"Pigeon",      "dhl",     "1z/99",           "1z 999 aa1 0123",    Today(30),         Today(),   "three",
       "3",           "2",       "Backup Ops",      "Main St 1",          "Utrecht",         "Utrecht", "3511 AB",
       "Netherlands", "call me", "+31 30 000 0000", "ops at example.com", "ops@example.com", "9x/123",  "9xy 123"});
  std::map<std::string, std::string> given;
  ASSERT_THAT(AskShippingDetails(&p, given, job_, where_), IsOk());
  EXPECT_EQ(p.unused(), 0u);
  const std::string& t = p.transcript();
  EXPECT_THAT(t, HasSubstr("Carrier (DHL, FedEx, UPS): Pigeon\n  carrier \"Pigeon\" does not serve westeurope; "
                           "choose one of DHL, FedEx, UPS\nCarrier (DHL, FedEx, UPS): dhl\n"));
  EXPECT_THAT(t, HasSubstr("Tracking number: 1z/99\n  the tracking number has \"/\": enter it as the carrier prints "
                           "it (letters, digits, -)\nTracking number: 1z 999 aa1 0123\n"));
  EXPECT_THAT(t, HasSubstr("is more than two weeks from today"));
  EXPECT_THAT(t, HasSubstr("Number of drives in the package (import job seedjob has 2): three\n  the number of "
                           "drives \"three\" is not a number\n"));
  EXPECT_THAT(t, HasSubstr("the package holds 3 drive(s) but import job seedjob has 2"));
  EXPECT_THAT(t, HasSubstr("State or province (Enter if none): Utrecht\n"));
  EXPECT_THAT(t, HasSubstr("the phone number has \"c\""));
  EXPECT_THAT(t, HasSubstr("Email: ops at example.com\n  the email address has no '@'\nEmail: ops@example.com\n"));
  EXPECT_THAT(t, HasSubstr("Return shipping: carrier account number for the drives' return (Enter if none): 9x/123\n"
                           "  the carrier account number has \"/\": enter it as the carrier gave it"));
  absl::StatusOr<ShippingDetails> d = ShippingDetailsOf(given);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->carrier, "dhl");
  EXPECT_EQ(d->drive_count, 2);
  EXPECT_EQ(d->return_address.recipientname(), "Backup Ops");
  EXPECT_EQ(d->return_address.stateorprovince(), "Utrecht");
  EXPECT_EQ(d->return_address.email(), "ops@example.com");
  EXPECT_THAT(ShippingReview(job_, *d), HasSubstr("tracking number 1Z999AA10123"));
  EXPECT_THAT(ShippingReview(job_, *d), HasSubstr("3511 AB Utrecht, Utrecht, Netherlands"));
  EXPECT_EQ(d->return_account, "9XY123");
  EXPECT_THAT(ShippingReview(job_, *d), HasSubstr("\nReturn shipping: dhl account 9XY123"));
}

TEST_F(ShipDialogueTest, StateOrProvinceAndReturnAccountMayBeLeftEmpty) {
  std::map<std::string, std::string> given = {{"carrier", "UPS"},          {"tracking-number", "1Z999AA10123"},
                                              {"ship-date", Today()},      {"drive-count", "2"},
                                              {"contact", "Ops"},          {"street", "Main St 1"},
                                              {"city", "Utrecht"},         {"postal-code", "3511"},
                                              {"country", "NL"},           {"phone", "+31 30 000 0000"},
                                              {"email", "ops@example.com"}};
  ScriptedPrompter p({"", ""});
  ASSERT_THAT(AskShippingDetails(&p, given, job_, where_), IsOk());
  EXPECT_EQ(p.prompts(), (std::vector<std::string>{
                             "State or province (Enter if none): ",
                             "Return shipping: carrier account number for the drives' return (Enter if none): "}));
  EXPECT_TRUE(ShippingDetailsOf(given)->return_account.empty());
  given.erase("state");
  given.erase("return-account");
  EXPECT_THAT(AskShippingDetails(nullptr, given, job_, where_), IsOk()) << "not required without a terminal";
}

TEST_F(ShipDialogueTest, ABadFlagIsRefusedBeforeAnythingIsAsked) {
  std::map<std::string, std::string> given = {{"carrier", "Pigeon"}};
  ScriptedPrompter p({"1Z999AA10123"});
  EXPECT_THAT(AskShippingDetails(&p, given, job_, where_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--carrier: carrier \"Pigeon\" does not serve")));
  EXPECT_TRUE(p.prompts().empty());
}

TEST_F(ShipDialogueTest, WithoutATerminalAMissingDetailNamesItsFlag) {
  std::map<std::string, std::string> given = {{"carrier", "UPS"}};
  EXPECT_THAT(AskShippingDetails(nullptr, given, job_, where_),
              StatusIs(absl::StatusCode::kInvalidArgument, "--tracking-number is required (no terminal to ask on)"));
}

TEST_F(ShipDialogueTest, EndingTheInputKeepsWhatWasTyped) {
  std::map<std::string, std::string> given;
  ScriptedPrompter p({"UPS", "1Z999AA10123"});
  EXPECT_THAT(AskShippingDetails(&p, given, job_, where_), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(given["carrier"], "UPS");
  EXPECT_EQ(given["tracking-number"], "1Z999AA10123");
}

TEST_F(ShipDialogueTest, TheRuleForEachDetail) {
  const struct {
    const char* field;
    std::string value;
    const char* error;  // "" when accepted
  } kCases[] = {
      {"carrier", "fedex", ""},
      {"carrier", "TNT", "carrier \"TNT\" does not serve westeurope; choose one of DHL, FedEx, UPS"},
      {"tracking-number", "jd0146 00003828398821", ""},
      {"tracking-number", "1Z9", "the tracking number looks too short"},
      {"tracking-number", std::string(36, '7'), "the tracking number looks too long (at most 35 characters)"},
      {"ship-date", Today(-14), ""},
      {"ship-date", Today(15), "is more than two weeks from today"},
      {"ship-date", "12/05/2025", "ship date \"12/05/2025\" is not YYYY-MM-DD"},
      {"drive-count", "2", ""},
      {"drive-count", "1", "the package holds 1 drive(s) but import job seedjob has 2"},
      {"contact", "", "the return address needs a contact name"},
      {"state", "", ""},
      {"postal-code", " ", "the return address needs a postal code"},
      {"phone", "+1 (703) 555-0100", ""},
      {"phone", "12345", "the phone number has 5 digits"},
      {"email", "ops@example", "the email address \"ops@example\" is not name@domain.tld"},
      {"email", "@example.com", "is not name@domain.tld"},
      {"email", "a.b@mail.example.com", ""},
  };
  for (const auto& c : kCases) {
    absl::Status s = CheckShippingField(c.field, c.value, job_, where_, absl::Now());
    if (std::string(c.error).empty()) {
      EXPECT_THAT(s, IsOk()) << c.field << "=" << c.value;
    } else {
      EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.error))) << c.field << "=" << c.value;
    }
  }
}

}  // namespace
}  // namespace vmb::offline
