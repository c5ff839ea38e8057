// The control-plane simulator's Microsoft Graph v1.0 routes: the directory certgen and the portal's manual path
// (seed 004, "Manually upload an offline backup certificate") use.
//   GET    /v1.0/me                      the signed-in user (its object id is the "Azure user id")
//   GET    /v1.0/applications[?$filter=displayName eq '...']
//   GET    /v1.0/applications/{id}       an application's page (Certificates & secrets)
//   POST   /v1.0/applications            register one
//   PATCH  /v1.0/applications/{id}       replace its keyCredentials (an empty list clears them), rename it
//   DELETE /v1.0/applications/{id}
// A key credential that carries `key` (a base64 DER certificate, as the portal's "Upload certificate" sends) must be
// a certificate (400 otherwise); its customKeyIdentifier (the thumbprint) and endDateTime are taken from it when the
// caller leaves them out.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "common/crypto/certificate.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/json/json.h"
#include "google/protobuf/struct.pb.h"
#include "httplib.h"
#include "simulators/import_export/control_plane.h"
#include "simulators/import_export/replies.h"

namespace vmb::ie {
namespace {

// Fills in what Graph derives from an uploaded certificate; kInvalidArgument naming the key that is not one.
absl::Status NormalizeKeys(google::protobuf::RepeatedPtrField<proto::KeyCredential>* keys) {
  for (proto::KeyCredential& k : *keys) {
    if (k.key().empty()) continue;
    absl::StatusOr<std::string> der = crypto::Base64Decode(k.key());
    absl::StatusOr<crypto::Certificate> cert =
        der.ok() ? crypto::Certificate::FromDer(*der) : absl::StatusOr<crypto::Certificate>(der.status());
    if (!cert.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("keyCredentials.key of '", k.displayname(), "' is not a base64 DER X.509 certificate"));
    }
    if (k.customkeyidentifier().empty()) k.set_customkeyidentifier(cert->Thumbprint());
    if (k.enddatetime().empty()) {
      k.set_enddatetime(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", cert->NotAfter(), absl::UTCTimeZone()));
    }
    if (k.type().empty()) k.set_type("AsymmetricX509Cert");
    if (k.usage().empty()) k.set_usage("Verify");
  }
  return absl::OkStatus();
}

// The name in "displayName eq '<name>'" (quotes doubled inside), the only filter the tools use; false otherwise.
bool FilterName(const std::string& filter, std::string* name) {
  constexpr absl::string_view kPrefix = "displayName eq '";
  if (!absl::StartsWith(filter, kPrefix) || filter.size() < kPrefix.size() + 1 || filter.back() != '\'') return false;
  *name = absl::StrReplaceAll(filter.substr(kPrefix.size(), filter.size() - kPrefix.size() - 1), {{"''", "'"}});
  return true;
}

}  // namespace

void ControlPlane::DirectoryRoutes() {
  server_->Get(R"(/v1\.0/me)", [this](const httplib::Request&, httplib::Response& res) {
    google::protobuf::Struct me;
    (*me.mutable_fields())["id"].set_string_value(options_.user_object_id);
    (*me.mutable_fields())["userPrincipalName"].set_string_value(options_.user_principal_name);
    res.status = 200;
    res.set_content(json::ToJsonCompact(me), "application/json");
  });
  server_->Get(R"(/v1\.0/applications)", [this](const httplib::Request& req, httplib::Response& res) {
    std::string filter = req.get_param_value("$filter");
    std::string name;
    if (!filter.empty() && !FilterName(filter, &name)) {
      return Error(res, 400, "Request_UnsupportedQuery", absl::StrCat("Unsupported query: ", filter));
    }
    proto::ApplicationList list;
    const proto::ServerState snapshot = state();
    for (const auto& a : snapshot.applications()) {
      if (filter.empty() || a.displayname() == name) *list.add_value() = a;
    }
    Reply(res, 200, list);
  });
  server_->Get(R"(/v1\.0/applications/([^/?]+))", [this](const httplib::Request& req, httplib::Response& res) {
    const proto::ServerState snapshot = state();
    for (const auto& a : snapshot.applications()) {
      if (a.id() == req.matches[1].str()) return Reply(res, 200, a);
    }
    Error(res, 404, "Request_ResourceNotFound", absl::StrCat("Resource '", req.matches[1].str(), "' does not exist."));
  });
  server_->Post(R"(/v1\.0/applications)", [this](const httplib::Request& req, httplib::Response& res) {
    proto::Application a;
    if (!json::Parse(req.body, &a, "application").ok() || a.displayname().empty()) {
      return Error(res, 400, "Request_BadRequest", "an application needs a displayName");
    }
    if (absl::Status keys = NormalizeKeys(a.mutable_keycredentials()); !keys.ok()) {
      return Error(res, 400, "Request_BadRequest", std::string(keys.message()));
    }
    a.set_id(crypto::Base16Encode(crypto::SecureRandom().Bytes(16)));
    a.set_appid(crypto::Base16Encode(crypto::SecureRandom().Bytes(16)));
    absl::Status s = Mutate([&](proto::ServerState& st) {
      *st.add_applications() = a;  // Graph allows several applications with one display name
      return absl::OkStatus();
    });
    if (!s.ok()) return Error(res, 500, "InternalServerError", std::string(s.message()));
    Reply(res, 201, a);
  });
  server_->Patch(R"(/v1\.0/applications/([^/?]+))", [this](const httplib::Request& req, httplib::Response& res) {
    proto::Application patch;
    if (!json::Parse(req.body, &patch, "application").ok()) return Error(res, 400, "Request_BadRequest", "bad body");
    if (absl::Status keys = NormalizeKeys(patch.mutable_keycredentials()); !keys.ok()) {
      return Error(res, 400, "Request_BadRequest", std::string(keys.message()));
    }
    // "keyCredentials": [] clears them (the compact JSON of an empty list omits it, so look at the body).
    const bool set_keys = patch.keycredentials_size() > 0 || absl::StrContains(req.body, "\"keyCredentials\"");
    std::string id = req.matches[1];
    absl::Status s = Mutate([&](proto::ServerState& st) {
      for (auto& a : *st.mutable_applications()) {
        if (a.id() != id) continue;
        if (set_keys) *a.mutable_keycredentials() = patch.keycredentials();
        if (!patch.displayname().empty()) a.set_displayname(patch.displayname());
        return absl::OkStatus();
      }
      return absl::NotFoundError(absl::StrCat("Resource '", id, "' does not exist."));
    });
    if (!s.ok()) return Error(res, 404, "Request_ResourceNotFound", std::string(s.message()));
    res.status = 204;
  });
  server_->Delete(R"(/v1\.0/applications/([^/?]+))", [this](const httplib::Request& req, httplib::Response& res) {
    std::string id = req.matches[1];
    absl::Status s = Mutate([&](proto::ServerState& st) {
      auto* apps = st.mutable_applications();
      for (int i = 0; i < apps->size(); ++i) {
        if (apps->Get(i).id() == id) {
          apps->DeleteSubrange(i, 1);
          return absl::OkStatus();
        }
      }
      return absl::NotFoundError(absl::StrCat("Resource '", id, "' does not exist."));
    });
    if (!s.ok()) return Error(res, 404, "Request_ResourceNotFound", std::string(s.message()));
    res.status = 204;
  });
}

}  // namespace vmb::ie
