// The offline-seeding certificates this computer holds (CB_AzureADCertforOfflineSeeding_<id> in the agent's
// certificate store, `<THUMBPRINT>.crt` + `.prv`), and the choice certgen makes between reusing one and making a new
// key pair: a run while the application exists must not leave another key pair behind each time.
#ifndef VMBACKUP_OFFLINE_SEED_CERTGEN_LOCAL_CERTIFICATE_H_
#define VMBACKUP_OFFLINE_SEED_CERTGEN_LOCAL_CERTIFICATE_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/crypto/certificate.h"
#include "offline_seed/import_job/model.pb.h"

namespace vmb::offline {

inline constexpr char kCertificatePrefix[] = "CB_AzureADCertforOfflineSeeding_";

struct LocalCertificates {
  // Usable: the private key is there and belongs to it, and it is valid for at least another day. Newest first.
  std::vector<crypto::CertificateAndKey> usable;
  // Why the others are not, one line each ("<thumbprint>: expired on ...", "<thumbprint>: no private key ...").
  std::vector<std::string> unusable;
};

// Reads `store`; a missing folder holds none.
LocalCertificates ScanStore(const std::string& store, absl::Time now);

// The usable certificate the application holds (matched by thumbprint: its customKeyIdentifier, or the thumbprint
// of its `key`); null when it holds none of them. Points into `local`.
const crypto::CertificateAndKey* HeldByApplication(const LocalCertificates& local, const ie::proto::Application& app);

// Why a new key pair is needed: "none in <store>", or the reasons the ones there are unusable.
std::string WhyNew(const LocalCertificates& local, const std::string& store);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_CERTGEN_LOCAL_CERTIFICATE_H_
