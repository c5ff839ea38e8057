
#include "simulators/import_export/control_plane.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "httplib.h"
#include "offline_seed/import_job/import_job_service.h"
#include "simulators/http_server/bind_loopback.h"
#include "simulators/import_export/replies.h"

namespace vmb::ie {
namespace {

constexpr char kJobsPath[] =
    R"(/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.ImportExport/jobs/([^/]+))";
constexpr char kAccountPath[] =
    R"(/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.Storage/storageAccounts/([^/?]+))";
constexpr int kMaxDrives = 10;

std::string JobId(const std::string& sub, const std::string& rg, const std::string& name) {
  return absl::StrCat("/subscriptions/", sub, "/resourceGroups/", rg, "/providers/Microsoft.ImportExport/jobs/", name);
}

// What a job answer carries: never the drives' keys (BitLockerKeys_List has them).
proto::Job Public(proto::Job job) {
  for (auto& d : *job.mutable_properties()->mutable_drivelist()) d.clear_bitlockerkey();
  return job;
}

// Azure's naming rule for Microsoft.ImportExport/jobs (docs: resource name rules): 2-64 characters, letters, digits
// and hyphens, starting with a letter.
bool ValidJobName(const std::string& name) {
  if (name.size() < 2 || name.size() > 64 || !absl::ascii_isalpha(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

struct Site {
  const char* name;
  const char* display;
  const char* street;
  const char* city;
  const char* state;
  const char* postal;
  const char* country;
  const char* phone;
  std::vector<const char*> carriers;
};

const std::vector<Site>& Sites() {
  static const auto* sites = new std::vector<Site>{
      {"westeurope",
       "West Europe",
       "Science Park 1, Dock 4",
       "Amsterdam",
       "Noord-Holland",
       "1098 XG",
       "Netherlands",
       "+31 20 555 0100",
       {"DHL", "FedEx", "UPS", "TNT"}},
      {"northeurope",
       "North Europe",
       "Grange Castle Business Park, Dock 2",
       "Dublin",
       "Leinster",
       "D22 R6Y5",
       "Ireland",
       "+353 1 555 0100",
       {"DHL", "UPS"}},
      {"germanywestcentral",
       "Germany West Central",
       "Kruppstrasse 121, Tor 3",
       "Frankfurt",
       "Hessen",
       "60388",
       "Germany",
       "+49 69 555 0100",
       {"DHL", "UPS", "FedEx"}},
      {"swedencentral",
       "Sweden Central",
       "Staffanstorpsvagen 10, Port 1",
       "Gavle",
       "Gavleborg",
       "802 80",
       "Sweden",
       "+46 26 555 0100",
       {"DHL", "UPS"}},
      {"francecentral",
       "France Central",
       "2 rue de la Gare, Quai 5",
       "Paris",
       "Ile-de-France",
       "75001",
       "France",
       "+33 1 55 55 01 00",
       {"DHL", "UPS", "TNT"}},
      {"eastus",
       "East US",
       "21715 Filigree Court, Dock 6",
       "Ashburn",
       "VA",
       "20147",
       "USA",
       "+1 703 555 0100",
       {"FedEx", "UPS", "DHL"}},
      {"westus2",
       "West US 2",
       "4001 N Hwy 97, Dock 3",
       "Quincy",
       "WA",
       "98848",
       "USA",
       "+1 509 555 0100",
       {"FedEx", "UPS", "DHL"}},
  };
  return *sites;
}

proto::Location ToLocation(const Site& s) {
  proto::Location l;
  l.set_name(s.name);
  l.set_id(absl::StrCat("/providers/Microsoft.ImportExport/locations/", s.name));
  l.set_type("Microsoft.ImportExport/locations");
  auto* p = l.mutable_properties();
  p->set_recipientname(absl::StrCat("Microsoft Azure Import/Export Service, ", s.display));
  p->set_streetaddress1(s.street);
  p->set_city(s.city);
  p->set_stateorprovince(s.state);
  p->set_postalcode(s.postal);
  p->set_countryorregion(s.country);
  p->set_phone(s.phone);
  for (const char* c : s.carriers) p->add_supportedcarriers(c);
  return l;
}

proto::OperationList Operations() {
  proto::OperationList list;
  const std::pair<const char*, const char*> ops[] = {
      {"Microsoft.ImportExport/locations/read", "Gets the properties of the locations that can be shipped to"},
      {"Microsoft.ImportExport/jobs/write", "Creates or updates an import/export job"},
      {"Microsoft.ImportExport/jobs/read", "Gets the properties of an import/export job"},
      {"Microsoft.ImportExport/jobs/listBitLockerKeys/action", "Gets the BitLocker keys of the job's drives"},
      {"Microsoft.ImportExport/jobs/delete", "Deletes an import/export job"},
  };
  for (const auto& [name, text] : ops) {
    proto::Operation* o = list.add_value();
    o->set_name(name);
    o->mutable_display()->set_provider("Microsoft Import/Export");
    o->mutable_display()->set_resource(absl::StrContains(name, "locations") ? "Location" : "Job");
    o->mutable_display()->set_operation(name);
    o->mutable_display()->set_description(text);
  }
  return list;
}

// One page of a job list: $top entries from $skiptoken on, with a nextLink when more remain.
proto::JobList Page(const std::vector<proto::Job>& all, const httplib::Request& req, const std::string& base_path) {
  int top = 100, skip = 0;
  if (req.has_param("$top")) (void)absl::SimpleAtoi(req.get_param_value("$top"), &top);
  if (req.has_param("$skiptoken")) (void)absl::SimpleAtoi(req.get_param_value("$skiptoken"), &skip);
  top = std::max(1, std::min(top, 100));
  skip = std::max(0, skip);
  proto::JobList list;
  for (int i = skip; i < static_cast<int>(all.size()) && i < skip + top; ++i) *list.add_value() = Public(all[i]);
  if (skip + top < static_cast<int>(all.size())) {
    std::string host = req.get_header_value("Host");
    std::string scheme =
        req.get_header_value("X-Forwarded-Proto").empty() ? "http" : req.get_header_value("X-Forwarded-Proto");
    list.set_nextlink(absl::StrCat(scheme, "://", host, base_path, "?api-version=", kApiVersion, "&$top=", top,
                                   "&$skiptoken=", skip + top));
  }
  return list;
}

// Shipping details (delivery package, return address and shipping) change only until the datacenter has the
// package: while the job is Creating or Shipping.
absl::Status ShippingDetailsOpen(const proto::Job& job, const proto::UpdateJobParameters& patch,
                                 const std::string& name) {
  const auto& p = patch.properties();
  const std::string& state = job.properties().state();
  if (!(p.has_deliverypackage() || p.has_returnaddress() || p.has_returnshipping()) || state == "Creating" ||
      state == "Shipping") {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "The job ", name, " is ", state, "; shipping details can change only while it is Creating or Shipping."));
}

}  // namespace

absl::StatusOr<proto::Location> LocationFor(const std::string& region) {
  for (const Site& s : Sites()) {
    if (absl::EqualsIgnoreCase(s.name, region)) return ToLocation(s);
  }
  return absl::NotFoundError(absl::StrCat("no Import/Export location named ", region));
}

std::vector<proto::Location> AllLocations() {
  std::vector<proto::Location> out;
  for (const Site& s : Sites()) out.push_back(ToLocation(s));
  return out;
}

ControlPlane::ControlPlane(ControlPlaneOptions options) : options_(std::move(options)) {}

ControlPlane::~ControlPlane() { Stop(); }

proto::ServerState ControlPlane::state() {
  MutexLock lock(&mu_);
  return state_;
}

absl::Status ControlPlane::Mutate(const std::function<absl::Status(proto::ServerState&)>& change) {
  MutexLock lock(&mu_);
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
    MutexLock lock(&mu_);
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

void ControlPlane::Expire() {
  const int64_t now = absl::ToUnixMillis(options_.clock->Now());
  MutexLock lock(&mu_);
  auto* jobs = state_.mutable_jobs();
  bool changed = false;
  for (int i = jobs->size() - 1; i >= 0; --i) {
    const proto::Job& j = jobs->Get(i);
    const std::string& state = j.properties().state();
    // Jobs from before timestamps were kept count from now.
    int64_t created = state_.createdunixms().count(j.id()) ? state_.createdunixms().at(j.id()) : now;
    int64_t ended = state_.endedunixms().count(j.id()) ? state_.endedunixms().at(j.id()) : now;
    bool gone =
        (state == "Creating" && j.properties().deliverypackage().trackingnumber().empty() &&
         now - created > absl::ToInt64Milliseconds(kCreatingExpiry)) ||
        ((state == "Completed" || state == "Closed") && now - ended > absl::ToInt64Milliseconds(kEndedRetention));
    if (!gone) continue;
    state_.mutable_createdunixms()->erase(j.id());
    state_.mutable_endedunixms()->erase(j.id());
    jobs->DeleteSubrange(i, 1);
    changed = true;
  }
  if (changed) (void)Save();
}

void ControlPlane::Routes() {
  // Authentication first, then ARM's api-version rule: Microsoft.ImportExport takes 2021-01-01 only (the version the
  // tools speak); Microsoft.Storage needs one. Graph (/v1.0) and the datacenter's /internal have no api-version.
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    const std::string auth = req.get_header_value("Authorization");
    if (auth != "Bearer " + options_.token) {
      res.set_header("WWW-Authenticate",
                     R"(Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token")");
      if (auth.empty()) {
        Error(res, 401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.");
      } else {
        Error(res, 401, "InvalidAuthenticationToken", "The access token is invalid.");
      }
      return httplib::Server::HandlerResponse::Handled;
    }
    const bool arm = absl::StartsWith(req.path, "/subscriptions/") || absl::StartsWith(req.path, "/providers/");
    if (arm) {
      std::string version = req.get_param_value("api-version");
      if (version.empty()) {
        Error(res, 400, "MissingApiVersionParameter",
              "The api-version query parameter (?api-version=) is required for all requests.");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (absl::StrContains(req.path, "/Microsoft.ImportExport/") && version != kApiVersion) {
        Error(res, 400, "InvalidApiVersionParameter",
              absl::StrCat("The api-version '", version, "' is invalid. The supported versions are '", kApiVersion,
                           "'."));
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    Expire();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Whatever no route answers: ARM's error body, not an empty 404.
  server_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) {
      Error(res, 404, "NotFound", absl::StrCat("No route for ", req.method, " ", req.path));
    } else if (res.status == 405) {
      Error(res, 405, "MethodNotAllowed", absl::StrCat(req.method, " is not allowed on ", req.path));
    }
  });

  server_->Get(R"(/providers/Microsoft\.ImportExport/operations)",
               [](const httplib::Request&, httplib::Response& res) { Reply(res, 200, Operations()); });

  server_->Get(R"(/providers/Microsoft\.ImportExport/locations)", [](const httplib::Request&, httplib::Response& res) {
    proto::LocationList list;
    for (const proto::Location& l : AllLocations()) *list.add_value() = l;
    Reply(res, 200, list);
  });
  server_->Get(R"(/providers/Microsoft\.ImportExport/locations/([^/?]+))",
               [](const httplib::Request& req, httplib::Response& res) {
                 absl::StatusOr<proto::Location> l = LocationFor(req.matches[1]);
                 if (!l.ok()) return Error(res, 404, "ResourceNotFound", std::string(l.status().message()));
                 Reply(res, 200, *l);
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
    std::string id =
        absl::StrCat("/subscriptions/", std::string(req.matches[1]), "/resourceGroups/", std::string(req.matches[2]),
                     "/providers/Microsoft.Storage/storageAccounts/", std::string(req.matches[3]));
    const proto::ServerState snapshot = state();
    for (const auto& a : snapshot.storageaccounts()) {
      if (absl::EqualsIgnoreCase(a.id(), id)) return Reply(res, 200, a);
    }
    Error(res, 404, "ResourceNotFound",
          absl::StrCat("The Resource 'Microsoft.Storage/storageAccounts/", std::string(req.matches[3]),
                       "' under resource group '", std::string(req.matches[2]), "' was not found."));
  });

  // Jobs_Create: create or update.
  server_->Put(kJobsPath, [this](const httplib::Request& req, httplib::Response& res) {
    proto::Job job;
    absl::Status parsed = json::Parse(req.body, &job, "the request body");
    if (!parsed.ok()) return Error(res, 400, "InvalidRequestContent", std::string(parsed.message()));
    std::string sub = req.matches[1], rg = req.matches[2], name = req.matches[3];
    if (!ValidJobName(name)) {
      return Error(res, 400, "InvalidResourceName",
                   absl::StrCat("The job name '", name,
                                "' is invalid: use 2-64 letters, digits and hyphens, starting "
                                "with a letter."));
    }
    if (job.location().empty()) return Error(res, 400, "LocationRequired", "The location property is required.");
    if (!LocationFor(job.location()).ok()) {
      return Error(res, 400, "LocationNotAvailableForResourceType",
                   absl::StrCat("The provided location '", job.location(),
                                "' is not available for resource type 'Microsoft.ImportExport/jobs'."));
    }
    const proto::JobProperties& p = job.properties();
    if (p.jobtype() != "Import" && p.jobtype() != "Export") {
      return Error(res, 400, "InvalidJobType", "properties.jobType must be Import or Export.");
    }
    if (p.jobtype() == "Export") return Error(res, 400, "InvalidJobType", "this simulator supports Import jobs only");
    if (p.drivelist_size() < 1 || p.drivelist_size() > kMaxDrives) {
      return Error(res, 400, "InvalidDriveCount",
                   absl::StrCat("An import job needs 1 to ", kMaxDrives, " drives in properties.driveList; it has ",
                                p.drivelist_size(), "."));
    }
    for (const auto& d : p.drivelist()) {
      if (d.driveid().empty() || d.bitlockerkey().empty()) {
        return Error(res, 400, "InvalidDriveInformation", "every drive needs driveId and bitLockerKey");
      }
    }
    job.set_name(name);
    job.set_id(JobId(sub, rg, name));
    job.set_type("Microsoft.ImportExport/jobs");
    int code = 201;
    std::string err_code;
    proto::Job stored;
    absl::Status s = Mutate([&](proto::ServerState& st) {
      bool account = false;
      for (const auto& a : st.storageaccounts()) account |= absl::EqualsIgnoreCase(a.id(), p.storageaccountid());
      if (!account) {
        code = 400, err_code = "StorageAccountNotFound";
        return absl::NotFoundError(absl::StrCat("The storage account ", p.storageaccountid(), " was not found."));
      }
      for (auto& j : *st.mutable_jobs()) {
        if (j.id() != job.id()) continue;
        if (j.properties().state() != "Creating") {
          code = 409, err_code = "JobNotUpdatable";
          return absl::FailedPreconditionError(
              absl::StrCat("The job ", name, " is ", j.properties().state(), "; only a Creating job can be replaced."));
        }
        code = 200;
        std::string created = j.properties().state();
        job.mutable_properties()->set_state(created);
        job.mutable_properties()->set_provisioningstate("Succeeded");
        for (auto& d : *job.mutable_properties()->mutable_drivelist()) d.set_state("Specified");
        j = job;
        stored = j;
        return absl::OkStatus();
      }
      job.mutable_properties()->set_state("Creating");
      job.mutable_properties()->set_provisioningstate("Succeeded");
      for (auto& d : *job.mutable_properties()->mutable_drivelist()) d.set_state("Specified");
      (*st.mutable_createdunixms())[job.id()] = absl::ToUnixMillis(options_.clock->Now());
      *st.add_jobs() = job;
      stored = job;
      return absl::OkStatus();
    });
    if (!s.ok()) return Error(res, code, err_code, std::string(s.message()));
    Reply(res, code, Public(stored));
  });

  // A job name with a '/' in it (sent encoded) reaches no job route: say what is wrong with it.
  server_->Put(R"(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ImportExport/jobs/(.+))",
               [](const httplib::Request& req, httplib::Response& res) {
                 Error(res, 400, "InvalidResourceName",
                       absl::StrCat("The job name '", std::string(req.matches[1]),
                                    "' is invalid: use 2-64 letters, digits and hyphens, starting with a letter."));
               });

  server_->Get(kJobsPath, [this](const httplib::Request& req, httplib::Response& res) {
    std::string id = JobId(req.matches[1], req.matches[2], req.matches[3]);
    const proto::ServerState snapshot = state();
    for (const auto& j : snapshot.jobs()) {
      if (j.id() == id) return Reply(res, 200, Public(j));
    }
    Error(res, 404, "ResourceNotFound",
          absl::StrCat("The Resource 'Microsoft.ImportExport/jobs/", std::string(req.matches[3]),
                       "' under resource group '", std::string(req.matches[2]), "' was not found."));
  });

  server_->Delete(kJobsPath, [this](const httplib::Request& req, httplib::Response& res) {
    std::string id = JobId(req.matches[1], req.matches[2], req.matches[3]);
    int code = 200;
    std::string err_code;
    absl::Status s = Mutate([&](proto::ServerState& st) {
      auto* jobs = st.mutable_jobs();
      for (int i = 0; i < jobs->size(); ++i) {
        if (jobs->Get(i).id() != id) continue;
        const std::string& state = jobs->Get(i).properties().state();
        if (state != "Creating" && state != "Completed" && state != "Closed") {
          code = 400, err_code = "JobCannotBeDeleted";
          return absl::FailedPreconditionError(
              absl::StrCat("The job is ", state, "; only Creating, Completed or Closed jobs can be deleted."));
        }
        st.mutable_createdunixms()->erase(id);
        st.mutable_endedunixms()->erase(id);
        jobs->DeleteSubrange(i, 1);
        return absl::OkStatus();
      }
      code = 204;  // ARM: deleting what does not exist succeeds with no content
      return absl::OkStatus();
    });
    if (!s.ok()) return Error(res, code, err_code, std::string(s.message()));
    res.status = code;
  });

  server_->Post(
      std::string(kJobsPath) + "/listBitLockerKeys", [this](const httplib::Request& req, httplib::Response& res) {
        std::string id = JobId(req.matches[1], req.matches[2], req.matches[3]);
        const proto::ServerState snapshot = state();
        for (const auto& j : snapshot.jobs()) {
          if (j.id() != id) continue;
          proto::GetBitLockerKeysResponse keys;
          for (const auto& d : j.properties().drivelist()) {
            proto::DriveBitLockerKey* k = keys.add_value();
            k->set_driveid(d.driveid());
            k->set_bitlockerkey(d.bitlockerkey());
          }
          return Reply(res, 200, keys);
        }
        Error(res, 404, "ResourceNotFound", absl::StrCat("import job ", std::string(req.matches[3]), " was not found"));
      });

  auto list = [this](const httplib::Request& req, httplib::Response& res, const std::string& prefix) {
    std::vector<proto::Job> all;
    const proto::ServerState snapshot = state();
    for (const auto& j : snapshot.jobs()) {
      if (absl::StartsWithIgnoreCase(j.id(), prefix)) all.push_back(j);
    }
    Reply(res, 200, Page(all, req, req.path));
  };
  server_->Get(R"(/subscriptions/([^/]+)/providers/Microsoft\.ImportExport/jobs)",
               [list](const httplib::Request& req, httplib::Response& res) {
                 list(req, res, absl::StrCat("/subscriptions/", std::string(req.matches[1]), "/"));
               });
  server_->Get(R"(/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.ImportExport/jobs)",
               [list](const httplib::Request& req, httplib::Response& res) {
                 list(req, res,
                      absl::StrCat("/subscriptions/", std::string(req.matches[1]), "/resourceGroups/",
                                   std::string(req.matches[2]), "/"));
               });

  // Jobs_Update: UpdateJobParameters only; shipping details and the Creating -> Shipping transition.
  server_->Patch(kJobsPath, [this](const httplib::Request& req, httplib::Response& res) {
    proto::UpdateJobParameters patch;
    absl::Status parsed = json::Parse(req.body, &patch, "the request body");
    if (!parsed.ok()) return Error(res, 400, "InvalidRequestContent", std::string(parsed.message()));
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
      if (absl::Status open = ShippingDetailsOpen(*job, patch, req.matches[3]); !open.ok()) {
        code = 409, err_code = "JobNotUpdatable";
        return open;
      }
      if (p.has_deliverypackage()) {
        const std::string& tracking = p.deliverypackage().trackingnumber();
        for (const auto& other : st.jobs()) {
          if (other.id() != id && !tracking.empty() &&
              other.properties().deliverypackage().trackingnumber() == tracking) {
            code = 409, err_code = "TrackingNumberInUse";
            return absl::AlreadyExistsError(
                absl::StrCat("tracking number ", tracking, " is already used by job ", other.name()));
          }
        }
        *job->mutable_properties()->mutable_deliverypackage() = p.deliverypackage();
        if (!st.shippingenteredunixms().count(id)) {
          (*st.mutable_shippingenteredunixms())[id] = absl::ToUnixMillis(options_.clock->Now());
        }
      }
      if (p.has_returnaddress()) *job->mutable_properties()->mutable_returnaddress() = p.returnaddress();
      for (const auto& [k, v] : patch.tags()) (*job->mutable_tags())[k] = v;
      if (p.has_returnshipping()) *job->mutable_properties()->mutable_returnshipping() = p.returnshipping();
      if (!p.loglevel().empty()) job->mutable_properties()->set_loglevel(p.loglevel());
      if (p.backupdrivemanifest()) job->mutable_properties()->set_backupdrivemanifest(true);
      if (p.drivelist_size() > 0) {
        if (job->properties().state() != "Creating") {
          code = 400, err_code = "InvalidStateTransition";
          return absl::FailedPreconditionError("the drive list can change only while the job is Creating");
        }
        *job->mutable_properties()->mutable_drivelist() = p.drivelist();
      }
      if (p.cancelrequested()) {
        const std::string& state = job->properties().state();
        if (state != "Creating" && state != "Shipping") {
          code = 400, err_code = "InvalidStateTransition";
          return absl::FailedPreconditionError(absl::StrCat("a job in state ", state, " can no longer be cancelled"));
        }
        job->mutable_properties()->set_cancelrequested(true);
        job->mutable_properties()->set_state("Closed");
        (*st.mutable_endedunixms())[id] = absl::ToUnixMillis(options_.clock->Now());
      }
      if (!p.state().empty()) {
        if (p.state() != "Shipping" || job->properties().state() != "Creating") {
          code = 400, err_code = "InvalidStateTransition";
          return absl::FailedPreconditionError(
              absl::StrCat("a job in state ", job->properties().state(), " cannot be set to ", p.state()));
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
    Reply(res, 200, Public(result));
  });

  // The datacenter's side (not part of the public API): a job with what only the service keeps.
  server_->Get(R"(/internal/datacenter/jobs/([^/]+)/([^/]+)/([^/?]+))", [this](const httplib::Request& req,
                                                                               httplib::Response& res) {
    std::string id = JobId(req.matches[1], req.matches[2], req.matches[3]);
    const proto::ServerState st = state();
    for (const auto& j : st.jobs()) {
      if (j.id() != id) continue;
      proto::DatacenterJob out;
      *out.mutable_job() = j;
      auto entered = st.shippingenteredunixms().find(id);
      if (entered != st.shippingenteredunixms().end()) out.set_shippingenteredunixms(entered->second);
      return Reply(res, 200, out);
    }
    Error(res, 404, "ResourceNotFound", absl::StrCat("import job ", std::string(req.matches[3]), " was not found"));
  });

  // The datacenter's side (not part of the public API): replace a job's state and drive list as processing goes.
  // A drive sent without a key keeps the one the job holds.
  server_->Put(R"(/internal/datacenter/jobs/([^/]+)/([^/]+)/([^/?]+))", [this](const httplib::Request& req,
                                                                               httplib::Response& res) {
    proto::Job update;
    if (!json::Parse(req.body, &update, "job").ok()) return Error(res, 400, "InvalidRequestContent", "bad job");
    std::string id = JobId(req.matches[1], req.matches[2], req.matches[3]);
    proto::Job result;
    absl::Status s = Mutate([&](proto::ServerState& st) {
      for (auto& j : *st.mutable_jobs()) {
        if (j.id() != id) continue;
        const std::string& next = update.properties().state();
        if ((next == "Completed" || next == "Closed") && next != j.properties().state()) {
          (*st.mutable_endedunixms())[id] = absl::ToUnixMillis(options_.clock->Now());
        }
        j.mutable_properties()->set_state(next);
        j.mutable_properties()->set_percentcomplete(update.properties().percentcomplete());
        auto* drives = update.mutable_properties()->mutable_drivelist();
        for (auto& d : *drives) {
          if (!d.bitlockerkey().empty()) continue;
          for (const auto& old : j.properties().drivelist()) {
            if (old.driveid() == d.driveid()) d.set_bitlockerkey(old.bitlockerkey());
          }
        }
        *j.mutable_properties()->mutable_drivelist() = *drives;
        result = j;
        return absl::OkStatus();
      }
      return absl::NotFoundError(absl::StrCat("import job ", std::string(req.matches[3]), " was not found"));
    });
    if (!s.ok()) return Error(res, 404, "ResourceNotFound", std::string(s.message()));
    Reply(res, 200, result);
  });

  // Microsoft Graph v1.0 (the directory), for certgen and the portal: directory_routes.cc.
  DirectoryRoutes();
}

}  // namespace vmb::ie
