#include "offline_seed/certgen/certgen.h"

#include <dirent.h>

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
#include "pugixml.hpp"
#include "offline_seed/import_job/directory_client.h"

namespace vmb::offline {
namespace {

std::string AppName(const CertGenOptions& o) { return absl::StrCat("AzureOfflineBackup_", o.user_id); }

// Certificates in the store whose subject marks them as offline-seeding certificates.
std::vector<crypto::CertificateAndKey> StoreCertificates(const std::string& dir) {
  std::vector<crypto::CertificateAndKey> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  std::vector<std::string> thumbs;
  while (dirent* e = ::readdir(d)) {
    absl::string_view n = e->d_name;
    if (absl::ConsumeSuffix(&n, ".crt")) thumbs.emplace_back(n);
  }
  ::closedir(d);
  for (const std::string& t : thumbs) {
    absl::StatusOr<crypto::CertificateAndKey> c = crypto::LoadFromCertDir(dir, t);
    if (c.ok() && absl::StrContains(c->certificate.Subject(), "CB_AzureADCertforOfflineSeeding_")) {
      out.push_back(*std::move(c));
    }
  }
  return out;
}

absl::Status WriteParams(const std::string& path, const std::string& subscription, const ie::proto::Application& app,
                         const crypto::Certificate& cert, const std::string& storage_account = "") {
  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "utf-8";
  pugi::xml_node root = doc.append_child("OfflineApplicationParams");
  auto add = [&](const char* name, const std::string& value) { root.append_child(name).text().set(value.c_str()); };
  add("SubscriptionId", subscription);
  add("ApplicationDisplayName", app.displayname());
  add("ApplicationId", app.appid());
  add("ObjectId", app.id());
  add("CertificateSubject", cert.Subject());
  add("CertificateThumbprint", cert.Thumbprint());
  if (!storage_account.empty()) add("StorageAccountName", storage_account);
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
  OfflineApplicationParams p{root.child_value("SubscriptionId"), root.child_value("ApplicationId"),
                             root.child_value("CertificateThumbprint"), root.child_value("StorageAccountName")};
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
    if (out.count(key)) return absl::InvalidArgumentError(absl::StrCat("argument ", a.substr(0, colon), " given twice"));
    out[key] = a.substr(colon + 1);
  }
  return out;
}

absl::StatusOr<CreateResult> CreateNewApplication(const CertGenOptions& o, const std::string& subscription_id) {
  if (subscription_id.empty()) return absl::InvalidArgumentError("SubscriptionId is empty");
  if (o.user_id.empty()) return absl::InvalidArgumentError("no user id: pass --user-id (the Azure user id)");
  ie::DirectoryClient client(o.transport, o.graph_url.empty() ? o.control_plane : o.graph_url,
                            o.graph_token.empty() ? o.token : o.graph_token, o.clock);
  std::vector<crypto::CertificateAndKey> local = StoreCertificates(o.cert_store);
  absl::StatusOr<ie::proto::Application> existing = client.FindApplication(AppName(o));
  CreateResult result;
  if (existing.ok()) {
    for (const auto& kc : existing->keycredentials()) {
      for (const auto& c : local) {
        if (absl::EqualsIgnoreCase(kc.customkeyidentifier(), c.certificate.Thumbprint())) {
          result.params_path = o.output_dir + "/OfflineApplicationParams.xml";
          result.thumbprint = c.certificate.Thumbprint();
          result.reused = true;
          RETURN_IF_ERROR(WriteParams(result.params_path, subscription_id, *existing, c.certificate));
          return result;
        }
      }
    }
  } else if (existing.status().code() != absl::StatusCode::kNotFound) {
    return existing.status();
  }

  // A new certificate for this server.
  crypto::SelfSignedOptions so;
  so.common_name = absl::StrCat("CB_AzureADCertforOfflineSeeding_", crypto::Base16Encode(crypto::SecureRandom().Bytes(8)));
  so.not_before = o.clock->Now() - absl::Minutes(5);
  so.validity = absl::Hours(24 * 365 * 2);
  ASSIGN_OR_RETURN(crypto::CertificateAndKey pair, crypto::GenerateSelfSigned(so));
  ASSIGN_OR_RETURN(std::string thumb, crypto::WriteToCertDir(o.cert_store, pair));

  if (existing.ok()) {
    // The application exists with other credentials: the admin uploads ours by hand (seed 004, "manually upload").
    std::string cer = absl::StrCat(o.output_dir, "/", so.common_name, ".cer");
    RETURN_IF_ERROR(file::WriteFileAtomic(cer, pair.certificate.Der(), 0644));
    return absl::FailedPreconditionError(absl::StrCat(
        "the application ", AppName(o), " already exists with other credentials. To use it:\n",
        "  1. In the Azure portal: Azure Active Directory > App registrations > ", AppName(o),
        " > Certificates & secrets > Upload certificate: ", cer, "\n",
        "  2. Record the thumbprint on this server: write ", thumb, " to ", o.config_dir,
        "/AzureADAppCertThumbprint_", o.user_id, "\n",
        "  (or delete the application if it has no certificates or keys, and run CreateNewApplication again)"));
  }
  ie::proto::Application app;
  app.set_displayname(AppName(o));
  auto* kc = app.add_keycredentials();
  kc->set_customkeyidentifier(thumb);
  kc->set_type("AsymmetricX509Cert");
  kc->set_usage("Verify");
  kc->set_displayname(so.common_name);
  kc->set_key(crypto::Base64Encode(pair.certificate.Der()));
  kc->set_enddatetime(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", pair.certificate.NotAfter(), absl::UTCTimeZone()));
  ASSIGN_OR_RETURN(ie::proto::Application created, client.CreateApplication(app));
  result.params_path = o.output_dir + "/OfflineApplicationParams.xml";
  result.thumbprint = thumb;
  RETURN_IF_ERROR(WriteParams(result.params_path, subscription_id, created, pair.certificate));
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
                                                   subscription_id, "; run CreateNewApplication for this subscription"));
  }
  const std::string& thumb = params.thumbprint;
  if (!crypto::LoadFromCertDir(o.cert_store, thumb).ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "certificate ", thumb, " is not in this server's certificate store ", o.cert_store,
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
  RETURN_IF_ERROR(file::WriteFileAtomic(absl::StrCat(o.config_dir, "/AzureADAppCertThumbprint_", o.user_id), thumb + "\n", 0644));
  return path;
}

}  // namespace vmb::offline
