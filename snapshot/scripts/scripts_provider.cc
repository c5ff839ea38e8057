#include "snapshot/scripts/scripts_provider.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/process/subprocess.h"
#include "snapshot/error_codes.h"
#include "snapshot/scripts/scripts.pb.h"

namespace vmb::snapshot::scripts {
namespace {

enum : int {
  kPreFailed = 300,
  kPostFailed = 301,
  kPreNotFound = 302,
  kPostNotFound = 303,
  kConfigParse = 305,
  kPrePermission = 306,
  kPostPermission = 307,
  kPreTimeout = 308,
  kPostTimeout = 309,
  kConfigNotFound = 316,
  kConfigPermission = 317,
  kConfigOwner = 318,
};

// mode must be exactly `want`, owner the user we run as.
absl::Status CheckFile(const std::string& path, mode_t want, int not_found, int bad_mode, int bad_owner,
                       const char* what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return WithCode(absl::NotFoundError(absl::StrCat(what, " ", path, " not found")), not_found);
  }
  if (st.st_uid != ::geteuid()) {
    return WithCode(absl::PermissionDeniedError(absl::StrCat(what, " ", path, " is owned by uid ", st.st_uid,
                                                             "; it must be owned by uid ", ::geteuid(), " (root)")),
                    bad_owner);
  }
  if ((st.st_mode & 07777) != want) {
    return WithCode(absl::PermissionDeniedError(absl::StrFormat("%s %s has mode %04o; it must be %04o (chmod %o %s)",
                                                                what, path, st.st_mode & 07777, want, want, path)),
                    bad_mode);
  }
  return absl::OkStatus();
}

// Runs a script with retries; returns OK (exit 0 or 2), or the failure with `failed`/`timed_out` codes.
absl::Status RunScript(const std::string& script, const std::vector<std::string>& params, int retries,
                       int timeout_seconds, int failed, int timed_out, const char* what) {
  std::vector<std::string> argv = {"sh", script};
  for (const std::string& p : params) {
    if (!p.empty()) argv.push_back(p);
  }
  std::string last;
  for (int attempt = 0; attempt <= retries; ++attempt) {
    process::RunOptions o;
    o.timeout_ms = timeout_seconds * 1000;
    absl::StatusOr<process::CommandResult> r = process::RunCommand(argv, o);
    if (!r.ok()) return WithCode(r.status(), failed);
    if (r->exit_code == 0 || r->exit_code == 2) return absl::OkStatus();
    if (r->exit_code == 128 + 9) {
      return WithCode(absl::DeadlineExceededError(
                          absl::StrCat(what, " ", script, " did not finish within ", timeout_seconds, " s")),
                      timed_out);
    }
    last = absl::StrCat(what, " ", script, " exited with ", r->exit_code,
                        r->stderr_data.empty() ? "" : absl::StrCat(": ", r->stderr_data.substr(0, 300)));
  }
  return WithCode(absl::InternalError(absl::StrCat(last, " (after ", retries + 1, " attempt(s))")), failed);
}

}  // namespace

absl::StatusOr<ScriptConfig> LoadScriptConfig(const std::string& path) {
  absl::Status checked = CheckFile(path, 0600, kConfigNotFound, kConfigPermission, kConfigOwner, "script config");
  if (!checked.ok()) return checked;
  absl::StatusOr<std::string> text = file::ReadFile(path);
  if (!text.ok()) return WithCode(text.status(), kConfigNotFound);
  proto::ScriptPluginConfig c;
  // Written by admins from Microsoft's template: numbers and booleans may come quoted or not.
  absl::Status parsed = json::ParseLenient(*text, &c, path);
  if (!parsed.ok()) return WithCode(parsed, kConfigParse);
  ScriptConfig out;
  out.plugin_name = c.pluginname();
  out.pre_script = c.prescriptlocation();
  out.post_script = c.postscriptlocation();
  out.pre_params.assign(c.prescriptparams().begin(), c.prescriptparams().end());
  out.post_params.assign(c.postscriptparams().begin(), c.postscriptparams().end());
  out.pre_retries = std::max(0, c.prescriptnoofretries());
  out.post_retries = std::max(0, c.postscriptnoofretries());
  out.timeout_seconds = c.timeoutinseconds() > 0 ? c.timeoutinseconds() : 30;
  out.continue_on_failure = c.continuebackuponfailure();
  out.fs_freeze_enabled = c.fsfreezeenabled();
  return out;
}

Consistency ScriptsProvider::consistency() const {
  if (pre_ok_) return kApplicationConsistent;
  return fs_frozen_ ? kFileSystemConsistent : kCrashConsistent;
}

absl::Status ScriptsProvider::Freeze(absl::Duration timeout) {
  pre_ok_ = fs_frozen_ = false;
  absl::StatusOr<ScriptConfig> config = LoadScriptConfig(config_path_);
  if (!config.ok()) return config.status();
  config_ = *config;
  armed_ = true;
  absl::Status pre = absl::OkStatus();
  if (!config_.pre_script.empty()) {
    pre = CheckFile(config_.pre_script, 0700, kPreNotFound, kPrePermission, kPrePermission, "pre-script");
    if (pre.ok()) {
      pre = RunScript(config_.pre_script, config_.pre_params, config_.pre_retries, config_.timeout_seconds, kPreFailed,
                      kPreTimeout, "pre-script");
    }
  }
  if (!pre.ok()) {
    if (!config_.continue_on_failure) {
      armed_ = false;
      return pre;
    }
    notes_ = absl::StrCat(pre.message(), "; continued (continueBackupOnFailure), not application-consistent");
  } else {
    pre_ok_ = !config_.pre_script.empty();
  }
  if (config_.fs_freeze_enabled) {
    if (!fs_freeze_)
      return WithCode(absl::FailedPreconditionError("fsFreezeEnabled but no fsfreeze provider"), kFreezeFailed);
    absl::Status f = fs_freeze_->Freeze(timeout);
    if (!f.ok()) {
      (void)Thaw();
      return f;
    }
    fs_frozen_ = fs_freeze_->consistency() == kFileSystemConsistent;
  }
  return absl::OkStatus();
}

absl::Status ScriptsProvider::Thaw() {
  if (!armed_) return absl::OkStatus();
  armed_ = false;
  absl::Status thawed = fs_freeze_ && config_.fs_freeze_enabled ? fs_freeze_->Thaw() : absl::OkStatus();
  absl::Status post = absl::OkStatus();
  if (!config_.post_script.empty()) {
    post = CheckFile(config_.post_script, 0700, kPostNotFound, kPostPermission, kPostPermission, "post-script");
    if (post.ok()) {
      post = RunScript(config_.post_script, config_.post_params, config_.post_retries, config_.timeout_seconds,
                       kPostFailed, kPostTimeout, "post-script");
    }
  }
  if (!thawed.ok()) return thawed;
  if (!post.ok()) {
    if (config_.continue_on_failure) {
      notes_ = notes_.empty() ? std::string(post.message()) : absl::StrCat(notes_, "; ", post.message());
      return absl::OkStatus();
    }
    return post;
  }
  return absl::OkStatus();
}

}  // namespace vmb::snapshot::scripts
