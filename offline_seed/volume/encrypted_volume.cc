#include "offline_seed/volume/encrypted_volume.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"

namespace vmb::offline {
namespace {

constexpr char kMagic[] = "vmbackup-offline-volume";

absl::StatusOr<crypto::KdfParams> KdfOf(const proto::VolumeHeader& h) {
  crypto::KdfParams p;
  ASSIGN_OR_RETURN(p.salt, crypto::Base64Decode(h.kdfsalt()));
  p.n = h.kdfn();
  p.r = h.kdfr();
  p.p = h.kdfp();
  return p;
}

}  // namespace

absl::StatusOr<Formatted> FormatVolume(io::BlockDevice& raw, const FormatOptions& o, crypto::RandomSource& random) {
  if (raw.size() < kHeaderSize + kDataUnit) {
    return absl::InvalidArgumentError(absl::StrCat("drive ", o.drive_id.empty() ? std::string("(unnamed)") : o.drive_id,
                                                   " holds ", raw.size(), " bytes; a prepared drive needs at least ",
                                                   kHeaderSize + kDataUnit, " bytes (use a larger drive)"));
  }
  if (o.drive_id.empty()) return absl::InvalidArgumentError("drive id is empty");
  crypto::RecoveryPassword password = crypto::RecoveryPassword::Generate(random);
  crypto::KdfParams kdf = crypto::NewKdfParams(random);
  kdf.n = o.kdf_n;
  std::string volume_key = random.Bytes(crypto::XtsCipher::kKeySize);
  ASSIGN_OR_RETURN(std::string kek, crypto::DeriveKeyEncryptionKey(password, kdf));
  ASSIGN_OR_RETURN(std::string wrapped, crypto::WrapKey(kek, volume_key));
  proto::VolumeHeader h;
  h.set_magic(kMagic);
  h.set_version(1);
  h.set_driveid(o.drive_id);
  h.set_jobname(o.job_name);
  h.set_dataoffset(kHeaderSize);
  h.set_datalength((raw.size() - kHeaderSize) / kDataUnit * kDataUnit);
  h.set_dataunit(kDataUnit);
  h.set_cipher("aes-256-xts");
  h.set_kdf("scrypt");
  h.set_kdfsalt(crypto::Base64Encode(kdf.salt));
  h.set_kdfn(kdf.n);
  h.set_kdfr(kdf.r);
  h.set_kdfp(kdf.p);
  h.set_wrappedkey(crypto::Base64Encode(wrapped));
  std::string block = json::ToJson(h);
  block.resize(kHeaderSize, '\0');
  RETURN_IF_ERROR(raw.Write(0, block));
  RETURN_IF_ERROR(raw.Flush());
  return Formatted{password, h};
}

absl::StatusOr<proto::VolumeHeader> ReadVolumeHeader(io::BlockDevice& raw) {
  std::string block;
  RETURN_IF_ERROR(raw.Read(0, std::min<uint64_t>(kHeaderSize, raw.size()), &block));
  block.resize(block.find('\0') == std::string::npos ? block.size() : block.find('\0'));
  proto::VolumeHeader h;
  if (block.empty() || !json::Parse(block, &h, "volume header").ok() || h.magic() != kMagic) {
    return absl::DataLossError("the drive holds no offline-seeding volume header (not prepared, or overwritten)");
  }
  if (h.version() != 1 || h.cipher() != "aes-256-xts" || h.dataunit() != kDataUnit) {
    return absl::UnimplementedError(absl::StrCat("volume header version ", h.version(), " / cipher ", h.cipher(),
                                                 " is not supported by this tool"));
  }
  return h;
}

absl::StatusOr<std::unique_ptr<EncryptedVolume>> EncryptedVolume::Unlock(io::BlockDevice& raw,
                                                                         const crypto::RecoveryPassword& password) {
  ASSIGN_OR_RETURN(proto::VolumeHeader h, ReadVolumeHeader(raw));
  ASSIGN_OR_RETURN(crypto::KdfParams kdf, KdfOf(h));
  ASSIGN_OR_RETURN(std::string kek, crypto::DeriveKeyEncryptionKey(password, kdf));
  ASSIGN_OR_RETURN(std::string wrapped, crypto::Base64Decode(h.wrappedkey()));
  absl::StatusOr<std::string> key = crypto::UnwrapKey(kek, wrapped);
  if (!key.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat("BitLockerKeyInvalid: the recovery password does not unlock drive ", h.driveid()));
  }
  return std::unique_ptr<EncryptedVolume>(new EncryptedVolume(raw, h, *std::move(key)));
}

absl::Status EncryptedVolume::CheckAligned(uint64_t offset, uint64_t length) const {
  if (offset % kDataUnit || length % kDataUnit) {
    return absl::InvalidArgumentError(
        absl::StrCat("encrypted volume access at ", offset, "+", length, " is not aligned to 4096-byte data units"));
  }
  return io::CheckRange(size(), offset, length);
}

absl::Status EncryptedVolume::Read(uint64_t offset, uint64_t length, std::string* out) {
  RETURN_IF_ERROR(CheckAligned(offset, length));
  RETURN_IF_ERROR(raw_.Read(header_.dataoffset() + offset, length, out));
  ASSIGN_OR_RETURN(crypto::XtsCipher xts, crypto::XtsCipher::Create(key_, kDataUnit));
  return xts.DecryptSectors(offset / kDataUnit, out->data(), out->size());
}

absl::Status EncryptedVolume::Write(uint64_t offset, absl::string_view data) {
  RETURN_IF_ERROR(CheckAligned(offset, data.size()));
  std::string buf(data);
  ASSIGN_OR_RETURN(crypto::XtsCipher xts, crypto::XtsCipher::Create(key_, kDataUnit));
  RETURN_IF_ERROR(xts.EncryptSectors(offset / kDataUnit, buf.data(), buf.size()));
  return raw_.Write(header_.dataoffset() + offset, buf);
}

std::string DriveHeaderHash(const proto::VolumeHeader& header) {
  return crypto::Base16Encode(crypto::Sha256(json::ToJson(header)), /*upper=*/true);
}

std::string DriveIdFromSerial(const std::string& serial) {
  std::string out;
  for (char c : absl::StripAsciiWhitespace(serial)) {
    out.push_back(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '-');
  }
  return out;
}

}  // namespace vmb::offline
