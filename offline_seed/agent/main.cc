// seedagent: the backup agent's side of offline seeding (seed 004).
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/json/json.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/publish/publish_settings.h"

namespace {

constexpr char kUsage[] = R"(usage:
  seedagent initiate --source DIR [--source DIR]... --staging DIR --publish-settings FILE --job-name NAME
                     --subscription-id ID --storage-account NAME --container NAME [--threads N] [--json]
      write the compressed initial backup of the source folders to the staging location (the six fields of
      "Initiate offline backup": staging location, job name, publish settings, subscription, storage account,
      container)
  seedagent status --staging DIR
  seedagent restore-staging --staging DIR --output DIR
      rebuild the source folders from the staging location, checking every chunk (a rehearsal of the restore)
)";

int Usage(const std::string& p) {
  std::fprintf(stderr, "seedagent: %s\n(run `seedagent --help`)\n", p.c_str());
  return 2;
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "seedagent: %s\n", std::string(s.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string command;
  std::map<std::string, std::string> opt;
  std::vector<std::string> sources;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--source" && i + 1 < argc) {
      sources.push_back(argv[++i]);
    } else if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      opt[a.substr(2)] = argv[++i];
    } else if (command.empty()) {
      command = a;
    } else {
      return Usage("unexpected argument " + a);
    }
  }
  if (command == "status") {
    if (opt["staging"].empty()) return Usage("status needs --staging");
    auto job = vmb::offline::ReadStagedJob(opt["staging"]);
    if (!job.ok()) return Fail(job.status());
    if (job->state() != "Completed") {
      std::printf("Waiting for Azure Import Job to complete. Please check on Azure Management portal for more "
                  "information on job status\n");
    } else {
      std::printf("Import job %s completed; the initial backup is in the vault\n", job->jobname().c_str());
    }
    return 0;
  }
  if (command == "restore-staging") {
    if (opt["staging"].empty() || opt["output"].empty()) return Usage("restore-staging needs --staging and --output");
    absl::Status s = vmb::offline::RestoreFromStaging(opt["staging"], opt["output"]);
    if (!s.ok()) return Fail(s);
    std::printf("restored into %s\n", opt["output"].c_str());
    return 0;
  }
  if (command != "initiate") return Usage(command.empty() ? "no command given" : "unknown command " + command);
  for (const char* k : {"staging", "publish-settings", "job-name", "subscription-id", "storage-account", "container"}) {
    if (opt[k].empty()) return Usage(absl::StrCat("initiate needs --", k));
  }
  if (sources.empty()) return Usage("initiate needs at least one --source");
  // The publish settings must hold the subscription (the tools will use its management certificate).
  auto sub = vmb::offline::LoadSubscription(opt["publish-settings"], opt["subscription-id"]);
  if (!sub.ok()) return Fail(sub.status());
  vmb::offline::InitiateOptions o;
  o.sources = sources;
  o.staging = opt["staging"];
  o.job.set_jobname(opt["job-name"]);
  o.job.set_subscriptionid(opt["subscription-id"]);
  o.job.set_storageaccount(opt["storage-account"]);
  o.job.set_container(opt["container"]);
  o.job.set_publishsettingspath(opt["publish-settings"]);
  if (!opt["threads"].empty() && !absl::SimpleAtoi(opt["threads"], &o.threads)) return Usage("--threads needs a number");
  absl::Time start = absl::Now(), last = start;
  bool tty = ::isatty(2);
  o.progress = [&](uint64_t done, uint64_t total) {
    absl::Time now = absl::Now();
    if (now - last < absl::Milliseconds(500) && done != total) return;
    last = now;
    double secs = absl::ToDoubleSeconds(now - start);
    double rate = secs > 0 ? done / secs / 1e6 : 0;
    double eta = rate > 0 ? (total - done) / 1e6 / rate : 0;
    std::fprintf(stderr, "%s%6.2f%%  %.1f / %.1f GB  %.0f MB/s  ETA %.0f s%s", tty ? "\r" : "",
                 total ? 100.0 * done / total : 100.0, done / 1e9, total / 1e9, rate, eta, tty ? "" : "\n");
  };
  auto job = vmb::offline::InitiateOfflineBackup(o);
  if (tty) std::fprintf(stderr, "\n");
  if (!job.ok()) return Fail(job.status());
  if (json) {
    std::printf("%s\n", vmb::json::ToJson(*job).c_str());
  } else {
    std::printf("staged %.2f GB of source data as %.2f GB (%llu chunks, %llu unique) in %.1f s\n",
                job->sourcebytes() / 1e9, job->stagedbytes() / 1e9, static_cast<unsigned long long>(job->chunks()),
                static_cast<unsigned long long>(job->uniquechunks()), absl::ToDoubleSeconds(absl::Now() - start));
    std::printf("next: prepare drives with `diskprep s:%s`\n", o.staging.c_str());
  }
  return 0;
}
