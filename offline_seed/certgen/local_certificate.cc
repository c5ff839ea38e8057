#include "offline_seed/certgen/local_certificate.h"

#include <dirent.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"

namespace vmb::offline {
namespace {

// The thumbprints of the certificates in `dir` (<thumbprint>.crt), sorted; none when it cannot be read.
std::vector<std::string> CrtNames(const std::string& dir) {
  std::vector<std::string> out;
  for (absl::string_view n : file::ListDir(dir).value_or(std::vector<std::string>{})) {
    if (absl::ConsumeSuffix(&n, ".crt")) out.emplace_back(n);
  }
  std::sort(out.begin(), out.end());  // by thumbprint (the names' order differs once ".crt" is cut off)
  return out;
}

std::string Day(absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()); }

}  // namespace

LocalCertificates ScanStore(const std::string& store, absl::Time now) {
  LocalCertificates out;
  for (const std::string& thumb : CrtNames(store)) {
    absl::StatusOr<std::string> pem = file::ReadFile(absl::StrCat(store, "/", thumb, ".crt"));
    absl::StatusOr<crypto::Certificate> cert =
        pem.ok() ? crypto::Certificate::FromPem(*pem) : absl::StatusOr<crypto::Certificate>(pem.status());
    if (!cert.ok() || !absl::StrContains(cert->Subject(), kCertificatePrefix)) continue;  // not ours
    if (cert->NotAfter() < now + absl::Hours(24)) {
      out.unusable.push_back(absl::StrCat(thumb, ": expired on ", Day(cert->NotAfter())));
      continue;
    }
    absl::StatusOr<crypto::CertificateAndKey> pair = crypto::LoadFromCertDir(store, thumb);
    if (!pair.ok()) {
      // The message names the file, never the key's bytes.
      out.unusable.push_back(
          absl::StrCat(thumb, ": its private key is missing or unusable (", pair.status().message(), ")"));
      continue;
    }
    out.usable.push_back(*std::move(pair));
  }
  // Newest first: the one made last is the one a pending manual upload is about.
  std::stable_sort(out.usable.begin(), out.usable.end(),
                   [](const auto& a, const auto& b) { return a.certificate.NotAfter() > b.certificate.NotAfter(); });
  return out;
}

const crypto::CertificateAndKey* HeldByApplication(const LocalCertificates& local, const ie::proto::Application& app) {
  for (const auto& kc : app.keycredentials()) {
    std::string thumb = kc.customkeyidentifier();
    if (!kc.key().empty()) {
      absl::StatusOr<std::string> der = crypto::Base64Decode(kc.key());
      absl::StatusOr<crypto::Certificate> cert =
          der.ok() ? crypto::Certificate::FromDer(*der) : absl::StatusOr<crypto::Certificate>(der.status());
      if (cert.ok()) thumb = cert->Thumbprint();
    }
    for (const auto& c : local.usable) {
      if (absl::EqualsIgnoreCase(thumb, c.certificate.Thumbprint())) {
        return &c;
      }
    }
  }
  return nullptr;
}

std::string WhyNew(const LocalCertificates& local, const std::string& store) {
  if (local.unusable.empty()) return absl::StrCat("no offline-seeding certificate in ", store);
  return absl::StrCat("none usable in ", store, ": ", absl::StrJoin(local.unusable, "; "));
}

}  // namespace vmb::offline
