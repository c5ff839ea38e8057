#include "offline_seed/certgen/certgen.h"

#include <optional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/crypto/certificate.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"
#include "offline_seed/certgen/local_certificate.h"
#include "offline_seed/certgen/user_id.h"
#include "offline_seed/import_job/directory_client.h"
#include "pugixml.hpp"

namespace vmb::offline {
namespace {

std::string AppName(const std::string& user_id) { return absl::StrCat("AzureOfflineBackup_", user_id); }

ie::DirectoryClient Directory(const CertGenOptions& o) {
  return ie::DirectoryClient(o.transport, o.graph_url.empty() ? o.control_plane : o.graph_url,
                             o.graph_token.empty() ? o.token : o.graph_token, o.clock);
}

absl::Status WriteParams(const std::string& path, const std::string& subscription, const std::string& user_id,
                         const ie::proto::Application& app, const crypto::Certificate& cert) {
  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "utf-8";
  pugi::xml_node root = doc.append_child("OfflineApplicationParams");
  auto add = [&](const char* name, const std::string& value) { root.append_child(name).text().set(value.c_str()); };
  add("SubscriptionId", subscription);
  add("UserId", user_id);
  add("ApplicationDisplayName", app.displayname());
  add("ApplicationId", app.appid());
  add("ObjectId", app.id());
  add("CertificateSubject", cert.Subject());
  add("CertificateThumbprint", cert.Thumbprint());
  std::ostringstream out;
  doc.save(out, "  ");
  return file::WriteFileAtomic(path, out.str(), 0644);
}

}  // namespace

absl::StatusOr<OfflineApplicationParams> ParseOfflineApplicationParams(absl::string_view text, absl::string_view name) {
  pugi::xml_document doc;
  if (!doc.load_buffer(text.data(), text.size()) || !doc.child("OfflineApplicationParams")) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is not an OfflineApplicationParams.xml file"));
  }
  pugi::xml_node root = doc.child("OfflineApplicationParams");
  OfflineApplicationParams p{root.child_value("SubscriptionId"),
                             root.child_value("ApplicationId"),
                             root.child_value("CertificateThumbprint"),
                             root.child_value("StorageAccountName"),
                             root.child_value("UserId"),
                             root.child_value("ApplicationDisplayName")};
  absl::string_view suffix = p.application_name;
  if (p.user_id.empty() && absl::ConsumePrefix(&suffix, "AzureOfflineBackup_")) p.user_id = std::string(suffix);
  if (p.subscription_id.empty()) return absl::InvalidArgumentError(absl::StrCat(name, " has no <SubscriptionId>"));
  if (p.thumbprint.size() != 40 || !crypto::Base16Decode(absl::AsciiStrToUpper(p.thumbprint)).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": <CertificateThumbprint> is not 40 hex digits; run CreateNewApplication again"));
  }
  return p;
}

absl::StatusOr<std::map<std::string, std::string>> ParseKeyValueArgs(const std::vector<std::string>& args) {
  std::map<std::string, std::string> out;
  for (const std::string& a : args) {
    size_t colon = a.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == a.size()) {
      return absl::InvalidArgumentError(absl::StrCat("argument \"", a, "\" is not of the form Key:Value"));
    }
    std::string key = absl::AsciiStrToLower(a.substr(0, colon));
    if (out.count(key))
      return absl::InvalidArgumentError(absl::StrCat("argument ", a.substr(0, colon), " given twice"));
    out[key] = a.substr(colon + 1);
  }
  return out;
}

namespace {

// A new key pair and self-signed certificate in the store; `why` says why none could be reused.
absl::StatusOr<crypto::CertificateAndKey> NewCertificate(const CertGenOptions& o) {
  crypto::SelfSignedOptions so;
  so.common_name = absl::StrCat(kCertificatePrefix, crypto::Base16Encode(crypto::SecureRandom().Bytes(8)));
  so.not_before = o.clock->Now() - absl::Minutes(5);
  so.validity = absl::Hours(24 * 365 * 2);
  ASSIGN_OR_RETURN(crypto::CertificateAndKey pair, crypto::GenerateSelfSigned(so));
  RETURN_IF_ERROR(crypto::WriteToCertDir(o.cert_store, pair).status());
  return pair;
}

// The application exists without our certificate: the admin finishes by hand (seed 004, "Manually upload an offline
// backup certificate"). The .cer (public part only) is written for the upload.
absl::Status ManualSteps(const CertGenOptions& o, const std::string& user_id, const ie::proto::Application& app,
                         const crypto::Certificate& cert) {
  std::string cn = cert.Subject().substr(cert.Subject().find(kCertificatePrefix));
  std::string cer = absl::StrCat(o.output_dir, "/", cn, ".cer");
  RETURN_IF_ERROR(file::WriteFileAtomic(cer, cert.Der(), 0644));
  std::string name = AppName(user_id);
  std::string delete_step =
      app.keycredentials_size() == 0
          ? absl::StrCat(
                "It has no certificates or keys, so it can be deleted safely: Azure Active Directory > App "
                "registrations > Owned applications > ",
                name,
                " > Overview > Delete; then run "
                "CreateNewApplication again (it reuses certificate ",
                cert.Thumbprint(), "). Or:\n")
          : absl::StrCat("It holds ", app.keycredentials_size(),
                         " other certificate(s) or key(s): do not delete it.\n");
  return absl::FailedPreconditionError(
      absl::StrCat("the application ", name, " already exists without this server's certificate ", cert.Thumbprint(),
                   ". ", delete_step, "  1. In the Azure portal: Azure Active Directory > App registrations > ", name,
                   " > Certificates & secrets > Upload certificate: ", cer, "\n",
                   "  2. Record the thumbprint on this server: write ", cert.Thumbprint(), " to ", o.config_dir,
                   "/AzureADAppCertThumbprint_", user_id, " (AddRegistryEntries does this too)\n",
                   "  3. Run CreateNewApplication again: it finds the uploaded certificate and writes "
                   "OfflineApplicationParams.xml"));
}

}  // namespace

absl::StatusOr<CreateResult> CreateNewApplication(const CertGenOptions& o, const std::string& subscription_id) {
  if (subscription_id.empty()) return absl::InvalidArgumentError("SubscriptionId is empty");
  ie::DirectoryClient client = Directory(o);
  CreateResult result;
  ASSIGN_OR_RETURN(result.user_id, ResolveUserId(o.user_id, o.graph_token.empty() ? o.token : o.graph_token, client));
  const std::string name = AppName(result.user_id);
  result.params_path = o.output_dir + "/OfflineApplicationParams.xml";
  LocalCertificates local = ScanStore(o.cert_store, o.clock->Now());
  absl::StatusOr<ie::proto::Application> existing = client.FindApplication(name);
  if (!existing.ok() && existing.status().code() != absl::StatusCode::kNotFound) return existing.status();
  if (existing.ok()) {
    if (const crypto::CertificateAndKey* held = HeldByApplication(local, *existing)) {
      result.thumbprint = held->certificate.Thumbprint();
      result.reused = true;
      result.note =
          absl::StrCat("reused certificate ", result.thumbprint, " from ", o.cert_store, " (the application holds it)");
      RETURN_IF_ERROR(WriteParams(result.params_path, subscription_id, result.user_id, *existing, held->certificate));
      return result;
    }
  }
  // This computer's newest usable certificate (from an earlier run whose manual steps are pending, or whose
  // application was deleted), else a new one.
  std::optional<crypto::CertificateAndKey> made;
  if (local.usable.empty()) {
    result.note = absl::StrCat("made a new certificate: ", WhyNew(local, o.cert_store));
    ASSIGN_OR_RETURN(made, NewCertificate(o));
  } else {
    result.reused = true;
    result.note = absl::StrCat("reused certificate ", local.usable[0].certificate.Thumbprint(), " from ", o.cert_store);
  }
  const crypto::Certificate& cert = made ? made->certificate : local.usable[0].certificate;
  result.thumbprint = cert.Thumbprint();
  if (existing.ok()) return ManualSteps(o, result.user_id, *existing, cert);
  ie::proto::Application app;
  app.set_displayname(name);
  auto* kc = app.add_keycredentials();
  kc->set_customkeyidentifier(result.thumbprint);
  kc->set_type("AsymmetricX509Cert");
  kc->set_usage("Verify");
  kc->set_displayname(cert.Subject().substr(cert.Subject().find(kCertificatePrefix)));
  kc->set_key(crypto::Base64Encode(cert.Der()));
  kc->set_enddatetime(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", cert.NotAfter(), absl::UTCTimeZone()));
  ASSIGN_OR_RETURN(ie::proto::Application created, client.CreateApplication(app));
  RETURN_IF_ERROR(WriteParams(result.params_path, subscription_id, result.user_id, created, cert));
  return result;
}

absl::StatusOr<std::string> AddRegistryEntries(const CertGenOptions& o, const std::string& subscription_id,
                                               const std::string& xml_path, const std::string& storage_account) {
  if (storage_account.empty()) return absl::InvalidArgumentError("storageaccountname is empty");
  ASSIGN_OR_RETURN(std::string text, file::ReadFile(xml_path));
  ASSIGN_OR_RETURN(OfflineApplicationParams params, ParseOfflineApplicationParams(text, xml_path));
  pugi::xml_document doc;
  doc.load_buffer(text.data(), text.size());
  pugi::xml_node root = doc.child("OfflineApplicationParams");
  const std::string& xml_sub = params.subscription_id;
  if (!absl::EqualsIgnoreCase(xml_sub, subscription_id)) {
    return absl::InvalidArgumentError(absl::StrCat(xml_path, " was made for subscription ", xml_sub, ", not ",
                                                   subscription_id,
                                                   "; run CreateNewApplication for this subscription"));
  }
  const std::string& thumb = params.thumbprint;
  if (!crypto::LoadFromCertDir(o.cert_store, thumb).ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("certificate ", thumb, " is not in this server's certificate store ", o.cert_store,
                     "; copy its .crt and .prv (mode 0600) from the computer where CreateNewApplication ran"));
  }
  root.remove_child("StorageAccountName");
  root.append_child("StorageAccountName").text().set(storage_account.c_str());
  std::ostringstream out;
  doc.save(out, "  ");
  RETURN_IF_ERROR(file::MakeDirs(o.scratch_dir));
  std::string path = absl::StrCat(o.scratch_dir, "/OfflineApplicationParams_", storage_account, ".xml");
  RETURN_IF_ERROR(file::WriteFileAtomic(path, out.str(), 0644));
  RETURN_IF_ERROR(file::MakeDirs(o.config_dir));
  const std::string& user_id = o.user_id.empty() ? params.user_id : o.user_id;
  if (user_id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(xml_path, " names no Azure user id; pass --user-id <object id>"));
  }
  RETURN_IF_ERROR(
      file::WriteFileAtomic(absl::StrCat(o.config_dir, "/AzureADAppCertThumbprint_", user_id), thumb + "\n", 0644));
  return path;
}

absl::StatusOr<OfflineApplicationParams> ReadRegisteredApplication(const std::string& scratch_dir,
                                                                   const std::string& subscription_id,
                                                                   const std::string& storage_account) {
  std::string path = absl::StrCat(scratch_dir, "/OfflineApplicationParams_", storage_account, ".xml");
  absl::StatusOr<std::string> text = file::ReadFile(path);
  if (!text.ok()) {
    return absl::NotFoundError(
        absl::StrCat("no offline application registered for storage account ", storage_account, " (", path, ": ",
                     text.status().message(), "); run `certgen AddRegistryEntries SubscriptionId:", subscription_id,
                     " xmlfilepath:<OfflineApplicationParams.xml> storageaccountname:", storage_account, "`"));
  }
  ASSIGN_OR_RETURN(OfflineApplicationParams p, ParseOfflineApplicationParams(*text, path));
  if (!absl::EqualsIgnoreCase(p.subscription_id, subscription_id)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " registers the offline application of subscription ",
                                                   p.subscription_id, ", not ", subscription_id,
                                                   "; run certgen CreateNewApplication and AddRegistryEntries for it"));
  }
  if (p.storage_account != storage_account) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is for storage account \"", p.storage_account,
                                                   "\"; run certgen AddRegistryEntries again for ", storage_account));
  }
  return p;
}

}  // namespace vmb::offline
