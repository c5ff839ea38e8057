#include "offline_seed/bench/scale_tools.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "offline_seed/bench/scale_corpus.h"
#include "offline_seed/vault/vault.pb.h"

namespace vmb::offline::bench {
namespace {

// GNU tar as the project's peers run it (ENVIRONMENT.md): keeping xattrs and ACLs as ours does, holes as holes.
constexpr char kTarCreate[] =
    "set -o pipefail; tar --xattrs --acls --sparse -cf - -C \"$1\" . | zstd -q -T2 -1 -o \"$2\"";
constexpr char kTarExtract[] = "set -o pipefail; zstd -q -d -c \"$1\" | tar --xattrs --acls --sparse -xf - -C \"$2\"";

}  // namespace

const char* ToolName(Tool tool) {
  switch (tool) {
    case Tool::kOurs:
      return "ours";
    case Tool::kRestic:
      return "restic";
    case Tool::kBorg:
      return "borg";
    case Tool::kTarZstd:
      return "tar|zstd";
  }
  return "?";
}

std::string ToolSettings() {
  return "  ours      seedagent initiate --threads 2 (restore: seedagent restore-staging; repeat: seedagent backup\n"
         "            --threads 2 into the vault on Azurite, once recovery point 1 was copied in from the staging)\n"
         "  restic    restic 0.14 backup --compression auto, fresh repo (AES, password from a 0600 file)\n"
         "  borg      borg 1.2.4 create --compression zstd,1, fresh repo, --encryption none\n"
         "  tar|zstd  tar --xattrs --acls --sparse -cf - DIR | zstd -T2 -1 -o FILE\n"
         "  every time includes syncing the output's file system; output = bytes allocated on disk (du)\n";
}

Tools::Tools(ToolEnv env) : env_(std::move(env)) {
  password_file_ = env_.scratch + "/restic-password";
  std::string secret = crypto::Base16Encode(crypto::SecureRandom().Bytes(24));
  (void)file::WriteFileAtomic(password_file_, secret, 0600);
}

Child Tools::Make(Tool tool, std::vector<std::string> argv, const std::string& sync_path) const {
  Child c;
  c.argv = std::move(argv);
  c.sync_path = sync_path;
  c.log = absl::StrCat(env_.scratch, "/", tool == Tool::kTarZstd ? "tar" : ToolName(tool), ".log");
  ::unlink(c.log.c_str());  // each run gets its own log
  switch (tool) {
    case Tool::kOurs:
      c.env = {"VMBACKUP_CONTROL_PLANE=" + env_.control_plane, "VMBACKUP_TOKEN=" + env_.token};
      break;
    case Tool::kRestic:
      c.env = {"RESTIC_PASSWORD_FILE=" + password_file_, "RESTIC_CACHE_DIR=" + env_.scratch + "/restic-cache"};
      break;
    case Tool::kBorg:
      c.env = {"BORG_BASE_DIR=" + env_.scratch + "/borg-base", "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes",
               "BORG_RELOCATED_REPO_ACCESS_IS_OK=yes"};
      break;
    case Tool::kTarZstd:
      break;
  }
  return c;
}

Outcome Tools::Run(const Child& child, const std::string& out) const {
  Outcome o;
  o.run = RunMeasured(child);
  o.output_bytes = AllocatedBytes(out);
  if (!o.run.ok()) {
    o.note = o.run.started ? absl::StrCat(child.argv[0], " ", child.argv[1], " exited ", o.run.exit_code, ": ",
                                          LogTail(child.log))
                           : absl::StrCat("cannot run ", child.argv[0]);
  }
  return o;
}

Outcome Tools::Backup(Tool tool, const std::string& source, const std::string& out, const std::string& tag) {
  switch (tool) {
    case Tool::kOurs:
      return Run(Make(tool,
                      {env_.seedagent, "initiate", "--source", source, "--staging", out, "--publish-settings",
                       env_.publish, "--job-name", tag, "--subscription-id", "sub", "--storage-account", "acct",
                       "--container", "offline", "--threads", "2"},
                      env_.scratch),
                 out);
    case Tool::kRestic: {
      Outcome init = Run(Make(tool, {"restic", "init", "-q", "--repo", out}, ""), out);
      if (!init.run.ok()) return init;
      return Run(Make(tool, {"restic", "backup", "-q", "--compression", "auto", "--repo", out, source}, out), out);
    }
    case Tool::kBorg: {
      Outcome init = Run(Make(tool, {"borg", "init", "--encryption", "none", out}, ""), out);
      if (!init.run.ok()) return init;
      return Run(Make(tool, {"borg", "create", "--compression", "zstd,1", out + "::first", source}, out), out);
    }
    case Tool::kTarZstd: {
      (void)file::MakeDirs(out);
      return Run(Make(tool, {"bash", "-c", kTarCreate, "bash", source, out + "/tree.tar.zst"}, out), out);
    }
  }
  return {};
}

Outcome Tools::Repeat(Tool tool, const std::string& source, const std::string& out, const std::string& tag) {
  Outcome o;
  uint64_t before = AllocatedBytes(out);
  switch (tool) {
    case Tool::kOurs: {
      if (env_.blob_endpoint.empty() || !env_.seed_vault) {
        o.measured = false;
        o.note = env_.no_vault;
        return o;
      }
      if (absl::Status seeded = env_.seed_vault(out); !seeded.ok()) {
        o.note = absl::StrCat("recovery point 1 could not be made: ", seeded.message());
        return o;
      }
      Child c = Make(tool,
                     {env_.seedagent, "backup", "--staging", out, "--blob-endpoint", env_.blob_endpoint, "--threads",
                      "2", "--json"},
                     "");
      o = Run(c, out);
      // What it sent to the vault (the point's bytesUploaded, from its --json line), not what the staging folder
      // grew by.
      o.output_bytes = 0;
      absl::StatusOr<std::string> log = file::ReadFile(c.log);
      for (absl::string_view line : absl::StrSplit(log.ok() ? *log : "", '\n')) {
        vault::proto::RecoveryPoint point;
        if (absl::StartsWith(line, "{") && json::Parse(line, &point, "seedagent backup --json").ok()) {
          o.output_bytes = point.bytesuploaded();
        }
      }
      return o;
    }
    case Tool::kTarZstd:
      o.measured = false;
      o.note = "a plain tar | zstd keeps no state between runs";
      return o;
    case Tool::kRestic:
      o = Run(Make(tool, {"restic", "backup", "-q", "--compression", "auto", "--repo", out, source}, out), out);
      break;
    case Tool::kBorg:
      o = Run(Make(tool, {"borg", "create", "--compression", "zstd,1", out + "::" + tag, source}, out), out);
      break;
  }
  o.output_bytes = o.output_bytes > before ? o.output_bytes - before : 0;
  return o;
}

Outcome Tools::Restore(Tool tool, const std::string& out, const std::string& target) {
  (void)file::MakeDirs(target);
  Child c;
  switch (tool) {
    case Tool::kOurs:
      c = Make(tool, {env_.seedagent, "restore-staging", "--staging", out, "--output", target}, target);
      break;
    case Tool::kRestic:
      c = Make(tool, {"restic", "restore", "-q", "--repo", out, "latest", "--target", target}, target);
      break;
    case Tool::kBorg:
      c = Make(tool, {"borg", "extract", out + "::first"}, target);
      c.cwd = target;
      break;
    case Tool::kTarZstd:
      c = Make(tool, {"bash", "-c", kTarExtract, "bash", out + "/tree.tar.zst", target}, target);
      break;
  }
  return Run(c, target);
}

}  // namespace vmb::offline::bench
