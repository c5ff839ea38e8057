#include "snapshot/settings.h"

#include <dirent.h>

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/crypto/cms.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"
#include "snapshot/error_codes.h"
#include "snapshot/proto/handler.pb.h"

namespace vmb::snapshot {
namespace {

absl::Status Bad(absl::string_view message) { return WithCode(absl::InvalidArgumentError(message), kBadParameter); }

}  // namespace

absl::StatusOr<HandlerFolders> LoadHandlerEnvironment(const std::string& path) {
  absl::StatusOr<std::string> text = file::ReadFile(path);
  if (!text.ok()) {
    return WithCode(absl::Status(text.status().code(),
                                 absl::StrCat("cannot read the handler environment: ", text.status().message(),
                                              " (run from the handler folder or pass --handler-environment)")),
                    kBadParameter);
  }
  return ParseHandlerEnvironment(*text, path);
}

absl::StatusOr<HandlerFolders> ParseHandlerEnvironment(absl::string_view text, absl::string_view path) {
  // The Linux agent writes "version" as a number and adds eventsFolder(_preview); the Windows agent adds
  // deploymentid, rolename, instance, hostResolverAddress: read leniently, unknown keys ignored.
  proto::HandlerEnvironmentList list;
  absl::Status parsed = json::ParseArrayLenient(text, &list, path);
  if (!parsed.ok()) return WithCode(parsed, kBadParameter);
  if (list.items_size() != 1) {
    return Bad(absl::StrCat(path, " must hold exactly one handler entry, found ", list.items_size(),
                            " (the guest agent writes it when it installs the handler; reinstall the extension)"));
  }
  const proto::HandlerEnvironment& e = list.items(0);
  HandlerFolders f{e.name(),
                   e.version(),
                   e.handlerenvironment().logfolder(),
                   e.handlerenvironment().configfolder(),
                   e.handlerenvironment().statusfolder(),
                   e.handlerenvironment().heartbeatfile(),
                   e.handlerenvironment().eventsfolder()};
  for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"logFolder", &f.log_folder},
                                    {"configFolder", &f.config_folder},
                                    {"statusFolder", &f.status_folder}}) {
    if (value->empty()) return Bad(absl::StrCat(path, ": handlerEnvironment.", name, " is missing"));
  }
  return f;
}

absl::Time TicksToTime(int64_t ticks) { return absl::FromUnixNanos((ticks - kUnixEpochTicks) * 100); }

int64_t TimeToTicks(absl::Time t) { return absl::ToUnixNanos(t) / 100 + kUnixEpochTicks; }

namespace {

// Blanks a translation may put into a number: ASCII space and tab, and the no-break spaces of French typography
// (U+00A0, U+202F) and the thin space (U+2009), as UTF-8.
constexpr absl::string_view kBlanks[] = {" ", "\t", "\xc2\xa0", "\xe2\x80\xaf", "\xe2\x80\x89"};

absl::string_view StripLeadingBlanks(absl::string_view s) {
  for (bool again = true; again;) {
    again = false;
    for (absl::string_view b : kBlanks) again = again || absl::ConsumePrefix(&s, b);
  }
  return s;
}

absl::string_view StripTrailingBlanks(absl::string_view s) {
  for (bool again = true; again;) {
    again = false;
    for (absl::string_view b : kBlanks) again = again || absl::ConsumeSuffix(&s, b);
  }
  return s;
}

// The display form with the blanks around "E" and the exponent's sign removed: "6.36458E + 17" -> "6.36458E+17".
// Blanks anywhere else (inside the mantissa's or the exponent's digits) are kept, so such text stays invalid.
std::string JoinExponent(absl::string_view s) {
  size_t e = s.find_first_of("eE");
  if (e == absl::string_view::npos) return std::string(s);
  absl::string_view exponent = StripLeadingBlanks(s.substr(e + 1));
  std::string sign;
  if (!exponent.empty() && (exponent.front() == '+' || exponent.front() == '-')) {
    sign = std::string(1, exponent.front());
    exponent = StripLeadingBlanks(exponent.substr(1));
  }
  return absl::StrCat(StripTrailingBlanks(s.substr(0, e)), s.substr(e, 1), sign, exponent);
}

}  // namespace

// commandStartTimeUTCTicks is a .NET tick count (DateTime.UtcNow.Ticks: 100 ns units since 0001-01-01) that the
// backup service sends as the integer's digits; the real extension reads it with int() (VMBackup
// freezesnapshotter.py). The seeds' sample value "6.36458E+17" is such an integer as a spreadsheet displays it (it is
// 2017-11-09, the day of the samples' SAS tokens). Their Swedish and French translations print it "6.36458E + 17":
// machine translation and French typography set the exponent's sign apart with spaces (ASCII in sv, no-break
// U+00A0 in fr). A blank beside "E" or the sign cannot mean anything else, so those are dropped and the text is read
// as the same number as "6.36458E+17"; blanks inside the digits are still refused.
absl::StatusOr<CommandTicks> ParseTicks(absl::string_view text) {
  absl::string_view s = StripTrailingBlanks(StripLeadingBlanks(absl::StripAsciiWhitespace(text)));
  if (s.empty()) return Bad("commandStartTimeUTCTicks is missing");
  CommandTicks out;
  if (absl::SimpleAtoi(s, &out.ticks)) {
    if (out.ticks <= 0) return Bad(absl::StrCat("commandStartTimeUTCTicks \"", s, "\" is not a positive tick count"));
    return out;
  }
  // Scientific display form: mantissa digits tell the precision.
  const std::string joined = JoinExponent(s);
  absl::string_view n = joined;
  size_t e = n.find_first_of("eE");
  double value = 0;
  if (e == absl::string_view::npos || !absl::SimpleAtod(n, &value) || !(value > 0) || value > 9.2e18) {
    return Bad(absl::StrCat("commandStartTimeUTCTicks \"", s,
                            "\" is neither an integer tick count nor a number like 6.36458E+17"));
  }
  absl::string_view mantissa = n.substr(0, e);
  int exponent = 0;
  absl::SimpleAtoi(absl::StripPrefix(n.substr(e + 1), "+"), &exponent);
  int decimals = 0;
  size_t dot = mantissa.find('.');
  if (dot != absl::string_view::npos) decimals = static_cast<int>(mantissa.size() - dot - 1);
  out.ticks = static_cast<int64_t>(std::llround(value));
  double half_unit = 0.5 * std::pow(10.0, exponent - decimals);
  out.uncertainty = absl::Nanoseconds(half_unit * 100.0);
  return out;
}

absl::StatusOr<ObjectStrContent> ParseObjectStr(absl::string_view text) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  if (s.size() >= 2 && s.front() == '\'' && s.back() == '\'') s = absl::StripAsciiWhitespace(s.substr(1, s.size() - 2));
  if (s.empty()) return Bad("objectStr is missing: the backup service sent no disks");
  std::string json_text;
  if (absl::StartsWith(s, "{")) {
    json_text = std::string(s);
  } else {
    absl::StatusOr<std::string> decoded = crypto::Base64Decode(s);
    if (!decoded.ok()) {
      return Bad(absl::StrCat("objectStr is neither JSON nor base64 of JSON (", decoded.status().message(), ")"));
    }
    json_text = *decoded;
  }
  proto::ObjectStr object;
  absl::Status parsed = json::ParseLenient(json_text, &object, "objectStr");
  if (!parsed.ok()) return WithCode(parsed, kBadParameter);
  ObjectStrContent out;
  for (const std::string& uri : object.blobsasuri()) {
    out.blob_sas_uris.push_back(absl::StrReplaceAll(uri, {{"\\/", "/"}}));
  }
  for (const proto::KeyValue& kv : object.backupmetadata()) out.metadata.emplace_back(kv.key(), kv.value());
  return out;
}

absl::Status CheckVmType(absl::string_view vm_type) {
  for (absl::string_view known : {"", kVmTypeArm, kVmTypeClassic}) {
    if (absl::EqualsIgnoreCase(vm_type, known)) return absl::OkStatus();
  }
  return Bad(absl::StrCat("vmType \"", vm_type, "\" is not a VM type this extension serves: expected ", kVmTypeArm,
                          " (Resource Manager VMs) or ", kVmTypeClassic, " (classic VMs), in any letter case"));
}

absl::StatusOr<int> LatestSequenceNumber(const std::string& config_folder) {
  DIR* dir = ::opendir(config_folder.c_str());
  if (dir == nullptr) return Bad(absl::StrCat("cannot open the config folder ", config_folder));
  int best = -1;
  while (dirent* entry = ::readdir(dir)) {
    absl::string_view name = entry->d_name;
    int n = 0;
    if (absl::ConsumeSuffix(&name, ".settings") && absl::SimpleAtoi(name, &n) && n >= 0) best = std::max(best, n);
  }
  ::closedir(dir);
  if (best < 0) return Bad(absl::StrCat("no <N>.settings file in ", config_folder));
  return best;
}

namespace {

// An optional blob URI of the settings: none when empty, code 11 naming the field when it is not a URI.
absl::StatusOr<std::optional<blob::BlobUri>> ParseOptionalBlob(const std::string& uri, const char* name) {
  if (uri.empty()) return std::optional<blob::BlobUri>();
  absl::StatusOr<blob::BlobUri> parsed = blob::BlobUri::Parse(uri);
  if (!parsed.ok()) return Bad(absl::StrCat(name, ": ", parsed.status().message()));
  return std::optional<blob::BlobUri>(*parsed);
}

// The public settings into `out`: the task, the command and its time, and the status and logs blobs and metadata
// that may be given in public too (a status blob known early can report a failure of the protected part).
absl::Status ApplyPublicSettings(const proto::PublicSettings& pub, JobSettings& out) {
  out.locale = pub.locale();
  out.task_id = pub.taskid();
  out.command = pub.commandtoexecute();
  out.ticks_text = pub.commandstarttimeutcticks();
  out.vm_type = pub.vmtype();
  out.custom_settings = pub.customsettings();
  ASSIGN_OR_RETURN(out.status_blob, ParseOptionalBlob(pub.statusbloburi(), "statusBlobUri"));
  ASSIGN_OR_RETURN(out.logs_blob, ParseOptionalBlob(pub.logsbloburi(), "logsBlobUri"));
  if (pub.objectstr().empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(ObjectStrContent public_object, ParseObjectStr(pub.objectstr()));
  for (const auto& [k, v] : public_object.metadata) {
    if (!blob::IsValidMetadataName(k)) {
      return Bad(absl::StrCat("backupMetadata key \"", k, "\" is not a valid metadata name"));
    }
    out.snapshot_metadata[k] = v;
  }
  return absl::OkStatus();
}

// The protected settings, decrypted with the certificate in `cert_dir` they name: code 16 when it is not there (or
// cannot decrypt them), 11 when they are not CMS of JSON.
absl::StatusOr<proto::ProtectedSettings> DecryptProtectedSettings(const proto::SettingsFile::HandlerSettings& hs,
                                                                  const std::string& cert_dir) {
  absl::StatusOr<crypto::CertificateAndKey> identity =
      crypto::LoadFromCertDir(cert_dir, hs.protectedsettingscertthumbprint());
  if (!identity.ok()) {
    int code = identity.status().code() == absl::StatusCode::kNotFound ? kCertificateNotFound : kBadParameter;
    return WithCode(identity.status(), code);
  }
  absl::StatusOr<std::string> plain = crypto::CmsDecryptBase64(hs.protectedsettings(), *identity);
  if (!plain.ok()) {
    int code = plain.status().code() == absl::StatusCode::kFailedPrecondition ? kCertificateNotFound : kBadParameter;
    return WithCode(absl::Status(plain.status().code(), absl::StrCat("protectedSettings: ", plain.status().message())),
                    code);
  }
  proto::ProtectedSettings prot;
  RETURN_IF_ERROR(WithCode(json::ParseLenient(*plain, &prot, "the decrypted protectedSettings"), kBadParameter));
  return prot;
}

// The report blobs of the protected settings into `out`: they override the public ones, and a status blob is required.
absl::Status ApplyReportBlobs(const proto::ProtectedSettings& prot, JobSettings& out) {
  if (!prot.statusbloburi().empty()) {
    ASSIGN_OR_RETURN(out.status_blob, ParseOptionalBlob(prot.statusbloburi(), "statusBlobUri"));
  }
  if (!prot.logsbloburi().empty()) {
    ASSIGN_OR_RETURN(out.logs_blob, ParseOptionalBlob(prot.logsbloburi(), "logsBlobUri"));
  }
  if (!out.status_blob) return Bad("statusBlobUri is missing from the protected settings");
  return absl::OkStatus();
}

// The disks of the protected objectStr (at least one) and its backupMetadata into `out`.
absl::Status ApplyDisks(const proto::ProtectedSettings& prot, JobSettings& out) {
  ASSIGN_OR_RETURN(ObjectStrContent object, ParseObjectStr(prot.objectstr()));
  if (object.blob_sas_uris.empty()) return Bad("objectStr lists no disks (blobSASUri is empty)");
  for (size_t i = 0; i < object.blob_sas_uris.size(); ++i) {
    absl::StatusOr<blob::BlobUri> disk = blob::BlobUri::Parse(object.blob_sas_uris[i]);
    if (!disk.ok() || !disk->is_blob()) {
      return Bad(absl::StrCat("objectStr disk ", i + 1, " is not a blob URI",
                              disk.ok() ? "" : absl::StrCat(": ", disk.status().message())));
    }
    out.disks.push_back(*disk);
  }
  for (const auto& [k, v] : object.metadata) out.snapshot_metadata[k] = v;
  return absl::OkStatus();
}

// What every job's public settings must carry. taskId: the seeds' schema names it among the settings the extension
// requires (it identifies the backup job that the status answers, and a task is processed once by it). vmType: the
// seeds do not list it as required, so it may be absent, but when given it must be a type the extension serves.
absl::Status CheckPublicSettings(const JobSettings& s, absl::string_view path) {
  if (absl::StripAsciiWhitespace(s.task_id).empty()) {
    return Bad(absl::StrCat("taskId is missing from the public settings in ", path,
                            ": it names the backup job this status answers, and the backup service sends it with "
                            "every job; nothing was frozen or snapshotted, the service must send the job again"));
  }
  return CheckVmType(s.vm_type);
}

}  // namespace

absl::StatusOr<JobSettings> LoadJobSettings(const std::string& config_folder, int seq, const std::string& cert_dir,
                                            JobSettings* partial) {
  JobSettings local;
  JobSettings& out = partial ? *partial : local;
  out.seq = seq;
  std::string path = absl::StrCat(config_folder, "/", seq, ".settings");
  absl::StatusOr<std::string> text = file::ReadFile(path);
  if (!text.ok()) return WithCode(text.status(), kBadParameter);
  proto::SettingsFile settings;
  RETURN_IF_ERROR(WithCode(json::ParseLenient(*text, &settings, path), kBadParameter));
  if (settings.runtimesettings_size() < 1) return Bad(absl::StrCat(path, " has no runtimeSettings"));
  const proto::SettingsFile::HandlerSettings& hs = settings.runtimesettings(0).handlersettings();
  const proto::PublicSettings& pub = hs.publicsettings();
  RETURN_IF_ERROR(ApplyPublicSettings(pub, out));

  if (hs.protectedsettings().empty() && pub.commandtoexecute().empty() && pub.taskid().empty()) {
    return Bad(absl::StrCat(path,
                            " holds no settings (the guest agent writes such a file when the extension has "
                            "none): no backup job was sent, so nothing was snapshotted"));
  }
  if (hs.protectedsettings().empty()) {
    return Bad(absl::StrCat(path,
                            " has no protectedSettings (already consumed by an earlier run, or not sent); "
                            "the backup service must send the settings again"));
  }
  out.had_protected_settings = true;
  ASSIGN_OR_RETURN(proto::ProtectedSettings prot, DecryptProtectedSettings(hs, cert_dir));

  // The Linux twin rewrites the settings file without the protected part once it has read it.
  settings.mutable_runtimesettings(0)->mutable_handlersettings()->clear_protectedsettings();
  settings.mutable_runtimesettings(0)->mutable_handlersettings()->clear_protectedsettingscertthumbprint();
  RETURN_IF_ERROR(file::WriteFileAtomic(path, json::ToJson(settings), 0600));
  // The status blob is learned before the public settings are judged, so a refusal reaches the backup service too.
  RETURN_IF_ERROR(ApplyReportBlobs(prot, out));
  RETURN_IF_ERROR(CheckPublicSettings(out, path));
  RETURN_IF_ERROR(ApplyDisks(prot, out));
  return out;
}

}  // namespace vmb::snapshot
