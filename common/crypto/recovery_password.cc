#include "common/crypto/recovery_password.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/crypto/openssl_util.h"

namespace vmb::crypto {
namespace {

constexpr uint32_t kGroupLimit = 720896;  // 65536 * 11

absl::StatusOr<std::string> KeyWrap(absl::string_view kek, absl::string_view in, bool wrap) {
  if (kek.size() != 32) return absl::InvalidArgumentError("key-encryption key must be 32 bytes");
  internal::OpenSslPtr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (EVP_CipherInit_ex(ctx.get(), EVP_aes_256_wrap_pad(), nullptr, reinterpret_cast<const unsigned char*>(kek.data()),
                        nullptr, wrap ? 1 : 0) != 1) {
    return internal::OpenSslError(absl::StatusCode::kInternal, "AES key wrap setup failed");
  }
  std::string out(in.size() + 16, '\0');
  int len = 0;
  int final_len = 0;
  bool ok = EVP_CipherUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                             reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size())) == 1 &&
            EVP_CipherFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &final_len) == 1;
  if (!ok || len <= 0) {
    internal::DrainOpenSslErrors();
    if (!wrap) {
      return absl::PermissionDeniedError(
          "the recovery password does not unlock this key (wrong password, or the key blob was altered)");
    }
    return absl::InternalError("AES key wrap failed");
  }
  out.resize(static_cast<size_t>(len + final_len));
  return out;
}

}  // namespace

RecoveryPassword RecoveryPassword::Generate(RandomSource& random) {
  std::string bytes = random.Bytes(2 * kGroups);
  std::array<uint16_t, kGroups> values;
  for (int i = 0; i < kGroups; ++i) {
    values[i] = static_cast<uint16_t>(static_cast<unsigned char>(bytes[2 * i]) |
                                      (static_cast<unsigned char>(bytes[2 * i + 1]) << 8));
  }
  return RecoveryPassword(values);
}

absl::StatusOr<RecoveryPassword> RecoveryPassword::Parse(absl::string_view text) {
  std::vector<std::string> groups;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) groups.push_back(std::move(current));
    current.clear();
  };
  for (char c : absl::StripAsciiWhitespace(text)) {
    if (c == '-' || c == ' ') {
      flush();
    } else if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      current.push_back(c);
    } else {
      return absl::InvalidArgumentError(
          "recovery password may contain only digits and dashes (48 digits in 8 groups of 6)");
    }
  }
  flush();
  // 48 digits without separators are accepted too.
  if (groups.size() == 1 && groups[0].size() == 48) {
    std::string all = groups[0];
    groups.clear();
    for (int i = 0; i < kGroups; ++i) groups.push_back(all.substr(6 * i, 6));
  }
  if (groups.size() != kGroups) {
    return absl::InvalidArgumentError(
        absl::StrCat("recovery password must have 8 groups of 6 digits, got ", groups.size(), " groups"));
  }
  std::array<uint16_t, kGroups> values;
  for (int i = 0; i < kGroups; ++i) {
    const std::string& g = groups[i];
    if (g.size() != 6) {
      return absl::InvalidArgumentError(
          absl::StrCat("recovery password group ", i + 1, " has ", g.size(), " digits, expected 6"));
    }
    uint32_t v = static_cast<uint32_t>(std::stoul(g));
    if (v % 11 != 0) {
      return absl::InvalidArgumentError(absl::StrCat("recovery password group ", i + 1, " (", g,
                                                     ") is not a multiple of 11: check that group for a typo"));
    }
    if (v >= kGroupLimit) {
      return absl::InvalidArgumentError(absl::StrCat("recovery password group ", i + 1, " (", g,
                                                     ") is too large (must be below 720896): check for a typo"));
    }
    values[i] = static_cast<uint16_t>(v / 11);
  }
  return RecoveryPassword(values);
}

std::string RecoveryPassword::ToString() const {
  std::vector<std::string> groups;
  for (uint16_t v : values_) groups.push_back(absl::StrFormat("%06u", static_cast<uint32_t>(v) * 11));
  return absl::StrJoin(groups, "-");
}

std::string RecoveryPassword::KeyMaterial() const {
  std::string out;
  for (uint16_t v : values_) {
    out.push_back(static_cast<char>(v & 0xff));
    out.push_back(static_cast<char>(v >> 8));
  }
  return out;
}

KdfParams NewKdfParams(RandomSource& random) {
  KdfParams params;
  params.salt = random.Bytes(16);
  return params;
}

absl::StatusOr<std::string> DeriveKeyEncryptionKey(const RecoveryPassword& password, const KdfParams& params) {
  if (params.salt.size() < 16) return absl::InvalidArgumentError("KDF salt must be at least 16 bytes");
  std::string material = password.KeyMaterial();
  std::string kek(32, '\0');
  uint64_t max_mem = 128 * params.r * params.n * 2 + (1u << 20);
  if (EVP_PBE_scrypt(material.data(), material.size(), reinterpret_cast<const unsigned char*>(params.salt.data()),
                     params.salt.size(), params.n, params.r, params.p, max_mem,
                     reinterpret_cast<unsigned char*>(kek.data()), kek.size()) != 1) {
    return internal::OpenSslError(absl::StatusCode::kInvalidArgument, "scrypt key derivation failed (bad params?)");
  }
  return kek;
}

absl::StatusOr<std::string> WrapKey(absl::string_view kek, absl::string_view key) { return KeyWrap(kek, key, true); }

absl::StatusOr<std::string> UnwrapKey(absl::string_view kek, absl::string_view wrapped) {
  return KeyWrap(kek, wrapped, false);
}

}  // namespace vmb::crypto
