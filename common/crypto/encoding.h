// Base64 (RFC 4648, standard alphabet, as Azure uses it for settings, MD5 headers and block ids) and base16.
#ifndef VMBACKUP_COMMON_CRYPTO_ENCODING_H_
#define VMBACKUP_COMMON_CRYPTO_ENCODING_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmb::crypto {

std::string Base64Encode(absl::string_view data);

// Decodes standard base64. ASCII whitespace (line breaks in PEM-like or pasted input) is ignored; anything else
// outside the alphabet, a wrong length or misplaced padding is kInvalidArgument naming the offending position.
absl::StatusOr<std::string> Base64Decode(absl::string_view text);

// Lower-case hex by default; `upper` for thumbprints.
std::string Base16Encode(absl::string_view data, bool upper = false);

// Accepts upper or lower case; odd length or a non-hex character is kInvalidArgument.
absl::StatusOr<std::string> Base16Decode(absl::string_view text);

}  // namespace vmb::crypto

#endif  // VMBACKUP_COMMON_CRYPTO_ENCODING_H_
