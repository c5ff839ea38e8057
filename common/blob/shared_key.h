// Shared Key authorization (the account name + key scheme) and service SAS generation for Blob storage.
// Both are HMAC-SHA256 over a canonical string; the string is exposed so tests compare it, byte for byte, with the
// one Microsoft's SDK builds (testdata/blob/signing_vectors.tsv, made by tools/vectors/make_signing_vectors.js).
#ifndef VMBACKUP_COMMON_BLOB_SHARED_KEY_H_
#define VMBACKUP_COMMON_BLOB_SHARED_KEY_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/http/http_transport.h"

namespace vmb::blob {

// The REST version this client speaks (x-ms-version) and signs SAS tokens for.
inline constexpr absl::string_view kStorageVersion = "2021-08-06";

class SharedKeyCredential {
 public:
  // `key_base64` is the account key as the portal shows it. kInvalidArgument for an empty account or a key that is
  // not base64; the message never includes the key.
  static absl::StatusOr<SharedKeyCredential> Create(absl::string_view account, absl::string_view key_base64);

  const std::string& account() const { return account_; }

  // The canonical string for `request` (which must carry x-ms-date or Date).
  std::string StringToSign(const http::HttpRequest& request) const;
  // Adds "Authorization: SharedKey <account>:<signature>".
  void Sign(http::HttpRequest* request) const;

  std::string Hmac(absl::string_view string_to_sign) const;  // base64

 private:
  SharedKeyCredential(std::string account, std::string key) : account_(std::move(account)), key_(std::move(key)) {}
  std::string account_;
  std::string key_;  // raw bytes
};

// RFC 1123 date for x-ms-date: "Sun, 22 Nov 2026 13:44:51 GMT".
std::string HttpDate(absl::Time t);

struct SasOptions {
  std::string container;
  std::string blob;         // empty: a container SAS (sr=c)
  std::string snapshot;     // non-empty: a snapshot SAS (sr=bs)
  std::string permissions;  // in canonical order, e.g. "racwdl" subsets: "rw", "rl"
  std::optional<absl::Time> start;
  absl::Time expiry;
};

struct SasToken {
  std::string query;           // "sv=...&st=...&se=...&sr=b&sp=rw&sig=..." (append to the resource URL)
  std::string string_to_sign;  // for tests
};

// A service SAS for a blob, snapshot or container, version kStorageVersion.
absl::StatusOr<SasToken> MakeServiceSas(const SharedKeyCredential& credential, const SasOptions& options);

}  // namespace vmb::blob

#endif  // VMBACKUP_COMMON_BLOB_SHARED_KEY_H_
