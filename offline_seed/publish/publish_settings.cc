#include "offline_seed/publish/publish_settings.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"
#include "pugixml.hpp"

namespace vmb::offline {

absl::StatusOr<std::vector<PublishedSubscription>> ReadPublishSettings(const std::string& path) {
  absl::StatusOr<std::string> text = file::ReadFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("cannot read the publish settings file: ", text.status().message()));
  }
  return ParsePublishSettings(*text, path);
}

absl::StatusOr<std::vector<PublishedSubscription>> ParsePublishSettings(absl::string_view text,
                                                                        absl::string_view path) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(text.data(), text.size());
  if (!parsed || !doc.child("PublishData")) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a .publishsettings file (no <PublishData>)"));
  }
  std::vector<PublishedSubscription> out;
  for (pugi::xml_node profile : doc.child("PublishData").children("PublishProfile")) {
    for (pugi::xml_node sub : profile.children("Subscription")) {
      PublishedSubscription s;
      s.id = sub.attribute("Id").value();
      s.name = sub.attribute("Name").value();
      s.management_url = sub.attribute("ServiceManagementUrl") ? sub.attribute("ServiceManagementUrl").value()
                                                               : profile.attribute("Url").value();
      s.certificate_base64 = sub.attribute("ManagementCertificate")
                                 ? sub.attribute("ManagementCertificate").value()
                                 : profile.attribute("ManagementCertificate").value();
      if (s.id.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": a <Subscription> has no Id"));
      out.push_back(std::move(s));
    }
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(path, " lists no subscription"));
  return out;
}

absl::StatusOr<SubscriptionCredential> LoadSubscription(const std::string& path, const std::string& id) {
  ASSIGN_OR_RETURN(std::vector<PublishedSubscription> subs, ReadPublishSettings(path));
  std::vector<std::string> present;
  for (const PublishedSubscription& s : subs) {
    if (!absl::EqualsIgnoreCase(s.id, id)) {
      present.push_back(absl::StrCat(s.name, " (", s.id, ")"));
      continue;
    }
    if (s.certificate_base64.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": subscription ", s.name, " has no ManagementCertificate"));
    }
    absl::StatusOr<std::string> der = crypto::Base64Decode(s.certificate_base64);
    if (!der.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": the management certificate of ", s.name, " is not base64"));
    }
    absl::StatusOr<crypto::CertificateAndKey> cred = crypto::DecodePkcs12(*der, "");
    if (!cred.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": the management certificate of ", s.name, ": ", cred.status().message()));
    }
    return SubscriptionCredential{s, *std::move(cred)};
  }
  return absl::NotFoundError(absl::StrCat("subscription ", id, " is not in ", path, "; it holds ",
                                          absl::StrJoin(present, ", "),
                                          ". Download the publish settings of the right subscription"));
}

}  // namespace vmb::offline
