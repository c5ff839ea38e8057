#include "offline_seed/diskprep/cli.h"

#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
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

namespace vmb::offline {
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

// For a command that failed: "diskprep: <message>", exit status 1.
int Failed(const absl::Status& s, const char* what = "") {
  std::fprintf(stderr, "diskprep: %s%s\n", what, std::string(s.message()).c_str());
  return 1;
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

// The command line, parsed.
struct Args {
  DiskPrepOptions o;
  const DriveSourceFlag* source = nullptr;  // the drive source a flag chose; this computer's drives otherwise
  std::string source_value;
  bool yes = false, json = false, list = false, ship = false, status_only = false, cancel = false;
  std::map<std::string, std::string> shipping;  // u:'s details, by flag name without "--"
};

constexpr const char* kShipFlags[] = {"carrier", "tracking-number", "ship-date", "drive-count", "contact", "street",
                                      "city", "state", "postal-code", "country", "phone", "email",
                                      "return-account", "return-carrier"};

int Help(const std::vector<DriveSourceFlag>& sources) {
  std::string extra;
  for (const DriveSourceFlag& f : sources) extra += "  " + f.help + "\n";
  std::printf(kUsage, extra.c_str());
  return 0;
}

// A flag without a value (s: and p: carry theirs); false when `a` is none of them.
bool ParseSwitch(const std::string& a, Args& args) {
  if (absl::EqualsIgnoreCase(a, "u:")) {
    args.ship = true;
  } else if (a == "--status") {
    args.status_only = true;
  } else if (a == "--cancel") {
    args.cancel = true;
  } else if (absl::StartsWithIgnoreCase(a, "s:")) {
    args.o.staging = a.substr(2);
  } else if (absl::StartsWithIgnoreCase(a, "p:")) {
    args.o.publish_settings = a.substr(2);
  } else if (a == "--yes") {
    args.yes = true;
  } else if (a == "--json") {
    args.json = true;
  } else if (a == "--list") {
    args.list = true;
  } else {
    return false;
  }
  return true;
}

// Where the value of a flag followed by one goes (nullptr when `a` is no such flag), and in `missing` what usage
// says when the value is missing.
std::string* ValueOf(const std::string& a, Args& args, std::string* missing) {
  if (absl::StartsWith(a, "--") &&
      std::find(std::begin(kShipFlags), std::end(kShipFlags), a.substr(2)) != std::end(kShipFlags)) {
    *missing = a + " needs a value";
    return &args.shipping[a.substr(2)];
  }
  if (a == "--drive") {
    *missing = "--drive needs a name";
    return &args.o.drives.emplace_back();
  }
  const struct {
    const char* flag;
    std::string* value;
    const char* missing;
  } valued[] = {{"--control-plane", &args.o.control_plane, "--control-plane needs a URL"},
                {"--token", &args.o.token, "--token needs a value"},
                {"--resource-group", &args.o.resource_group, "--resource-group needs a name"}};
  for (const auto& f : valued) {
    if (a == f.flag) {
      *missing = f.missing;
      return f.value;
    }
  }
  return nullptr;
}

// Parses argv into `args`; the exit status when that ends the command (--help, bad usage).
std::optional<int> ParseArgs(int argc, char** argv, const std::vector<DriveSourceFlag>& sources, Args& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const DriveSourceFlag* flagged = nullptr;
    for (const DriveSourceFlag& f : sources) {
      if (a == f.flag) flagged = &f;
    }
    if (a == "--help" || a == "/?") return Help(sources);
    if (flagged == nullptr && ParseSwitch(a, args)) continue;
    std::string missing;
    std::string* value = flagged != nullptr ? &args.source_value : ValueOf(a, args, &missing);
    if (flagged != nullptr) missing = a + " needs a value";
    if (value == nullptr) return Usage(absl::StrCat("unexpected argument ", a));
    if (i + 1 >= argc) return Usage(missing);
    *value = argv[++i];
    if (flagged != nullptr) args.source = flagged;
  }
  return std::nullopt;
}

// u: --cancel.
int CancelCommand(const ShippingOptions& so) {
  absl::StatusOr<ie::proto::Job> job = CancelJob(so);
  if (!job.ok()) return Failed(job.status(), "cannot cancel: ");
  std::printf("import job %s cancelled (state %s); the drives and the staging location are kept\n",
              job->name().c_str(), job->properties().state().c_str());
  return 0;
}

// u: --status.
int StatusCommand(const ShippingOptions& so) {
  absl::StatusOr<std::string> text = JobStatusText(so);
  if (!text.ok()) return Usage(std::string(text.status().message()));
  std::fputs(text->c_str(), stdout);
  return 0;
}

// Asks on the terminal for each required shipping detail no flag gave; the exit status when it cannot.
std::optional<int> AskMissing(std::map<std::string, std::string>& shipping, const ie::proto::Location& where) {
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
  return std::nullopt;
}

// The shipping details the flags and answers give; kInvalidArgument (the usage message) for a bad drive count.
absl::StatusOr<ShippingDetails> DetailsOf(std::map<std::string, std::string>& shipping) {
  ShippingDetails d;
  d.carrier = shipping["carrier"];
  d.tracking_number = shipping["tracking-number"];
  d.ship_date = shipping["ship-date"];
  if (!absl::SimpleAtoi(shipping["drive-count"], &d.drive_count)) {
    return absl::InvalidArgumentError("--drive-count needs a number");
  }
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
  return d;
}

void PrintReview(const ie::proto::Job& job, const ShippingDetails& d) {
  const ie::proto::ReturnAddress& a = d.return_address;
  std::printf("Import job %s: %d drive(s) by %s, tracking number %s, shipped %s\nReturn to: %s, %s, %s %s, %s, "
              "%s, %s\n",
              job.name().c_str(), d.drive_count, d.carrier.c_str(), d.tracking_number.c_str(), d.ship_date.c_str(),
              a.recipientname().c_str(), a.streetaddress1().c_str(), a.postalcode().c_str(), a.city().c_str(),
              a.countryorregion().c_str(), a.phone().c_str(), a.email().c_str());
}

void PrintShipped(const ShippingResult& r, bool json) {
  if (json) {
    proto::DiskPrepOutput out;
    out.set_job(r.job.name());
    out.set_state(r.job.properties().state());
    out.set_details(r.details_path);
    std::printf("%s\n", json::ToJsonCompact(out).c_str());
    return;
  }
  std::printf("job %s is now %s; the shipping details are saved in %s\n"
              "The drives must reach the datacenter within two weeks, or they are not processed.\n",
              r.job.name().c_str(), r.job.properties().state().c_str(), r.details_path.c_str());
}

// u: the shipping details (asked for what no flag gave, shown for review, committed on "yes"), or --cancel, or
// --status. The job is the staging location's (s:), or the one this computer prepared last.
int ShipCommand(Args& args, const std::string& agent_dir) {
  if (args.o.staging.empty()) {
    absl::StatusOr<std::string> pending = file::ReadFile(agent_dir + "/pending-import");
    if (!pending.ok()) {
      return Usage("no import job is waiting on this computer; from another computer use u: s:<staging> p:<file>");
    }
    args.o.staging = std::string(absl::StripAsciiWhitespace(*pending));
  }
  if (args.o.control_plane.empty()) return Usage("no management endpoint: --control-plane URL");
  auto transport = http::NewCurlTransport();
  ShippingOptions so{args.o.staging, args.o.control_plane, args.o.token, args.o.resource_group, transport.get()};
  if (args.cancel) return CancelCommand(so);
  if (args.status_only) return StatusCommand(so);
  auto loaded = LoadJob(so);
  if (!loaded.ok()) return Failed(loaded.status());
  if (std::optional<int> stop = AskMissing(args.shipping, loaded->second)) return *stop;
  absl::StatusOr<ShippingDetails> d = DetailsOf(args.shipping);
  if (!d.ok()) return Usage(std::string(d.status().message()));
  absl::Status checked = CheckShippingDetails(*d, loaded->first, loaded->second);
  if (!checked.ok()) return Usage(std::string(checked.message()));
  PrintReview(loaded->first, *d);
  if (!args.yes) {
    if (!::isatty(0)) return Usage("confirm with --yes (no terminal to ask on)");
    if (!Confirmed("Commit these shipping details?")) {
      std::printf("nothing was changed\n");
      return 1;
    }
  }
  absl::StatusOr<ShippingResult> r = RecordShipping(so, *d);
  if (!r.ok()) return Failed(r.status());
  PrintShipped(*r, args.json);
  return 0;
}

// The drive source a flag chose, or this computer's drives.
absl::StatusOr<std::unique_ptr<DriveEnumerator>> OpenDriveSource(const Args& args) {
  if (args.source != nullptr) return args.source->open(args.source_value);
  return std::make_unique<LinuxDrives>();
}

// --list.
int ListCommand(DriveEnumerator& source) {
  auto drives = source.List();
  if (!drives.ok()) return Failed(drives.status(), "cannot list the drives: ");
  for (const auto& d : *drives) {
    std::string why = DriveRefusal(d);
    std::printf("%-10s %-26s %-16s %8.1f GB  %s\" %s %s  %s\n", d.name().c_str(), d.model().c_str(),
                d.serial().c_str(), d.capacity() / 1e9, d.formfactor().empty() ? "?" : d.formfactor().c_str(),
                d.media().c_str(),
                d.interface().c_str(), why.empty() ? "usable" : ("not usable: " + why).c_str());
  }
  return 0;
}

// The copy's progress on stderr: one line rewritten on a terminal, at most twice a second (and at the end).
class ProgressLine {
 public:
  explicit ProgressLine(bool tty) : tty_(tty) {}
  void Show(const std::string& drive, uint64_t done, uint64_t total) {
    std::lock_guard<std::mutex> lock(mu_);  // drives report from their own threads
    absl::Time now = absl::Now();
    if (now - last_ < absl::Milliseconds(500) && done != total) return;
    last_ = now;
    double secs = absl::ToDoubleSeconds(now - start_), rate = secs > 0 ? done / secs / 1e6 : 0;
    std::fprintf(stderr, "%s[%s] %6.2f%%  %.2f / %.2f GB  %.0f MB/s  ETA %.0f s%s", tty_ ? "\r" : "", drive.c_str(),
                 total ? 100.0 * done / total : 100.0, done / 1e9, total / 1e9, rate,
                 rate > 0 ? (total - done) / 1e6 / rate : 0.0, tty_ ? "" : "\n");
  }

 private:
  const bool tty_;
  std::mutex mu_;
  const absl::Time start_ = absl::Now();
  absl::Time last_ = start_;
};

void PrintPrepared(const DiskPrepResult& r, bool json, const std::string& staging) {
  if (json) {
    proto::DiskPrepOutput out;
    out.set_job(r.job.name());
    out.set_state(r.job.properties().state());
    for (const auto& d : r.drives) {
      proto::PreparedDriveOutput* o = out.add_drives();
      o->set_name(d.name);
      o->set_driveid(d.drive_id);
      o->set_bytes(d.bytes);
      o->set_manifesthash(d.manifest_md5);
    }
    std::printf("%s\n", json::ToJsonCompact(out).c_str());
    return;
  }
  for (const auto& d : r.drives) {
    // The recovery password is a secret: never printed; it lives in a 0600 file and in the import job.
    std::printf("drive %s: id %s, %.2f GB in %d range(s), verified; recovery password in %s/diskprep/%s.recovery-password\n",
                d.name.c_str(), d.drive_id.c_str(), d.bytes / 1e9, d.ranges, staging.c_str(), d.name.c_str());
  }
  const auto& a = r.location.properties();
  std::printf("import job %s created (state %s).\nShip the drives to:\n  %s\n  %s\n  %s %s\n  %s\n  %s\n"
              "Supported carriers:", r.job.name().c_str(), r.job.properties().state().c_str(),
              a.recipientname().c_str(), a.streetaddress1().c_str(), a.postalcode().c_str(), a.city().c_str(),
              a.countryorregion().c_str(), a.phone().c_str());
  for (const auto& c : a.supportedcarriers()) std::printf(" %s", c.c_str());
  std::printf("\nThen enter the shipping details with `diskprep u:`.\n");
}

// s: prepares the chosen drives (confirmed with --yes or on the terminal) and creates the import job.
int PrepareCommand(Args& args, const std::string& agent_dir) {
  DiskPrepOptions& o = args.o;
  if (o.staging.empty()) return Usage("s:<staging location> is required");
  if (o.drives.empty()) return Usage("choose the drives with --drive NAME (see --list)");
  if (!args.yes) {
    if (!::isatty(0)) return Usage("formatting erases the chosen drives: confirm with --yes");
    if (!Confirmed(absl::StrCat("Format ", o.drives.size(), " drive(s) (everything on them is lost)?"))) {
      std::printf("nothing was changed\n");
      return 1;
    }
  }
  if (o.control_plane.empty()) return Usage("no management endpoint: --control-plane URL");
  auto transport = http::NewCurlTransport();
  o.transport = transport.get();
  const bool tty = ::isatty(2);
  ProgressLine line(tty);
  o.progress = [&line](const std::string& drive, uint64_t done, uint64_t total) { line.Show(drive, done, total); };
  absl::StatusOr<DiskPrepResult> r = PrepareDrives(o);
  if (tty) std::fprintf(stderr, "\n");
  if (!r.ok()) return Failed(r.status());
  // So that `diskprep u:` on this computer finds the job.
  if (!file::MakeDirs(agent_dir, 0700).ok() ||
      !file::WriteFileAtomic(agent_dir + "/pending-import", o.staging + "\n", 0600).ok()) {
    std::fprintf(stderr, "diskprep: note: cannot record the job in %s; use u: s:%s later\n", agent_dir.c_str(),
                 o.staging.c_str());
  }
  PrintPrepared(*r, args.json, o.staging);
  return 0;
}

}  // namespace

int RunDiskPrep(int argc, char** argv, const std::vector<DriveSourceFlag>& sources) {
  Args args;
  args.o.control_plane = Env("VMBACKUP_CONTROL_PLANE");
  args.o.token = Env("VMBACKUP_TOKEN");
  if (std::optional<int> done = ParseArgs(argc, argv, sources, args)) return *done;
  const std::string agent_dir = Env("VMBACKUP_AGENT_DIR").empty() ? "/var/lib/vmbackup" : Env("VMBACKUP_AGENT_DIR");
  if (args.ship) return ShipCommand(args, agent_dir);
  absl::StatusOr<std::unique_ptr<DriveEnumerator>> source = OpenDriveSource(args);
  if (!source.ok()) return Usage(std::string(source.status().message()));
  args.o.drive_source = source->get();
  if (args.list) return ListCommand(**source);
  return PrepareCommand(args, agent_dir);
}

}  // namespace vmb::offline
