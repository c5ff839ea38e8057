#include "offline_seed/diskprep/cli.h"

#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/http/curl_transport.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "offline_seed/diskprep/diskprep.h"
#include "offline_seed/diskprep/diskprep_output.pb.h"
#include "offline_seed/diskprep/shipping.h"

namespace {

constexpr char kUsage[] = R"(usage: diskprep s:<staging location> [p:<publish settings file>] [options]
       diskprep u: [s:<staging location> p:<publish settings file>] [shipping options]
  prepares encrypted drives from the staging location and creates the import job
  (p: is required when this is not the computer that wrote the staging location)

Options:
%s  --list                list the drives (this computer's, from /sys/block: read only) and whether they can be
                        used, then exit
  --drive NAME          a drive to prepare, by the name --list shows (repeatable); all chosen drives are written
                        at once, each taking the next range still to ship; a drive that fails is rejected and
                        its ranges go to the others
  --yes                 confirm that the chosen drives are formatted (everything on them is lost)
  --control-plane URL   management API (default: $VMBACKUP_CONTROL_PLANE); --token TOKEN ($VMBACKUP_TOKEN)
  --resource-group RG   the storage account's resource group (default: offlinebackup)
  --json                print a machine-readable summary
Running the same command again after an interruption resumes where the journal says it stopped.

Shipping (u:): asks for what is missing, shows it for review and commits on "yes" (or --yes):
  --carrier NAME --tracking-number N --ship-date YYYY-MM-DD --drive-count N
  --contact NAME --street S --city C --state S --postal-code P --country C --phone P --email E
  --return-account N    the carrier account Azure bills the drives' return to (the job's returnShipping);
                        --return-carrier NAME: its carrier (default: --carrier)
  --status              only show the job's status (state, each drive's state and progress, logs)
  --cancel              cancel the import job (Azure allows it while the job is Creating or Shipping); the
                        prepared drives and the staging location are kept
u: alone finds the job this computer prepared ($VMBACKUP_AGENT_DIR, default /var/lib/vmbackup).
)";

int Usage(const std::string& p) {
  std::fprintf(stderr, "diskprep: %s\n(run `diskprep --help`)\n", p.c_str());
  return 2;
}

std::string Env(const char* n) { return std::getenv(n) ? std::getenv(n) : ""; }

// One rule for every confirmation on the terminal: the answer "yes", in any case, around spaces.
bool Confirmed(const std::string& question) {
  std::printf("%s Type yes to continue: ", question.c_str());
  std::fflush(stdout);
  char answer[64] = {0};
  if (!std::fgets(answer, sizeof(answer), stdin)) return false;
  return absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(answer), "yes");
}

}  // namespace

namespace vmb::offline {

int RunDiskPrep(int argc, char** argv, const std::vector<DriveSourceFlag>& sources) {
  vmb::offline::DiskPrepOptions o;
  const DriveSourceFlag* source = nullptr;  // the drive source a flag chose; this computer's drives otherwise
  std::string source_value;
  o.control_plane = Env("VMBACKUP_CONTROL_PLANE");
  o.token = Env("VMBACKUP_TOKEN");
  bool yes = false, json = false, list = false, ship = false, status_only = false, cancel = false;
  std::map<std::string, std::string> shipping;
  static const char* kShipFlags[] = {"carrier", "tracking-number", "ship-date", "drive-count", "contact", "street",
                                     "city", "state", "postal-code", "country", "phone", "email",
                                     "return-account", "return-carrier"};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    const DriveSourceFlag* flagged = nullptr;
    for (const DriveSourceFlag& f : sources) {
      if (a == f.flag) flagged = &f;
    }
    if (a == "--help" || a == "/?") {
      std::string extra;
      for (const DriveSourceFlag& f : sources) extra += "  " + f.help + "\n";
      std::printf(kUsage, extra.c_str());
      return 0;
    } else if (flagged != nullptr) {
      if (!next(&source_value)) return Usage(a + " needs a value");
      source = flagged;
    } else if (absl::EqualsIgnoreCase(a, "u:")) {
      ship = true;
    } else if (a == "--status") {
      status_only = true;
    } else if (a == "--cancel") {
      cancel = true;
    } else if (a.rfind("--", 0) == 0 &&
               std::find(std::begin(kShipFlags), std::end(kShipFlags), a.substr(2)) != std::end(kShipFlags)) {
      if (!next(&v)) return Usage(a + " needs a value");
      shipping[a.substr(2)] = v;
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
  std::string agent_dir = Env("VMBACKUP_AGENT_DIR").empty() ? "/var/lib/vmbackup" : Env("VMBACKUP_AGENT_DIR");
  if (ship) {
    if (o.staging.empty()) {
      absl::StatusOr<std::string> pending = vmb::file::ReadFile(agent_dir + "/pending-import");
      if (!pending.ok()) {
        return Usage("no import job is waiting on this computer; from another computer use u: s:<staging> p:<file>");
      }
      o.staging = std::string(absl::StripAsciiWhitespace(*pending));
    }
    if (o.control_plane.empty()) return Usage("no management endpoint: --control-plane URL");
    auto transport = vmb::http::NewCurlTransport();
    vmb::offline::ShippingOptions so{o.staging, o.control_plane, o.token, o.resource_group, transport.get()};
    if (cancel) {
      absl::StatusOr<vmb::ie::proto::Job> job = vmb::offline::CancelJob(so);
      if (!job.ok()) {
        std::fprintf(stderr, "diskprep: cannot cancel: %s\n", std::string(job.status().message()).c_str());
        return 1;
      }
      std::printf("import job %s cancelled (state %s); the drives and the staging location are kept\n",
                  job->name().c_str(), job->properties().state().c_str());
      return 0;
    }
    if (status_only) {
      auto text = vmb::offline::JobStatusText(so);
      if (!text.ok()) return Usage(std::string(text.status().message()));
      std::fputs(text->c_str(), stdout);
      return 0;
    }
    auto loaded = vmb::offline::LoadJob(so);
    if (!loaded.ok()) {
      std::fprintf(stderr, "diskprep: %s\n", std::string(loaded.status().message()).c_str());
      return 1;
    }
    const auto& where = loaded->second;
    std::string carriers;
    for (const auto& c : where.properties().supportedcarriers()) carriers += (carriers.empty() ? "" : ", ") + c;
    static const std::pair<const char*, const char*> kQuestions[] = {
        {"carrier", "Carrier"}, {"tracking-number", "Tracking number"}, {"ship-date", "Ship date (YYYY-MM-DD)"},
        {"drive-count", "Number of drives"}, {"contact", "Return address: contact name"}, {"street", "Street address"},
        {"city", "City"}, {"state", "State or province"}, {"postal-code", "Postal code"},
        {"country", "Country or region"}, {"phone", "Phone"}, {"email", "Email"}};
    for (const auto& [key, question] : kQuestions) {
      if (!shipping[key].empty() || std::string(key) == "state") continue;  // (state, return shipping: optional)
      if (!::isatty(0)) return Usage(absl::StrCat("--", key, " is required (no terminal to ask on)"));
      std::printf("%s%s: ", question, std::string(key) == "carrier" ? (" [" + carriers + "]").c_str() : "");
      std::fflush(stdout);
      char line[512] = {0};
      if (!std::fgets(line, sizeof(line), stdin)) return 1;
      shipping[key] = std::string(absl::StripAsciiWhitespace(line));
    }
    vmb::offline::ShippingDetails d;
    d.carrier = shipping["carrier"];
    d.tracking_number = shipping["tracking-number"];
    d.ship_date = shipping["ship-date"];
    if (!absl::SimpleAtoi(shipping["drive-count"], &d.drive_count)) return Usage("--drive-count needs a number");
    auto* a = &d.return_address;
    a->set_recipientname(shipping["contact"]);
    a->set_streetaddress1(shipping["street"]);
    a->set_city(shipping["city"]);
    a->set_stateorprovince(shipping["state"]);
    a->set_postalcode(shipping["postal-code"]);
    a->set_countryorregion(shipping["country"]);
    a->set_phone(shipping["phone"]);
    a->set_email(shipping["email"]);
    d.return_account = shipping["return-account"];
    d.return_carrier = shipping["return-carrier"];
    absl::Status checked = vmb::offline::CheckShippingDetails(d, loaded->first, where);
    if (!checked.ok()) return Usage(std::string(checked.message()));
    std::printf("Import job %s: %d drive(s) by %s, tracking number %s, shipped %s\nReturn to: %s, %s, %s %s, %s, "
                "%s, %s\n",
                loaded->first.name().c_str(), d.drive_count, d.carrier.c_str(), d.tracking_number.c_str(),
                d.ship_date.c_str(), a->recipientname().c_str(), a->streetaddress1().c_str(), a->postalcode().c_str(),
                a->city().c_str(), a->countryorregion().c_str(), a->phone().c_str(), a->email().c_str());
    if (!yes) {
      if (!::isatty(0)) return Usage("confirm with --yes (no terminal to ask on)");
      if (!Confirmed("Commit these shipping details?")) {
        std::printf("nothing was changed\n");
        return 1;
      }
    }
    auto r = vmb::offline::RecordShipping(so, d);
    if (!r.ok()) {
      std::fprintf(stderr, "diskprep: %s\n", std::string(r.status().message()).c_str());
      return 1;
    }
    if (json) {
      proto::DiskPrepOutput out;
      out.set_job(r->job.name());
      out.set_state(r->job.properties().state());
      out.set_details(r->details_path);
      std::printf("%s\n", json::ToJsonCompact(out).c_str());
    } else {
      std::printf("job %s is now %s; the shipping details are saved in %s\n"
                  "The drives must reach the datacenter within two weeks, or they are not processed.\n",
                  r->job.name().c_str(), r->job.properties().state().c_str(), r->details_path.c_str());
    }
    return 0;
  }
  std::unique_ptr<DriveEnumerator> drive_source;
  if (source != nullptr) {
    absl::StatusOr<std::unique_ptr<DriveEnumerator>> opened = source->open(source_value);
    if (!opened.ok()) return Usage(std::string(opened.status().message()));
    drive_source = *std::move(opened);
  } else {
    drive_source = std::make_unique<LinuxDrives>();
  }
  o.drive_source = drive_source.get();
  if (list) {
    auto drives = drive_source->List();
    if (!drives.ok()) {
      std::fprintf(stderr, "diskprep: cannot list the drives: %s\n", std::string(drives.status().message()).c_str());
      return 1;
    }
    for (const auto& d : *drives) {
      std::string why = vmb::offline::DriveRefusal(d);
      std::printf("%-10s %-26s %-16s %8.1f GB  %s\" %s %s  %s\n", d.name().c_str(), d.model().c_str(),
                  d.serial().c_str(), d.capacity() / 1e9, d.formfactor().empty() ? "?" : d.formfactor().c_str(),
                  d.media().c_str(),
                  d.interface().c_str(), why.empty() ? "usable" : ("not usable: " + why).c_str());
    }
    return 0;
  }
  if (o.staging.empty()) return Usage("s:<staging location> is required");
  if (o.drives.empty()) return Usage("choose the drives with --drive NAME (see --list)");
  if (!yes) {
    if (!::isatty(0)) return Usage("formatting erases the chosen drives: confirm with --yes");
    if (!Confirmed(absl::StrCat("Format ", o.drives.size(), " drive(s) (everything on them is lost)?"))) {
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
  // So that `diskprep u:` on this computer finds the job.
  if (!vmb::file::MakeDirs(agent_dir, 0700).ok() ||
      !vmb::file::WriteFileAtomic(agent_dir + "/pending-import", o.staging + "\n", 0600).ok()) {
    std::fprintf(stderr, "diskprep: note: cannot record the job in %s; use u: s:%s later\n", agent_dir.c_str(),
                 o.staging.c_str());
  }
  if (json) {
    proto::DiskPrepOutput out;
    out.set_job(r->job.name());
    out.set_state(r->job.properties().state());
    for (const auto& d : r->drives) {
      proto::PreparedDriveOutput* o = out.add_drives();
      o->set_name(d.name);
      o->set_driveid(d.drive_id);
      o->set_bytes(d.bytes);
      o->set_manifesthash(d.manifest_md5);
    }
    std::printf("%s\n", json::ToJsonCompact(out).c_str());
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

}  // namespace vmb::offline
