#include "snapshot/command_line.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/file/file_util.h"
#include "common/json/json.h"

namespace vmb::snapshot {
namespace {

absl::Status Problem(absl::string_view what) { return absl::InvalidArgumentError(what); }

// An option whose value is taken as given.
struct StringOption {
  const char* flag;
  const char* problem;  // when the value is missing
  std::string* (*target)(CommandLine&);
};

const StringOption kStringOptions[] = {
    {"--handler-environment", "--handler-environment needs a path",
     [](CommandLine& c) { return &c.options.handler_environment; }},
    {"--cert-dir", "--cert-dir needs a directory", [](CommandLine& c) { return &c.options.cert_dir; }},
    {"--freeze-provider", "--freeze-provider needs a name", [](CommandLine& c) { return &c.freeze_name; }},
    {"--freeze-lock-file", "--freeze-lock-file needs a path", [](CommandLine& c) { return &c.fsfreeze.lock_file; }},
    {"--thaw-check-file", "--thaw-check-file needs a path (or \"\")",
     [](CommandLine& c) { return &c.thaw_check_file; }},
    {"--vss-socket", "--vss-socket needs a path", [](CommandLine& c) { return &c.vss_socket; }},
    {"--script-config", "--script-config needs a path", [](CommandLine& c) { return &c.script_config; }},
    {"--freeze-mounts-file", "--freeze-mounts-file needs a file",
     [](CommandLine& c) { return &c.fsfreeze.mounts_file; }},
    {"--freeze-trace-log", "--freeze-trace-log needs a file", [](CommandLine& c) { return &c.fsfreeze.trace_log; }},
    {"--freeze-dry-run-log", "--freeze-dry-run-log needs a file",
     [](CommandLine& c) { return &c.fsfreeze.dry_run_log; }},
    {"--blob-endpoint", "--blob-endpoint needs a URL", [](CommandLine& c) { return &c.endpoint; }},
    {"--account-key-file", "--account-key-file needs a file", [](CommandLine& c) { return &c.account_key_file; }},
    {"--work-dir", "--work-dir needs a directory", [](CommandLine& c) { return &c.work_dir; }},
};

const StringOption* FindStringOption(const std::string& flag) {
  for (const StringOption& o : kStringOptions) {
    if (flag == o.flag) return &o;
  }
  return nullptr;
}

bool IsNumberOption(const std::string& flag) {
  return flag == "--seq" || flag == "--deadline" || flag == "--hold-ms" || flag == "--budget-ms";
}

// --seq, --deadline, --hold-ms and --budget-ms: `value` (nullptr when missing) must be a number in the option's range.
absl::Status SetNumberOption(const std::string& flag, const std::string* value, CommandLine& c) {
  if (flag == "--seq") {
    int n = 0;
    if (value == nullptr || !absl::SimpleAtoi(*value, &n) || n < 0) return Problem("--seq needs a non-negative number");
    c.options.seq = n;
  } else if (flag == "--deadline") {
    int s = 0;
    if (value == nullptr || !absl::SimpleAtoi(*value, &s) || s <= 0 || s > 290) {
      return Problem("--deadline needs seconds between 1 and 290");
    }
    c.options.deadline = absl::Seconds(s);
  } else {
    int64_t* target = flag == "--hold-ms" ? &c.hold_ms : &c.budget_ms;
    if (value == nullptr || !absl::SimpleAtoi(*value, target) || *target <= 0) {
      return Problem(absl::StrCat(flag, " needs milliseconds"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<proto::ExtensionConfig> LoadExtensionConfig(const std::vector<std::string>& args) {
  std::string path = kDefaultConfigPath;
  bool explicit_path = false;
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--config") {
      path = args[i + 1];
      explicit_path = true;
    }
  }
  proto::ExtensionConfig config;
  absl::StatusOr<std::string> text = file::ReadFile(path);
  if (text.ok()) {
    absl::Status parsed = json::ParseLenient(*text, &config, path);
    if (!parsed.ok()) return Problem(parsed.message());
  } else if (explicit_path) {
    return Problem(absl::StrCat("cannot read --config: ", text.status().message()));
  }
  return config;
}

CommandLine FromConfig(const proto::ExtensionConfig& config, const char* extension_path) {
  CommandLine c;
  if (!config.freezeprovider().empty()) c.freeze_name = config.freezeprovider();
  for (const std::string& m : config.freezeskipmounts()) c.fsfreeze.skip_mounts.push_back(m);
  if (!config.freezelockfile().empty()) c.fsfreeze.lock_file = config.freezelockfile();
  if (config.has_thawcheckfile()) c.thaw_check_file = config.thawcheckfile();
  // The agent names the handler folder in AZURE_GUEST_AGENT_EXTENSION_PATH (waagent 2.7 and later) but never its lib
  // dir, the parent of every handler folder.
  if (extension_path != nullptr && *extension_path != '\0') {
    std::string p = extension_path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    if (size_t slash = p.find_last_of('/'); slash != std::string::npos && slash > 0) {
      c.options.cert_dir = p.substr(0, slash);
    }
  }
  if (!config.certdir().empty()) c.options.cert_dir = config.certdir();
  c.script_config = config.scriptconfig();
  c.vss_socket = config.vsssocket();
  if (config.deadlineseconds() > 0 && config.deadlineseconds() <= 290) {
    c.options.deadline = absl::Seconds(config.deadlineseconds());
  }
  return c;
}

absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args, CommandLine c) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const std::string* next = i + 1 < args.size() ? &args[i + 1] : nullptr;
    if (a == "--help" || a == "-h" || a == "help") {
      c.show_help = true;
      return c;
    }
    if (a == "--version") {
      c.show_version = true;
      return c;
    }
    if (const StringOption* o = FindStringOption(a)) {
      if (next == nullptr) return Problem(o->problem);
      *o->target(c) = args[++i];
    } else if (IsNumberOption(a)) {
      if (absl::Status s = SetNumberOption(a, next, c); !s.ok()) return s;
      ++i;
    } else if (a == "--freeze-skip-mount") {
      if (next == nullptr) return Problem("--freeze-skip-mount needs a mount point");
      c.fsfreeze.skip_mounts.push_back(args[++i]);
    } else if (a == "--config") {
      ++i;  // read by LoadExtensionConfig
    } else if (a == "--verbose") {
      c.options.echo_log_to_stderr = true;
    } else if (absl::StartsWith(a, "-")) {
      return Problem(absl::StrCat("unknown option ", a));
    } else if (c.command.empty()) {
      c.command = a;
    } else {
      c.positional.push_back(a);
    }
  }
  return c;
}

}  // namespace vmb::snapshot
