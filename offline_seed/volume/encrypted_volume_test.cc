#include "offline_seed/volume/encrypted_volume.h"

#include "common/crypto/random.h"
#include "common/crypto/xts.h"
#include "common/io/memory_device.h"
#include "common/io/testing/block_device_contract.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

// An unlocked volume is a BlockDevice like any other (its never-written space decrypts to noise, not zeros).
TEST(EncryptedVolume, KeepsTheBlockDeviceContract) {
  io::MemoryDevice raw(8u << 20);
  absl::StatusOr<Formatted> f = FormatVolume(raw, FormatOptions{"9CA995BA", "seedjob1", 1u << 10});
  ASSERT_TRUE(f.ok()) << f.status();
  auto volume = EncryptedVolume::Unlock(raw, f->password);
  ASSERT_TRUE(volume.ok()) << volume.status();
  io::testing::ContractOptions o;
  o.fresh_reads_zeros = false;
  io::testing::ExpectBlockDeviceContract(**volume, o);
}

TEST(EncryptedVolume, FormatWriteUnlockRead) {
  io::MemoryDevice raw(8u << 20);
  FormatOptions o{"9CA995BA", "seedjob1", 1u << 10};
  absl::StatusOr<Formatted> f = FormatVolume(raw, o);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->header.datalength(), 7u << 20);
  std::string plain = crypto::SecureRandom().Bytes(64 * 1024);
  {
    auto volume = EncryptedVolume::Unlock(raw, f->password);
    ASSERT_TRUE(volume.ok()) << volume.status();
    ASSERT_THAT((*volume)->Write(8192, plain), IsOk());
  }
  // The raw drive never holds the plaintext or the key; the header names drive and job without the password.
  std::string all = raw.Snapshot();
  EXPECT_EQ(all.find(plain.substr(0, 64)), std::string::npos);
  absl::StatusOr<proto::VolumeHeader> h = ReadVolumeHeader(raw);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->driveid(), "9CA995BA");
  EXPECT_EQ(h->jobname(), "seedjob1");
  EXPECT_EQ(all.find(f->password.ToString()), std::string::npos);

  // Unlock with the password (parsed back from its printed form, as the datacenter gets it).
  auto again = EncryptedVolume::Unlock(raw, *crypto::RecoveryPassword::Parse(f->password.ToString()));
  ASSERT_TRUE(again.ok());
  std::string back;
  ASSERT_THAT((*again)->Read(8192, plain.size(), &back), IsOk());
  EXPECT_TRUE(back == plain);
  EXPECT_THAT((*again)->Read(100, 4096, &back), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("4096")));

  // A wrong password is refused, by name.
  EXPECT_THAT(EncryptedVolume::Unlock(raw, crypto::RecoveryPassword::Generate(crypto::SecureRandom())),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("BitLockerKeyInvalid")));
}

TEST(EncryptedVolume, UnpreparedOrTinyDrivesAreNamed) {
  io::MemoryDevice blank(4u << 20);
  EXPECT_THAT(ReadVolumeHeader(blank), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("no offline-seeding volume")));
  io::MemoryDevice tiny(1u << 20);
  EXPECT_THAT(FormatVolume(tiny, FormatOptions{"d", "j", 1024}), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace vmb::offline
