#include "snapshot/replay.h"

#include <dirent.h>

#include <cmath>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/blob/blob_client.h"
#include "common/blob/dev_account.h"
#include "common/blob/shared_key.h"
#include "common/crypto/cms.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"
#include "snapshot/enable_job.h"
#include "snapshot/freeze.h"
#include "snapshot/proto/handler.pb.h"
#include "snapshot/settings.h"
#include "snapshot/status_report.h"

namespace vmb::snapshot {

std::string FormatTicksLike(const std::string& original, int64_t ticks) {
  size_t e = original.find_first_of("eE");
  if (e == std::string::npos) return absl::StrCat(ticks);
  size_t mantissa_end = original.find_last_of("0123456789.", e) + 1;  // before any blank ahead of the "E"
  size_t digits = original.find_first_of("0123456789", e);
  if (mantissa_end == 0 || digits == std::string::npos) return original;  // not a number: keep it as captured
  size_t dot = original.find('.');
  int decimals = dot == std::string::npos || dot >= mantissa_end ? 0 : static_cast<int>(mantissa_end - dot - 1);
  std::string s = absl::StrFormat("%.*E", decimals, static_cast<double>(ticks));  // 6.39012E+17
  size_t formatted_e = s.find('E');
  return absl::StrCat(s.substr(0, formatted_e), original.substr(mantissa_end, digits - mantissa_end),
                      s.substr(s.find_first_of("0123456789", formatted_e)));
}

namespace {

std::string Basename(const std::string& path) {
  std::string p = path;
  while (!p.empty() && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string Dirname(const std::string& path) {
  std::string p = path;
  while (!p.empty() && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

// The one certificate in <fixtures>/test_cert/.
absl::StatusOr<crypto::CertificateAndKey> LoadTestCert(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return absl::NotFoundError(absl::StrCat("no test certificate folder ", dir));
  std::string thumb;
  while (dirent* e = ::readdir(d)) {
    absl::string_view n = e->d_name;
    if (absl::ConsumeSuffix(&n, ".crt")) thumb = std::string(n);
  }
  ::closedir(d);
  if (thumb.empty()) return absl::NotFoundError(absl::StrCat("no .crt in ", dir));
  return crypto::LoadFromCertDir(dir, thumb);
}

class Mapper {
 public:
  Mapper(blob::BlobClient& client, const blob::SharedKeyCredential& cred, const blob::BlobUri& account,
         std::string prefix)
      : client_(client), cred_(cred), account_(account), prefix_(std::move(prefix)) {}

  // Maps a captured URI onto the endpoint; creates the container, and for disks a 1 MiB page blob with data.
  absl::StatusOr<std::string> Map(const std::string& original, bool is_disk) {
    ASSIGN_OR_RETURN(blob::BlobUri src, blob::BlobUri::Parse(original));
    std::string container = absl::AsciiStrToLower(absl::StrCat(prefix_, "-", src.container()));
    for (char& c : container) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '-';
    }
    container = container.substr(0, 63);
    while (!container.empty() && container.back() == '-') container.pop_back();
    blob::BlobUri target = account_.WithContainer(container).WithBlob(src.blob());
    RETURN_IF_ERROR(client_.CreateContainer(account_.WithContainer(container)));
    if (is_disk) {
      absl::StatusOr<blob::BlobProperties> props = client_.GetProperties(target);
      if (!props.ok()) {
        RETURN_IF_ERROR(client_.CreatePageBlob(target, 1 << 20));
        RETURN_IF_ERROR(client_.PutPages(target, 0, std::string(4096, static_cast<char>('a' + disks_.size() % 26))));
      }
      disks_.push_back(target);
    }
    blob::SasOptions o;
    o.container = container;
    o.blob = src.blob();
    o.permissions = "racw";
    o.start = absl::Now() - absl::Minutes(5);
    o.expiry = absl::Now() + absl::Hours(2);
    ASSIGN_OR_RETURN(blob::SasToken sas, blob::MakeServiceSas(cred_, o));
    return target.WithSas(sas.query).ToString();
  }

  const std::vector<blob::BlobUri>& disks() const { return disks_; }

 private:
  blob::BlobClient& client_;
  const blob::SharedKeyCredential& cred_;
  blob::BlobUri account_;
  std::string prefix_;
  std::vector<blob::BlobUri> disks_;
};

// Builds the handler folder for one fixture: maps URIs, re-encrypts protected settings, rebases ticks.
absl::Status Prepare(const std::string& fixture_dir, const std::string& work, const proto::Fixture& fixture,
                     Mapper& mapper, const crypto::CertificateAndKey& cert) {
  ASSIGN_OR_RETURN(std::string settings_text, file::ReadFile(fixture_dir + "/settings.json"));
  proto::SettingsFile settings;
  RETURN_IF_ERROR(json::Parse(settings_text, &settings, "settings.json"));
  if (settings.runtimesettings_size() < 1) return absl::InvalidArgumentError("settings.json has no runtimeSettings");
  proto::SettingsFile::HandlerSettings* hs = settings.mutable_runtimesettings(0)->mutable_handlersettings();
  proto::PublicSettings* pub = hs->mutable_publicsettings();
  if (fixture.rebaseticks()) {
    int64_t now = TimeToTicks(absl::Now() + absl::Minutes(fixture.ticksoffsetminutes()));
    pub->set_commandstarttimeutcticks(FormatTicksLike(pub->commandstarttimeutcticks(), now));
  }
  if (!pub->statusbloburi().empty()) {
    ASSIGN_OR_RETURN(std::string mapped, mapper.Map(pub->statusbloburi(), false));
    pub->set_statusbloburi(mapped);
  }
  if (!pub->logsbloburi().empty()) {
    ASSIGN_OR_RETURN(std::string mapped, mapper.Map(pub->logsbloburi(), false));
    pub->set_logsbloburi(mapped);
  }
  absl::StatusOr<std::string> protected_text = file::ReadFile(fixture_dir + "/protected.json");
  if (protected_text.ok()) {
    proto::ProtectedSettings prot;
    RETURN_IF_ERROR(json::Parse(*protected_text, &prot, "protected.json"));
    if (!prot.statusbloburi().empty()) {
      ASSIGN_OR_RETURN(std::string mapped, mapper.Map(prot.statusbloburi(), false));
      prot.set_statusbloburi(mapped);
    }
    if (!prot.logsbloburi().empty()) {
      ASSIGN_OR_RETURN(std::string mapped, mapper.Map(prot.logsbloburi(), false));
      prot.set_logsbloburi(mapped);
    }
    absl::StatusOr<ObjectStrContent> object = ParseObjectStr(prot.objectstr());
    if (object.ok()) {
      proto::ObjectStr out;
      for (const std::string& uri : object->blob_sas_uris) {
        ASSIGN_OR_RETURN(std::string mapped, mapper.Map(uri, true));
        out.add_blobsasuri(mapped);
      }
      bool was_json = absl::StartsWith(absl::StripAsciiWhitespace(prot.objectstr()), "{");
      std::string json_text = json::ToJson(out);
      prot.set_objectstr(was_json ? json_text : crypto::Base64Encode(json_text));
    }  // else: malformed on purpose; keep it as captured
    ASSIGN_OR_RETURN(std::string der,
                     crypto::CmsEncrypt(json::ToJson(prot), cert.certificate, crypto::CmsCipher::kAes256Cbc));
    hs->set_protectedsettings(crypto::Base64Encode(der));
  }
  for (const char* sub : {"/config", "/status", "/log", "/certs"}) RETURN_IF_ERROR(file::MakeDirs(work + sub, 0700));
  RETURN_IF_ERROR(file::WriteFileAtomic(work + "/config/0.settings", json::ToJson(settings), 0600));
  RETURN_IF_ERROR(crypto::WriteToCertDir(work + "/certs", cert).status());
  std::string env = absl::StrCat(
      R"([{"name":"Microsoft.Azure.RecoveryServices.VMSnapshotLinux","version":1.0,"handlerEnvironment":{)",
      R"("logFolder":")", work, R"(/log","configFolder":")", work, R"(/config","statusFolder":")", work,
      R"(/status","heartbeatFile":")", work, R"(/heartbeat.log"}}])");
  return file::WriteFileAtomic(work + "/HandlerEnvironment.json", env, 0644);
}

void Check(ReplayOutcome* out, bool ok, const std::string& what) {
  absl::StrAppend(&out->report, ok ? "  ok   " : "  FAIL ", what, "\n");
  if (!ok) out->passed = false;
}

}  // namespace

ReplayOutcome ReplayFixture(const std::string& fixture_dir, const ReplayOptions& o) {
  ReplayOutcome out;
  out.passed = true;
  std::string name = Basename(fixture_dir);
  absl::StrAppend(&out.report, name, ":\n");
  proto::Fixture fixture;
  absl::StatusOr<std::string> fixture_text = file::ReadFile(fixture_dir + "/fixture.json");
  absl::Status parsed =
      fixture_text.ok() ? json::Parse(*fixture_text, &fixture, "fixture.json") : fixture_text.status();
  if (!parsed.ok()) {
    Check(&out, false, absl::StrCat("read fixture.json: ", parsed.message()));
    return out;
  }
  absl::StatusOr<blob::SharedKeyCredential> cred;
  absl::StatusOr<blob::BlobUri> account = blob::BlobUri::ForAccount(o.blob_endpoint);
  if (account.ok()) {
    cred = blob::SharedKeyCredential::Create(account->account(),
                                             o.account_key.empty() ? blob::kDevAccountKey : o.account_key);
  }
  absl::StatusOr<crypto::CertificateAndKey> cert = LoadTestCert(Dirname(fixture_dir) + "/test_cert");
  if (!account.ok() || !cred.ok() || !cert.ok()) {
    Check(&out, false,
          absl::StrCat("set-up: ", !account.ok() ? account.status().message()
                                   : !cred.ok()  ? cred.status().message()
                                                 : cert.status().message()));
    return out;
  }
  blob::BlobClient admin(o.transport, *cred);
  std::string prefix = absl::AsciiStrToLower(name).substr(0, 40);
  Mapper mapper(admin, *cred, *account, prefix);
  std::string work = absl::StrCat(o.work_dir, "/", name);
  absl::Status prepared = Prepare(fixture_dir, work, fixture, mapper, *cert);
  if (!prepared.ok()) {
    Check(&out, false, absl::StrCat("prepare: ", prepared.message()));
    return out;
  }

  NoFreeze freeze;
  EnableOptions eo;
  eo.handler_environment = work + "/HandlerEnvironment.json";
  eo.cert_dir = work + "/certs";
  eo.seq = 0;
  eo.transport = o.transport;
  eo.freeze = &freeze;
  EnableResult r = RunEnable(eo);
  out.code = r.code;
  Check(&out, r.code == fixture.expectedcode(),
        absl::StrCat("code ", r.code, " (expected ", fixture.expectedcode(), "): ", r.message));
  Check(&out, r.status == fixture.expectedstatus(),
        absl::StrCat("status \"", r.status, "\" (expected \"", fixture.expectedstatus(), "\")"));
  // As the real extension, enable exits 0 once the outcome is in the status file, whatever the outcome.
  Check(&out, r.exit_code == 0, absl::StrCat("exit code ", r.exit_code));

  // The status file says the same (in its substatus[0], what the host receives), in the requested language.
  absl::StatusOr<std::string> status_text = file::ReadFile(work + "/status/0.status");
  absl::StatusOr<proto::StatusDocument> status = status_text.ok()
                                                     ? ParseStatus(*status_text, "status file")
                                                     : absl::StatusOr<proto::StatusDocument>(status_text.status());
  Check(&out, status.ok(), "status file written and parsable");
  if (status.ok()) {
    const auto& st = status->status();
    Check(&out, st.code() == fixture.expectedcode() && st.status() == fixture.expectedstatus(),
          absl::StrCat("status file code ", st.code(), " / ", st.status()));
    Check(&out, status->version() == kExtensionVersion, absl::StrCat("status version ", status->version()));
    if (!fixture.expectedlang().empty()) {
      Check(&out, st.formattedmessage().lang() == fixture.expectedlang(),
            absl::StrCat("lang ", st.formattedmessage().lang()));
    }
    if (!fixture.expectedmessagecontains().empty()) {
      Check(&out, absl::StrContains(st.formattedmessage().message(), fixture.expectedmessagecontains()),
            absl::StrCat("message contains \"", fixture.expectedmessagecontains(), "\""));
    }
  }
  // Snapshots that really exist on the server.
  int snapshots = 0;
  for (const blob::BlobUri& disk : mapper.disks()) {
    blob::ListOptions lo;
    lo.prefix = disk.blob();
    lo.include_snapshots = true;
    absl::StatusOr<std::vector<blob::BlobItem>> items = admin.ListBlobs(disk.WithContainer(disk.container()), lo);
    if (!items.ok()) continue;
    for (const blob::BlobItem& i : *items) snapshots += (i.name == disk.blob() && !i.snapshot.empty());
  }
  Check(&out, snapshots == fixture.expectedsnapshots(),
        absl::StrCat(snapshots, " snapshot(s) on the server (expected ", fixture.expectedsnapshots(), ")"));
  return out;
}

}  // namespace vmb::snapshot
