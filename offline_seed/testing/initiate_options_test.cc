// The shared test job: what every offline seeding test that stages a backup relies on.
#include "offline_seed/testing/initiate_options.h"

#include "gtest/gtest.h"

namespace vmb::offline::testing {
namespace {

TEST(TestInitiateOptions, NamesTheSharedJobAndKeepsTheRestDefault) {
  InitiateOptions o = TestInitiateOptions({"/src"}, "/staging", 4u << 20);
  EXPECT_EQ(o.sources, std::vector<std::string>{"/src"});
  EXPECT_EQ(o.staging, "/staging");
  EXPECT_EQ(o.job.jobname(), "seedjob1");
  EXPECT_EQ(o.job.subscriptionid(), "sub-123");
  EXPECT_EQ(o.job.storageaccount(), "seedacct");
  EXPECT_EQ(o.job.container(), "offline");
  EXPECT_EQ(o.job.publishsettingspath(), "");
  EXPECT_EQ(o.image_size, 4u << 20);
  EXPECT_EQ(TestInitiateOptions({}, "/s").image_size, 2u << 20);
  EXPECT_EQ(o.threads, InitiateOptions().threads);
  EXPECT_FALSE(o.free_space);
}

}  // namespace
}  // namespace vmb::offline::testing
