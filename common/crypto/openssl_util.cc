#include "common/crypto/openssl_util.h"

#include <openssl/err.h>

#include "absl/strings/str_cat.h"

namespace vmb::crypto::internal {

std::string DrainOpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

absl::Status OpenSslError(absl::StatusCode code, absl::string_view what) {
  std::string detail = DrainOpenSslErrors();
  return absl::Status(code, detail.empty() ? std::string(what) : absl::StrCat(what, " (", detail, ")"));
}

OpenSslPtr<BIO> MemoryBio(absl::string_view data) {
  return OpenSslPtr<BIO>(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

}  // namespace vmb::crypto::internal
