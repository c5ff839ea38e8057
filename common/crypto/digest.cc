#include "common/crypto/digest.h"

#include <openssl/hmac.h>

#include <cstdlib>

namespace vmb::crypto {
namespace {

const EVP_MD* MdFor(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kMd5:
      return EVP_md5();
    case DigestAlgorithm::kSha1:
      return EVP_sha1();
    case DigestAlgorithm::kSha256:
      return EVP_sha256();
  }
  return EVP_sha256();
}

std::string OneShot(DigestAlgorithm algorithm, absl::string_view data) {
  Digest d(algorithm);
  d.Update(data);
  return d.Finish();
}

}  // namespace

Digest::Digest(DigestAlgorithm algorithm) : md_(MdFor(algorithm)), ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), md_, nullptr) != 1) std::abort();  // out of memory only
}

void Digest::Update(absl::string_view data) { EVP_DigestUpdate(ctx_.get(), data.data(), data.size()); }

std::string Digest::Finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_.get(), out, &len);
  EVP_DigestInit_ex(ctx_.get(), md_, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Md5(absl::string_view data) { return OneShot(DigestAlgorithm::kMd5, data); }
std::string Sha1(absl::string_view data) { return OneShot(DigestAlgorithm::kSha1, data); }
std::string Sha256(absl::string_view data) { return OneShot(DigestAlgorithm::kSha256, data); }

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace vmb::crypto
