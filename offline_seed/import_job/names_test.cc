#include "offline_seed/import_job/names.h"

#include "gtest/gtest.h"

namespace vmb::ie {
namespace {

TEST(Names, AzuresRules) {
  for (const char* ok : {"seedjob1", "Backup-2026-12", "ab"}) EXPECT_TRUE(CheckJobName(ok).ok()) << ok;
  for (const char* bad : {"bad job/name?x", "1job", "a", "job_1", ""}) EXPECT_FALSE(CheckJobName(bad).ok()) << bad;
  for (const char* ok : {"offline", "offline-data", "abc", "a1b2"}) EXPECT_TRUE(CheckContainerName(ok).ok()) << ok;
  for (const char* bad : {"Offline_Data", "ab", "-lead", "trail-", "two--hyphens", "UPPER"}) {
    EXPECT_FALSE(CheckContainerName(bad).ok()) << bad;
  }
  for (const char* ok : {"seedacct", "devstoreaccount1"}) EXPECT_TRUE(CheckStorageAccountName(ok).ok()) << ok;
  for (const char* bad : {"My-Account", "ab", "averyveryverylongaccountname1"}) {
    EXPECT_FALSE(CheckStorageAccountName(bad).ok()) << bad;
  }
  absl::Status s = CheckContainerName("Offline_Data");
  EXPECT_NE(s.message().find("lowercase"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("Nothing was written"), absl::string_view::npos) << s;
}

}  // namespace
}  // namespace vmb::ie
