#include <mutex>

#include "simulators/import_export/control_plane.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "httplib.h"
#include "simulators/http_server/bind_loopback.h"

namespace vmb::ie {
namespace {

constexpr char kJobsPath[] =
    R"(/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.ImportExport/jobs/([^/?]+))";
constexpr char kAccountPath[] =
    R"(/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.Storage/storageAccounts/([^/?]+))";

void Reply(httplib::Response& res, int status, const google::protobuf::Message& body) {
  res.status = status;
  res.set_content(json::ToJson(body), "application/json");
}

void Error(httplib::Response& res, int status, const std::string& code, const std::string& message) {
  proto::ErrorBody e;
  e.mutable_error()->set_code(code);
  e.mutable_error()->set_message(message);
  Reply(res, status, e);
}

std::string JobId(const std::string& sub, const std::string& rg, const std::string& name) {
  return absl::StrCat("/subscriptions/", sub, "/resourceGroups/", rg, "/providers/Microsoft.ImportExport/jobs/", name);
}

}  // namespace

proto::Location LocationFor(const std::string& subscription, const std::string& region) {
  proto::Location l;
  l.set_name(region);
  l.set_id(absl::StrCat("/subscriptions/", subscription, "/providers/Microsoft.ImportExport/locations/", region));
  auto* p = l.mutable_properties();
  p->set_recipientname("Microsoft Azure Import/Export Service");
  p->set_streetaddress1(absl::StrCat("Datacenter ", region, ", Dock 4"));
  p->set_city(region == "westeurope" ? "Amsterdam" : region == "germanywestcentral" ? "Frankfurt" : "Redmond");
  p->set_postalcode(region == "westeurope" ? "1101 AA" : "98052");
  p->set_countryorregion(region == "westeurope" ? "Netherlands" : region == "germanywestcentral" ? "Germany" : "USA");
  p->set_phone("+1 425 555 0100");
  for (const char* c : {"DHL", "FedEx", "UPS", "TNT"}) p->add_supportedcarriers(c);
  return l;
}

ControlPlane::ControlPlane(ControlPlaneOptions options) : options_(std::move(options)) {}

ControlPlane::~ControlPlane() { Stop(); }

proto::ServerState ControlPlane::state() {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

absl::Status ControlPlane::Mutate(const std::function<absl::Status(proto::ServerState&)>& change) {
  std::lock_guard<std::mutex> lock(mu_);
  proto::ServerState copy = state_;
  absl::Status s = change(copy);
  if (!s.ok()) return s;
  state_ = std::move(copy);
  return Save();
}

absl::Status ControlPlane::Save() {
  // Holds recovery passwords: private to this user.
  return file::WriteFileAtomic(options_.state_dir + "/state.json", json::ToJson(state_, true), 0600);
}

absl::StatusOr<std::string> ControlPlane::Start(int port) {
  absl::Status dir = file::MakeDirs(options_.state_dir, 0700);
  if (!dir.ok()) return dir;
  absl::StatusOr<std::string> saved = file::ReadFile(options_.state_dir + "/state.json");
  if (saved.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    absl::Status parsed = json::Parse(*saved, &state_, options_.state_dir + "/state.json");
    if (!parsed.ok()) return parsed;
  }
  server_ = std::make_unique<httplib::Server>();
  Routes();
  int bound = sim::BindLoopback(*server_, port);
  if (bound <= 0) return absl::UnavailableError(absl::StrCat("cannot listen on 127.0.0.1:", port));
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return absl::StrCat("http://127.0.0.1:", bound);
}

void ControlPlane::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

void ControlPlane::Routes() {
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") != "Bearer " + options_.token) {
      Error(res, 401, "AuthenticationFailed", "missing or wrong bearer token");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  server_->Get(R"(/subscriptions/([^/]+)/providers/Microsoft\.ImportExport/locations/([^/?]+))",
               [](const httplib::Request& req, httplib::Response& res) {
                 Reply(res, 200, LocationFor(req.matches[1], req.matches[2]));
               });

  server_->Put(kAccountPath, [this](const httplib::Request& req, httplib::Response& res) {
    proto::StorageAccount a;
    if (!json::Parse(req.body, &a, "storage account").ok() || a.location().empty()) {
      return Error(res, 400, "InvalidRequestContent", "a storage account needs a location");
    }
    a.set_name(req.matches[3]);
    a.set_id(absl::StrCat("/subscriptions/", std::string(req.matches[1]), "/resourceGroups/",
                          std::string(req.matches[2]), "/providers/Microsoft.Storage/storageAccounts/", a.name()));
    absl::Status s = Mutate([&](proto::ServerState& st) {
      for (auto& existing : *st.mutable_storageaccounts()) {
        if (existing.id() == a.id()) {
          existing = a;
          return absl::OkStatus();
        }
      }
      *st.add_storageaccounts() = a;
      return absl::OkStatus();
    });
    if (!s.ok()) return Error(res, 500, "InternalError", std::string(s.message()));
    Reply(res, 200, a);
  });

  server_->Get(kAccountPath, [this](const httplib::Request& req, httplib::Response& res) {
    std::string name = req.matches[3];
    const proto::ServerState snapshot = state();
    for (const auto& a : snapshot.storageaccounts()) {
      if (a.name() == name) return Reply(res, 200, a);
    }
    Error(res, 404, "ResourceNotFound", absl::StrCat("storage account ", name, " was not found"));
  });

  server_->Put(kJobsPath, [this](const httplib::Request& req, httplib::Response& res) {
    proto::Job job;
    if (!json::Parse(req.body, &job, "job").ok()) return Error(res, 400, "InvalidRequestContent", "job body is not valid");
    std::string sub = req.matches[1], rg = req.matches[2], name = req.matches[3];
    job.set_name(name);
    job.set_id(JobId(sub, rg, name));
    job.set_type("Microsoft.ImportExport/jobs");
    if (job.properties().jobtype() != "Import") return Error(res, 400, "InvalidJobType", "only Import jobs are supported");
    int code = 201;
    std::string err_code, err;
    absl::Status s = Mutate([&](proto::ServerState& st) {
      bool account = false;
      for (const auto& a : st.storageaccounts()) account |= a.id() == job.properties().storageaccountid();
      if (!account) {
        code = 404, err_code = "StorageAccountNotFound";
        return absl::NotFoundError(absl::StrCat("storage account ", job.properties().storageaccountid(), " not found"));
      }
      for (const auto& j : st.jobs()) {
        if (j.id() == job.id()) {
          code = 409, err_code = "JobAlreadyExists";
          return absl::AlreadyExistsError(absl::StrCat("an import job named ", name, " already exists"));
        }
      }
      job.mutable_properties()->set_state("Creating");
      job.mutable_properties()->set_provisioningstate("Succeeded");
      for (auto& d : *job.mutable_properties()->mutable_drivelist()) d.set_state("Specified");
      *st.add_jobs() = job;
      return absl::OkStatus();
    });
    if (!s.ok()) return Error(res, code, err_code, std::string(s.message()));
    Reply(res, 201, job);
  });

  server_->Get(kJobsPath, [this](const httplib::Request& req, httplib::Response& res) {
    std::string id = JobId(req.matches[1], req.matches[2], req.matches[3]);
    const proto::ServerState snapshot = state();
    for (const auto& j : snapshot.jobs()) {
      if (j.id() == id) return Reply(res, 200, j);
    }
    Error(res, 404, "ResourceNotFound", absl::StrCat("import job ", std::string(req.matches[3]), " was not found"));
  });

  server_->Get(R"(/subscriptions/([^/]+)/providers/Microsoft\.ImportExport/jobs)",
               [this](const httplib::Request& req, httplib::Response& res) {
                 proto::JobList list;
                 std::string prefix = absl::StrCat("/subscriptions/", std::string(req.matches[1]), "/");
                 const proto::ServerState snapshot = state();
    for (const auto& j : snapshot.jobs()) {
                   if (absl::StartsWith(j.id(), prefix)) *list.add_value() = j;
                 }
                 Reply(res, 200, list);
               });

  // PATCH: shipping details and the Creating -> Shipping transition (the tools' side of the workflow).
  server_->Patch(kJobsPath, [this](const httplib::Request& req, httplib::Response& res) {
    proto::Job patch;
    if (!json::Parse(req.body, &patch, "job patch").ok()) return Error(res, 400, "InvalidRequestContent", "bad patch");
    std::string id = JobId(req.matches[1], req.matches[2], req.matches[3]);
    int code = 200;
    std::string err_code;
    proto::Job result;
    absl::Status s = Mutate([&](proto::ServerState& st) {
      proto::Job* job = nullptr;
      for (auto& j : *st.mutable_jobs()) {
        if (j.id() == id) job = &j;
      }
      if (!job) {
        code = 404, err_code = "ResourceNotFound";
        return absl::NotFoundError(absl::StrCat("import job ", std::string(req.matches[3]), " was not found"));
      }
      const auto& p = patch.properties();
      if (p.has_deliverypackage()) {
        const std::string& tracking = p.deliverypackage().trackingnumber();
        for (const auto& other : st.jobs()) {
          if (other.id() != id && !tracking.empty() &&
              other.properties().deliverypackage().trackingnumber() == tracking) {
            code = 409, err_code = "TrackingNumberInUse";
            return absl::AlreadyExistsError(absl::StrCat("tracking number ", tracking, " is already used by job ",
                                                         other.name()));
          }
        }
        *job->mutable_properties()->mutable_deliverypackage() = p.deliverypackage();
      }
      if (p.has_returnaddress()) *job->mutable_properties()->mutable_returnaddress() = p.returnaddress();
      if (!p.state().empty()) {
        if (p.state() != "Shipping" || job->properties().state() != "Creating") {
          code = 400, err_code = "InvalidStateTransition";
          return absl::FailedPreconditionError(absl::StrCat("a job in state ", job->properties().state(),
                                                            " cannot be set to ", p.state()));
        }
        if (job->properties().deliverypackage().trackingnumber().empty()) {
          code = 400, err_code = "MissingShippingDetails";
          return absl::FailedPreconditionError("shipping details (carrier, tracking number) are required first");
        }
        job->mutable_properties()->set_state("Shipping");
      }
      result = *job;
      return absl::OkStatus();
    });
    if (!s.ok()) return Error(res, code, err_code, std::string(s.message()));
    Reply(res, 200, result);
  });

  // The datacenter's side (not part of the public API): replace a job's state and drive list as processing goes.
  server_->Put(R"(/internal/datacenter/jobs/([^/]+)/([^/]+)/([^/?]+))",
               [this](const httplib::Request& req, httplib::Response& res) {
                 proto::Job update;
                 if (!json::Parse(req.body, &update, "job").ok()) return Error(res, 400, "InvalidRequestContent", "bad job");
                 std::string id = JobId(req.matches[1], req.matches[2], req.matches[3]);
                 proto::Job result;
                 absl::Status s = Mutate([&](proto::ServerState& st) {
                   for (auto& j : *st.mutable_jobs()) {
                     if (j.id() != id) continue;
                     j.mutable_properties()->set_state(update.properties().state());
                     j.mutable_properties()->set_percentcomplete(update.properties().percentcomplete());
                     *j.mutable_properties()->mutable_drivelist() = update.properties().drivelist();
                     result = j;
                     return absl::OkStatus();
                   }
                   return absl::NotFoundError(absl::StrCat("import job ", std::string(req.matches[3]), " was not found"));
                 });
                 if (!s.ok()) return Error(res, 404, "ResourceNotFound", std::string(s.message()));
                 Reply(res, 200, result);
               });

  // Application registrations (the directory), for certgen.
  server_->Get(R"(/v1\.0/applications)", [this](const httplib::Request& req, httplib::Response& res) {
    std::string name = req.get_param_value("displayName");
    const proto::ServerState snapshot = state();
    for (const auto& a : snapshot.applications()) {
      if (a.displayname() == name) return Reply(res, 200, a);
    }
    Error(res, 404, "Request_ResourceNotFound", absl::StrCat("no application named ", name));
  });
  server_->Post(R"(/v1\.0/applications)", [this](const httplib::Request& req, httplib::Response& res) {
    proto::Application a;
    if (!json::Parse(req.body, &a, "application").ok() || a.displayname().empty()) {
      return Error(res, 400, "Request_BadRequest", "an application needs a displayName");
    }
    int code = 201;
    absl::Status s = Mutate([&](proto::ServerState& st) {
      for (const auto& existing : st.applications()) {
        if (existing.displayname() == a.displayname()) {
          code = 409;
          return absl::AlreadyExistsError(absl::StrCat("an application named ", a.displayname(), " exists"));
        }
      }
      a.set_id(crypto::Base16Encode(crypto::SecureRandom().Bytes(16)));
      a.set_appid(crypto::Base16Encode(crypto::SecureRandom().Bytes(16)));
      *st.add_applications() = a;
      return absl::OkStatus();
    });
    if (!s.ok()) return Error(res, code, "Request_MultipleObjectsWithSameKeyValue", std::string(s.message()));
    Reply(res, 201, a);
  });
}

}  // namespace vmb::ie
