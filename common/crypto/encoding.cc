#include "common/crypto/encoding.h"

#include <openssl/evp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace vmb::crypto {

std::string Base64Encode(absl::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

absl::StatusOr<std::string> Base64Decode(absl::string_view text) {
  std::string compact;
  compact.reserve(text.size());
  size_t padding = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) continue;
    bool in_alphabet = absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
    if (c == '=') {
      ++padding;
    } else if (!in_alphabet) {
      return absl::InvalidArgumentError(absl::StrCat("invalid base64: character '",
                                                     absl::CEscape(absl::string_view(&c, 1)), "' at offset ", i,
                                                     " is not in the base64 alphabet"));
    } else if (padding > 0) {
      return absl::InvalidArgumentError(absl::StrCat("invalid base64: data after '=' padding at offset ", i));
    }
    compact.push_back(c);
  }
  if (compact.size() % 4 != 0 || padding > 2) {
    return absl::InvalidArgumentError(absl::StrCat("invalid base64: ", compact.size(),
                                                   " significant characters is not a multiple of 4 (truncated?)"));
  }
  std::string out(compact.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(compact.data()), static_cast<int>(compact.size()));
  if (n < 0) return absl::InvalidArgumentError("invalid base64");
  out.resize(static_cast<size_t>(n) - padding);  // EVP_DecodeBlock counts padding bytes as zeros.
  return out;
}

std::string Base16Encode(absl::string_view data, bool upper) {
  std::string hex = absl::BytesToHexString(data);
  if (upper) absl::AsciiStrToUpper(&hex);
  return hex;
}

absl::StatusOr<std::string> Base16Decode(absl::string_view text) {
  if (text.size() % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat("invalid hex: odd length ", text.size()));
  }
  for (size_t i = 0; i < text.size(); ++i) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(text[i]))) {
      return absl::InvalidArgumentError(absl::StrCat("invalid hex: non-hex character at offset ", i));
    }
  }
  return absl::HexStringToBytes(text);
}

}  // namespace vmb::crypto
