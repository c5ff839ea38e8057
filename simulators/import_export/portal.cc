#include "simulators/import_export/portal.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/certificate.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"

namespace vmb::ie {

absl::StatusOr<proto::Application> PortalShow(DirectoryClient& directory, const std::string& display_name) {
  return directory.FindApplication(display_name);
}

absl::Status PortalDeleteIfNoKeys(DirectoryClient& directory, const std::string& display_name) {
  ASSIGN_OR_RETURN(proto::Application app, directory.FindApplication(display_name));
  if (app.keycredentials_size() > 0) {
    return absl::FailedPreconditionError(absl::StrCat(display_name, " has ", app.keycredentials_size(),
                                                      " certificate(s) or key(s); it is not safe to delete: "
                                                      "upload this server's certificate instead"));
  }
  return directory.DeleteApplication(app.id());
}

absl::StatusOr<std::string> PortalUploadCertificate(DirectoryClient& directory, const std::string& display_name,
                                                    const std::string& cer_path) {
  ASSIGN_OR_RETURN(std::string der, file::ReadFile(cer_path));
  absl::StatusOr<crypto::Certificate> cert = crypto::Certificate::FromDer(der);
  if (!cert.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(cer_path,
                                                   " is not a DER certificate (.cer, exported without "
                                                   "the private key)"));
  }
  ASSIGN_OR_RETURN(proto::Application app, directory.FindApplication(display_name));
  std::vector<proto::KeyCredential> keys(app.keycredentials().begin(), app.keycredentials().end());
  for (const auto& k : keys) {
    if (absl::EqualsIgnoreCase(k.customkeyidentifier(), cert->Thumbprint())) return cert->Thumbprint();
  }
  // As the portal sends it: the certificate only; the directory derives the thumbprint and the end date.
  proto::KeyCredential upload;
  upload.set_key(crypto::Base64Encode(der));
  upload.set_displayname(cert->Subject());
  keys.push_back(upload);
  RETURN_IF_ERROR(directory.SetKeyCredentials(app.id(), keys));
  return cert->Thumbprint();
}

}  // namespace vmb::ie
