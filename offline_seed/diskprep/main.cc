// diskprep (AzureOfflineBackupDiskPrep): see diskprep.h.
//   diskprep s:<staging location> [p:<publish settings file>] --bay DIR --drive NAME [--drive NAME]... --yes
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/http/curl_transport.h"
#include "offline_seed/diskprep/diskprep.h"

namespace {

constexpr char kUsage[] = R"(usage: diskprep s:<staging location> [p:<publish settings file>] [options]
  prepares encrypted drives from the staging location and creates the import job
  (p: is required when this is not the computer that wrote the staging location)

Options:
  --bay DIR             the drive bay (simulated SATA drives; see satasim)
  --list                list the attached drives and whether they can be used, then exit
  --drive NAME          a drive to prepare, in order of use (repeatable); drives fill up one after the other
  --yes                 confirm that the chosen drives are formatted (everything on them is lost)
  --control-plane URL   management API (default: $VMBACKUP_CONTROL_PLANE); --token TOKEN ($VMBACKUP_TOKEN)
  --resource-group RG   the storage account's resource group (default: offlinebackup)
  --json                print a machine-readable summary
Running the same command again after an interruption resumes where the journal says it stopped.
)";

int Usage(const std::string& p) {
  std::fprintf(stderr, "diskprep: %s\n(run `diskprep --help`)\n", p.c_str());
  return 2;
}

std::string Env(const char* n) { return std::getenv(n) ? std::getenv(n) : ""; }

}  // namespace

int main(int argc, char** argv) {
  vmb::offline::DiskPrepOptions o;
  o.control_plane = Env("VMBACKUP_CONTROL_PLANE");
  o.token = Env("VMBACKUP_TOKEN");
  bool yes = false, json = false, list = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "/?") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (absl::StartsWithIgnoreCase(a, "s:")) {
      o.staging = a.substr(2);
    } else if (absl::StartsWithIgnoreCase(a, "p:")) {
      o.publish_settings = a.substr(2);
    } else if (a == "--yes") {
      yes = true;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--list") {
      list = true;
    } else if (a == "--bay") {
      if (!next(&o.bay)) return Usage("--bay needs a folder");
    } else if (a == "--drive") {
      if (!next(&v)) return Usage("--drive needs a name");
      o.drives.push_back(v);
    } else if (a == "--control-plane") {
      if (!next(&o.control_plane)) return Usage("--control-plane needs a URL");
    } else if (a == "--token") {
      if (!next(&o.token)) return Usage("--token needs a value");
    } else if (a == "--resource-group") {
      if (!next(&o.resource_group)) return Usage("--resource-group needs a name");
    } else {
      return Usage(absl::StrCat("unexpected argument ", a));
    }
  }
  if (o.bay.empty()) return Usage("--bay DIR is required (the drive bay)");
  if (list) {
    vmb::sata::DriveBay bay(o.bay);
    auto drives = bay.List();
    if (!drives.ok()) return Usage(std::string(drives.status().message()));
    for (const auto& d : *drives) {
      std::string why = vmb::offline::DriveRefusal(d);
      std::printf("%-10s %-26s %-16s %8.1f GB  %s\" %s %s  %s\n", d.name().c_str(), d.model().c_str(),
                  d.serial().c_str(), d.capacity() / 1e9, d.formfactor().c_str(), d.media().c_str(),
                  d.interface().c_str(), why.empty() ? "usable" : ("not usable: " + why).c_str());
    }
    return 0;
  }
  if (o.staging.empty()) return Usage("s:<staging location> is required");
  if (o.drives.empty()) return Usage("choose the drives with --drive NAME (see --list)");
  if (!yes) {
    if (!::isatty(0)) return Usage("formatting erases the chosen drives: confirm with --yes");
    std::printf("Format %zu drive(s) (everything on them is lost)? Type yes to continue: ", o.drives.size());
    std::fflush(stdout);
    char answer[16] = {0};
    if (!std::fgets(answer, sizeof(answer), stdin) || std::string(answer).rfind("yes", 0) != 0) {
      std::printf("nothing was changed\n");
      return 1;
    }
  }
  if (o.control_plane.empty()) return Usage("no management endpoint: --control-plane URL");
  auto transport = vmb::http::NewCurlTransport();
  o.transport = transport.get();
  absl::Time start = absl::Now(), last = start;
  bool tty = ::isatty(2);
  o.progress = [&](const std::string& drive, uint64_t done, uint64_t total) {
    absl::Time now = absl::Now();
    if (now - last < absl::Milliseconds(500) && done != total) return;
    last = now;
    double secs = absl::ToDoubleSeconds(now - start), rate = secs > 0 ? done / secs / 1e6 : 0;
    std::fprintf(stderr, "%s[%s] %6.2f%%  %.2f / %.2f GB  %.0f MB/s  ETA %.0f s%s", tty ? "\r" : "", drive.c_str(),
                 total ? 100.0 * done / total : 100.0, done / 1e9, total / 1e9, rate,
                 rate > 0 ? (total - done) / 1e6 / rate : 0.0, tty ? "" : "\n");
  };
  auto r = vmb::offline::PrepareDrives(o);
  if (tty) std::fprintf(stderr, "\n");
  if (!r.ok()) {
    std::fprintf(stderr, "diskprep: %s\n", std::string(r.status().message()).c_str());
    return 1;
  }
  if (json) {
    std::printf("{\"job\":\"%s\",\"state\":\"%s\",\"drives\":[", r->job.name().c_str(), r->job.properties().state().c_str());
    for (size_t i = 0; i < r->drives.size(); ++i) {
      std::printf("%s{\"name\":\"%s\",\"driveId\":\"%s\",\"bytes\":%llu,\"manifestHash\":\"%s\"}", i ? "," : "",
                  r->drives[i].name.c_str(), r->drives[i].drive_id.c_str(),
                  static_cast<unsigned long long>(r->drives[i].bytes), r->drives[i].manifest_md5.c_str());
    }
    std::printf("]}\n");
    return 0;
  }
  for (const auto& d : r->drives) {
    // The recovery password is a secret: never printed; it lives in a 0600 file and in the import job.
    std::printf("drive %s: id %s, %.2f GB in %d range(s), verified; recovery password in %s/diskprep/%s.recovery-password\n",
                d.name.c_str(), d.drive_id.c_str(), d.bytes / 1e9, d.ranges, o.staging.c_str(), d.name.c_str());
  }
  const auto& a = r->location.properties();
  std::printf("import job %s created (state %s).\nShip the drives to:\n  %s\n  %s\n  %s %s\n  %s\n  %s\n"
              "Supported carriers:", r->job.name().c_str(), r->job.properties().state().c_str(),
              a.recipientname().c_str(), a.streetaddress1().c_str(), a.postalcode().c_str(), a.city().c_str(),
              a.countryorregion().c_str(), a.phone().c_str());
  for (const auto& c : a.supportedcarriers()) std::printf(" %s", c.c_str());
  std::printf("\nThen enter the shipping details with `diskprep u:`.\n");
  return 0;
}
