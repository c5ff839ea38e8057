#include "common/io/testing/block_device_contract.h"

#include "gtest/gtest.h"

namespace vmb::io::testing {
namespace {

std::string Pattern(uint64_t length, char seed) {
  std::string s(length, '\0');
  for (uint64_t i = 0; i < length; ++i) s[i] = static_cast<char>(seed + i * 7 + (i >> 9));
  return s;
}

}  // namespace

void ExpectBlockDeviceContract(BlockDevice& device, const ContractOptions& o) {
  const uint64_t u = o.alignment, size = device.size();
  ASSERT_GE(size, 16 * u) << "the contract needs a device of at least 16 units";
  EXPECT_EQ(size % u, 0u) << "size is whole units";
  std::string out;
  if (o.fresh_reads_zeros) {
    ASSERT_TRUE(device.Read(4 * u, 2 * u, &out).ok());
    EXPECT_EQ(out, std::string(2 * u, '\0')) << "unwritten space reads as zeros";
  }
  // First unit, a span of three units, the last unit.
  const std::string first = Pattern(u, 'a'), span = Pattern(3 * u, 'k'), last = Pattern(u, 'z');
  ASSERT_TRUE(device.Write(0, first).ok());
  ASSERT_TRUE(device.Write(8 * u, span).ok());
  ASSERT_TRUE(device.Write(size - u, last).ok());
  ASSERT_TRUE(device.Read(0, u, &out).ok());
  EXPECT_TRUE(out == first) << "the first unit reads back";
  ASSERT_TRUE(device.Read(8 * u, 3 * u, &out).ok());
  EXPECT_TRUE(out == span) << "a span of units reads back";
  ASSERT_TRUE(device.Read(9 * u, u, &out).ok());
  EXPECT_TRUE(out == span.substr(u, u)) << "a unit inside a span reads back alone";
  ASSERT_TRUE(device.Read(size - u, u, &out).ok());
  EXPECT_TRUE(out == last) << "the last unit reads back";
  // A rewrite of the middle unit leaves its neighbours alone.
  const std::string middle = Pattern(u, 'M');
  ASSERT_TRUE(device.Write(9 * u, middle).ok());
  ASSERT_TRUE(device.Read(8 * u, 3 * u, &out).ok());
  EXPECT_TRUE(out == span.substr(0, u) + middle + span.substr(2 * u)) << "a rewrite touches only its units";
  // Past the end: kOutOfRange, nothing changed.
  EXPECT_EQ(device.Read(size, u, &out).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(device.Read(size - u, 2 * u, &out).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(device.Write(size, Pattern(u, 'x')).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(device.Write(size - u, Pattern(2 * u, 'x')).code(), absl::StatusCode::kOutOfRange);
  ASSERT_TRUE(device.Read(size - u, u, &out).ok());
  EXPECT_TRUE(out == last) << "a refused write past the end changed the last unit";
  EXPECT_TRUE(device.Read(size, 0, &out).ok()) << "an empty read at the end";
  EXPECT_TRUE(out.empty());
  // Flush keeps everything.
  EXPECT_TRUE(device.Flush().ok());
  ASSERT_TRUE(device.Read(0, u, &out).ok());
  EXPECT_TRUE(out == first) << "data survives Flush";
}

absl::Status FaultyDevice::Read(uint64_t offset, uint64_t length, std::string* out) {
  absl::Status f = fault_("read", offset, length);
  return f.ok() ? inner_->Read(offset, length, out) : f;
}

absl::Status FaultyDevice::Write(uint64_t offset, absl::string_view data) {
  absl::Status f = fault_("write", offset, data.size());
  return f.ok() ? inner_->Write(offset, data) : f;
}

absl::Status FaultyDevice::Flush() {
  absl::Status f = fault_("flush", 0, 0);
  return f.ok() ? inner_->Flush() : f;
}

}  // namespace vmb::io::testing
