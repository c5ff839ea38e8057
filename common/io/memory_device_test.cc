#include "common/io/memory_device.h"

#include "common/io/testing/block_device_contract.h"
#include "gtest/gtest.h"

namespace vmb::io {
namespace {

TEST(MemoryDevice, KeepsTheBlockDeviceContract) {
  MemoryDevice device(64 * 4096);
  testing::ExpectBlockDeviceContract(device);
}

// The fault wrapper forwards what it does not refuse and refuses what it is told to.
TEST(FaultyDevice, InjectsChosenFaultsAndForwardsTheRest) {
  MemoryDevice inner(64 * 4096);
  int writes = 0;
  testing::FaultyDevice device(&inner, [&](const char* op, uint64_t offset, uint64_t) -> absl::Status {
    if (std::string(op) == "write" && ++writes == 2) return absl::DataLossError("injected: bad sector");
    if (std::string(op) == "read" && offset == 8 * 4096) return absl::UnavailableError("injected: pulled");
    return absl::OkStatus();
  });
  EXPECT_TRUE(device.Write(0, std::string(4096, 'a')).ok());
  EXPECT_EQ(device.Write(4096, std::string(4096, 'b')).code(), absl::StatusCode::kDataLoss);
  std::string out;
  ASSERT_TRUE(inner.Read(4096, 4096, &out).ok());
  EXPECT_EQ(out, std::string(4096, '\0')) << "a refused write reached the device";
  EXPECT_EQ(device.Read(8 * 4096, 4096, &out).code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(device.Read(0, 4096, &out).ok());
  EXPECT_EQ(out, std::string(4096, 'a'));
}

}  // namespace
}  // namespace vmb::io
