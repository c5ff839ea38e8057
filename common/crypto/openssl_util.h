// Small RAII and error helpers shared by the OpenSSL wrappers in common/crypto. Not a public API.
#ifndef VMBACKUP_COMMON_CRYPTO_OPENSSL_UTIL_H_
#define VMBACKUP_COMMON_CRYPTO_OPENSSL_UTIL_H_

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vmb::crypto::internal {

struct OpenSslDeleter {
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(CMS_ContentInfo* p) const { CMS_ContentInfo_free(p); }
  void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
  void operator()(EVP_MAC* p) const { EVP_MAC_free(p); }
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};

template <typename T>
using OpenSslPtr = std::unique_ptr<T, OpenSslDeleter>;

// Drains OpenSSL's thread-local error queue into one readable line ("" when empty).
std::string DrainOpenSslErrors();

// Status with `what` plus whatever OpenSSL queued, e.g. "CMS decrypt: error:...:no matching recipient".
absl::Status OpenSslError(absl::StatusCode code, absl::string_view what);

// A read-only memory BIO over `data` (which must outlive the BIO).
OpenSslPtr<BIO> MemoryBio(absl::string_view data);

// Everything written into a memory BIO.
std::string BioContents(BIO* bio);

}  // namespace vmb::crypto::internal

#endif  // VMBACKUP_COMMON_CRYPTO_OPENSSL_UTIL_H_
