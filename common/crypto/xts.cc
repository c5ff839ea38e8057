#include "common/crypto/xts.h"

#include "absl/strings/str_cat.h"

namespace vmb::crypto {

absl::StatusOr<XtsCipher> XtsCipher::Create(absl::string_view key, size_t sector_size) {
  if (key.size() != kKeySize) {
    return absl::InvalidArgumentError(absl::StrCat("AES-256-XTS key must be 64 bytes, got ", key.size()));
  }
  if (sector_size < 16 || sector_size % 16 != 0) {
    return absl::InvalidArgumentError(absl::StrCat("XTS sector size must be a multiple of 16, got ", sector_size));
  }
  if (key.substr(0, 32) == key.substr(32)) {
    return absl::InvalidArgumentError("AES-256-XTS key halves must differ (IEEE 1619)");
  }
  internal::OpenSslPtr<EVP_CIPHER_CTX> enc(EVP_CIPHER_CTX_new());
  internal::OpenSslPtr<EVP_CIPHER_CTX> dec(EVP_CIPHER_CTX_new());
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  if (!enc || !dec || EVP_EncryptInit_ex(enc.get(), EVP_aes_256_xts(), nullptr, k, nullptr) != 1 ||
      EVP_DecryptInit_ex(dec.get(), EVP_aes_256_xts(), nullptr, k, nullptr) != 1) {
    return internal::OpenSslError(absl::StatusCode::kInvalidArgument, "AES-256-XTS key setup failed");
  }
  return XtsCipher(sector_size, std::move(enc), std::move(dec));
}

absl::Status XtsCipher::EncryptSectors(uint64_t first_sector, char* data, size_t size) {
  return Run(enc_.get(), first_sector, data, size);
}

absl::Status XtsCipher::DecryptSectors(uint64_t first_sector, char* data, size_t size) {
  return Run(dec_.get(), first_sector, data, size);
}

absl::Status XtsCipher::Run(EVP_CIPHER_CTX* ctx, uint64_t first_sector, char* data, size_t size) {
  if (size % sector_size_ != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("XTS input of ", size, " bytes is not a whole number of ", sector_size_, "-byte sectors"));
  }
  unsigned char tweak[16] = {0};
  for (size_t off = 0; off < size; off += sector_size_) {
    uint64_t sector = first_sector + off / sector_size_;
    for (int i = 0; i < 8; ++i) tweak[i] = static_cast<unsigned char>(sector >> (8 * i));
    auto* p = reinterpret_cast<unsigned char*>(data + off);
    int out_len = 0;
    if (EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, tweak, -1) != 1 ||
        EVP_CipherUpdate(ctx, p, &out_len, p, static_cast<int>(sector_size_)) != 1) {
      return internal::OpenSslError(absl::StatusCode::kInternal, "AES-256-XTS failed");
    }
  }
  return absl::OkStatus();
}

}  // namespace vmb::crypto
