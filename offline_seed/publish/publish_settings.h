// .publishsettings files (Azure Service Management), both schema versions:
//   1.0: <PublishData><PublishProfile Url=… ManagementCertificate=…><Subscription Id=… Name=…/></PublishProfile>
//   2.0: <PublishData><PublishProfile SchemaVersion="2.0"><Subscription Id=… Name=… ServiceManagementUrl=…
//        ManagementCertificate=…/></PublishProfile>
// The management certificate is base64 of PKCS#12 with an empty password, opened with OpenSSL.
#ifndef VMBACKUP_OFFLINE_SEED_PUBLISH_PUBLISH_SETTINGS_H_
#define VMBACKUP_OFFLINE_SEED_PUBLISH_PUBLISH_SETTINGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/crypto/certificate.h"

namespace vmb::offline {

struct PublishedSubscription {
  std::string id;
  std::string name;
  std::string management_url;
  std::string certificate_base64;  // secret (it carries the private key): never log it
};

// Every subscription in the file. kInvalidArgument naming the problem for an unreadable or malformed file.
absl::StatusOr<std::vector<PublishedSubscription>> ReadPublishSettings(const std::string& path);
// The same for the file's text; `name` is used in messages.
absl::StatusOr<std::vector<PublishedSubscription>> ParsePublishSettings(absl::string_view text, absl::string_view name);

struct SubscriptionCredential {
  PublishedSubscription subscription;
  crypto::CertificateAndKey credential;
};

// The subscription `id` with its opened management certificate. kNotFound naming the subscriptions the file does
// hold (by name and id) when `id` is not among them.
absl::StatusOr<SubscriptionCredential> LoadSubscription(const std::string& path, const std::string& id);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_PUBLISH_PUBLISH_SETTINGS_H_
