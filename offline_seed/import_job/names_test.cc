// Azure's naming rules, each refusal checked for its code and the rule it names.
#include "offline_seed/import_job/names.h"

#include <functional>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::ie {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

struct NameCase {
  const char* what;
  std::function<absl::Status(const std::string&)> check;
  std::vector<const char*> good, bad;
  const char* rule;  // a fragment of the rule the error names
};

TEST(Names, AzuresRules) {
  const std::vector<NameCase> cases = {
      {"job name",
       CheckJobName,
       {"seedjob1", "Backup-2026-12", "ab"},
       {"bad job/name?x", "1job", "a", "job_1", ""},
       "use 2 to 64 letters, digits and hyphens, starting with a letter"},
      {"container name",
       CheckContainerName,
       {"offline", "offline-data", "abc", "a1b2"},
       {"Offline_Data", "ab", "-lead", "trail-", "two--hyphens", "UPPER"},
       "use 3 to 63 lowercase letters, digits and hyphens"},
      {"storage account name",
       CheckStorageAccountName,
       {"seedacct", "devstoreaccount1"},
       {"My-Account", "ab", "averyveryverylongaccountname1"},
       "use 3 to 24 lowercase letters and digits"},
  };
  for (const NameCase& c : cases) {
    for (const char* ok : c.good) EXPECT_THAT(c.check(ok), IsOk()) << c.what << " " << ok;
    for (const char* bad : c.bad) {
      EXPECT_THAT(c.check(bad),
                  StatusIs(absl::StatusCode::kInvalidArgument,
                           AllOf(HasSubstr(std::string("the ") + c.what + " \"" + bad + "\" is not one Azure accepts"),
                                 HasSubstr(c.rule), HasSubstr("Nothing was written"))))
          << c.what << " " << bad;
    }
  }
}

}  // namespace
}  // namespace vmb::ie
