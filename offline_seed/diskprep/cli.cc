#include "offline_seed/diskprep/cli.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
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
#include "common/file/file_util.h"
#include "common/http/curl_transport.h"
#include "common/json/json.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/diskprep/dialogue.h"
#include "offline_seed/diskprep/diskprep.h"
#include "offline_seed/diskprep/diskprep_output.pb.h"
#include "offline_seed/diskprep/prepare_dialogue.h"
#include "offline_seed/diskprep/ship_dialogue.h"
#include "offline_seed/diskprep/ship_target.h"
#include "offline_seed/diskprep/shipping.h"
#include "offline_seed/publish/publish_settings.h"

namespace vmb::offline {
namespace {

constexpr char kUsage[] = R"(usage: diskprep s:<staging location> [p:<publish settings file>] [options]
       diskprep u: [s:<staging location> p:<publish settings file>] [shipping options]
  prepares encrypted drives from the staging location and creates the import job; on a terminal without --drive
  it asks as seed 004's tool does: the import job (s: may name a share holding several), the drive, to format it,
  another drive while the data does not fit, then the shipping details
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
  --status              only show the job's status (state, each drive's state and progress, logs); u: with no
                        shipping details to send shows it too
  --cancel              cancel the import job (Azure allows it while the job is Creating or Shipping); the
                        prepared drives and the staging location are kept
  --job NAME            the import job's name, as entered at "Initiate offline backup" (with p:)
  Running u: again corrects the details (one update, while the job is Creating or Shipping: once the datacenter
  has the package they can no longer change); the drives must reach the datacenter within two weeks of the
  details being first entered. The local record is written only after Azure accepted the details.
u: finds its job: the staging location's (s:); else the one this computer waits for, recorded by `seedagent
initiate` on the source computer or by `diskprep s:` where it ran ($VMBACKUP_AGENT_DIR, default
/var/lib/vmbackup/pending-import); else, with p:<file>, the job in the file's subscription prepared from this
computer's staging location (or named with --job).
p:<file> is checked first (it must exist and parse) and must hold the job's subscription. Its management
certificate is not used to sign in: the Import/Export API these tools speak (Azure Resource Manager) accepts only
Azure AD bearer tokens, so --token / $VMBACKUP_TOKEN replaces it (e.g. `az account get-access-token`).
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

// The command line, parsed.
struct Args {
  DiskPrepOptions o;
  const DriveSourceFlag* source = nullptr;  // the drive source a flag chose; this computer's drives otherwise
  std::string source_value;
  bool yes = false, json = false, list = false, ship = false, status_only = false, cancel = false;
  std::map<std::string, std::string> shipping;  // u:'s details, by flag name without "--"
  std::string job;                              // u: --job NAME
};

constexpr const char* kShipFlags[] = {
    "carrier", "tracking-number", "ship-date", "drive-count", "contact", "street",         "city",
    "state",   "postal-code",     "country",   "phone",       "email",   "return-account", "return-carrier"};

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
                {"--resource-group", &args.o.resource_group, "--resource-group needs a name"},
                {"--job", &args.job, "--job needs the import job's name"}};
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
  // p: before anything else is done (a drive formatted, a job looked up): a file that is missing or no publish
  // settings file ends the command, naming it.
  if (!args.o.publish_settings.empty()) {
    absl::Status publish = ReadPublishSettings(args.o.publish_settings).status();
    if (!publish.ok()) {
      return Usage(absl::StrCat("p:", args.o.publish_settings, ": ", publish.message(),
                                "; give the publish settings file entered at \"Initiate offline backup\""));
    }
  }
  return std::nullopt;
}

// u: --cancel.
int CancelCommand(const ShippingOptions& so) {
  absl::StatusOr<ie::proto::Job> job = CancelJob(so);
  if (!job.ok()) return Failed(job.status(), "cannot cancel: ");
  std::printf("import job %s cancelled (state %s); the drives and the staging location are kept\n", job->name().c_str(),
              job->properties().state().c_str());
  return 0;
}

// u: --status.
int StatusCommand(const ShippingOptions& so) {
  absl::StatusOr<std::string> text = JobStatusText(so);
  if (!text.ok()) return Usage(std::string(text.status().message()));
  std::fputs(text->c_str(), stdout);
  return 0;
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
  std::printf(
      "job %s is now %s; the shipping details are saved in %s\n"
      "The drives must reach the datacenter by %s (two weeks after the details were first entered), or "
      "they are not processed.\n",
      r.job.name().c_str(), r.job.properties().state().c_str(), r.details_path.c_str(),
      absl::FormatTime("%Y-%m-%d %H:%M UTC", r.arrive_by, absl::UTCTimeZone()).c_str());
}

// u: with no details to send: the job's status (the seed's way to follow the job), then, on a terminal and while
// Azure still takes them, on to the questions; 0 when that ends the command, -1 to go on.
int StatusFirst(const Args& args, const ShippingOptions& so, const ie::proto::Job& job, Prompter* prompter) {
  if (!args.shipping.empty() || args.yes) return -1;
  if (int shown = StatusCommand(so); shown != 0) return shown;
  if (!CheckShippingUpdatable(job).ok()) return 0;
  if (prompter == nullptr) {
    std::printf(
        "To enter or correct the shipping details, run u: on a terminal or with --carrier ... --yes "
        "(see --help).\n");
    return 0;
  }
  return -1;
}

// u: the shipping details (asked for what no flag gave, each checked as typed, shown for review, committed on
// "yes"), or --cancel, or --status; with nothing to send, the status. The job: see ResolveShippingTarget.
// `prompter`: the terminal, or null when there is none to ask on.
int ShipCommand(Args& args, const std::string& agent_dir, Prompter* prompter) {
  auto transport = http::NewCurlTransport();
  ShippingOptions so{"", args.o.control_plane, args.o.token, args.o.resource_group, transport.get()};
  absl::Status found = ResolveShippingTarget({args.o.staging, args.o.publish_settings, args.job, agent_dir}, so);
  if (absl::IsNotFound(found) || absl::IsInvalidArgument(found) || absl::IsFailedPrecondition(found)) {
    return Usage(std::string(found.message()));
  }
  if (!found.ok()) return Failed(found);
  if (args.o.control_plane.empty()) return Usage("no management endpoint: --control-plane URL");
  if (args.cancel) return CancelCommand(so);
  if (args.status_only) return StatusCommand(so);
  auto loaded = LoadJob(so);
  if (!loaded.ok()) return Failed(loaded.status());
  if (int done = StatusFirst(args, so, loaded->first, prompter); done >= 0) return done;
  // Refused before a question is asked or anything is sent: the job's state no longer takes details.
  if (absl::Status updatable = CheckShippingUpdatable(loaded->first); !updatable.ok()) return Failed(updatable);
  absl::Status asked = AskShippingDetails(prompter, args.shipping, loaded->first, loaded->second);
  if (absl::IsCancelled(asked)) return Failed(asked, "nothing was changed: ");
  if (!asked.ok()) return Usage(std::string(asked.message()));
  absl::StatusOr<ShippingDetails> d = ShippingDetailsOf(args.shipping);
  if (!d.ok()) return Usage(std::string(d.status().message()));
  absl::Status checked = CheckShippingDetails(*d, loaded->first, loaded->second, so.clock->Now());
  if (!checked.ok()) return Usage(std::string(checked.message()));
  std::printf("%s\n", ShippingReview(loaded->first, *d).c_str());
  if (!args.yes) {
    if (prompter == nullptr) return Usage("confirm with --yes (no terminal to ask on)");
    absl::StatusOr<bool> commit = prompter->Confirm("Are these shipping details correct? Commit them?");
    if (!commit.ok() || !*commit) {
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
    std::printf("%-10s %-26s %-16s %8.1f GB  %s\" %s %s  %s\n", d.name().c_str(), d.model().c_str(), d.serial().c_str(),
                d.capacity() / 1e9, d.formfactor().empty() ? "?" : d.formfactor().c_str(), d.media().c_str(),
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

void PrintPrepared(const DiskPrepResult& r, const Args& args, bool dialogue) {
  if (args.json) {
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
  const std::string& staging = args.o.staging;
  for (const auto& d : r.drives) {
    // The recovery password is a secret: never printed; it lives in a 0600 file and in the import job.
    std::printf(
        "drive %s: id %s, %.2f GB in %d range(s), verified; recovery password in %s/diskprep/%s.recovery-password\n",
        d.name.c_str(), d.drive_id.c_str(), d.bytes / 1e9, d.ranges, staging.c_str(), d.name.c_str());
  }
  for (const std::string& rejected : r.rejected) {  // (the dialogue said these as they happened)
    if (!dialogue) std::printf("%s; it is not part of the job: do not ship it\n", RejectionReason(rejected).c_str());
  }
  const auto& a = r.location.properties();
  std::printf(
      "import job %s created (state %s).\nShip the drives to:\n  %s\n  %s\n  %s %s %s\n  %s\n  %s\n"
      "Supported carriers:",
      r.job.name().c_str(), r.job.properties().state().c_str(), a.recipientname().c_str(), a.streetaddress1().c_str(),
      a.postalcode().c_str(), a.city().c_str(), a.stateorprovince().c_str(), a.countryorregion().c_str(),
      a.phone().c_str());
  for (const auto& c : a.supportedcarriers()) std::printf(" %s", c.c_str());
  std::printf("\n%s", dialogue ? "" : "Then enter the shipping details with `diskprep u:`.\n");
}

// After the dialogue: the seed's offer to enter the shipping details at once (then what `u:` does).
int OfferShipping(Args& args, const std::string& agent_dir, Prompter& prompter) {
  absl::StatusOr<bool> ship = prompter.Confirm(
      "Do you want to enter the shipping details now? (If you do not know the tracking number or other shipping "
      "details yet, answer no and run `diskprep u:` when you do.)");
  if (!ship.ok() || !*ship) {
    std::printf("Enter the shipping details later with `diskprep u:`.\n");
    return 0;
  }
  return ShipCommand(args, agent_dir, &prompter);
}

// s: prepares the drives and creates the import job: from the flags (--drive, formatting confirmed with --yes or on
// the terminal), or, on a terminal without --drive, by the seed's dialogue (which import job, which drive, format
// it, another drive while the data does not fit, then the shipping details).
int PrepareCommand(Args& args, const std::string& agent_dir) {
  DiskPrepOptions& o = args.o;
  if (o.staging.empty()) return Usage("s:<staging location> is required");
  TerminalPrompter terminal;
  Prompter* prompter = StdinIsTerminal() ? &terminal : nullptr;
  const bool dialogue = prompter != nullptr && o.drives.empty();
  if (!dialogue && o.drives.empty()) return Usage("choose the drives with --drive NAME (see --list)");
  if (!dialogue && !args.yes) {
    if (prompter == nullptr) return Usage("formatting erases the chosen drives: confirm with --yes");
    absl::StatusOr<bool> format =
        prompter->Confirm(absl::StrCat("Format ", o.drives.size(), " drive(s) (everything on them is lost)?"));
    if (!format.ok() || !*format) {
      std::printf("nothing was changed\n");
      return 1;
    }
  }
  if (o.control_plane.empty()) return Usage("no management endpoint: --control-plane URL");
  absl::StatusOr<std::string> staging = ChooseImportJob(dialogue ? prompter : nullptr, o.staging);
  if (absl::IsFailedPrecondition(staging.status())) return Usage(std::string(staging.status().message()));
  if (dialogue && !staging.ok()) return Failed(staging.status());
  if (staging.ok()) o.staging = *staging;  // (from flags, a staging location that is none: PrepareDrives says so)
  auto transport = http::NewCurlTransport();
  o.transport = transport.get();
  const bool tty = ::isatty(2);
  ProgressLine line(tty);
  o.progress = [&line](const std::string& drive, uint64_t done, uint64_t total) { line.Show(drive, done, total); };
  Preparer prepare = [tty](const DiskPrepOptions& with) {
    absl::StatusOr<DiskPrepResult> r = PrepareDrives(with);
    if (tty) std::fprintf(stderr, "\n");  // ends the progress line
    return r;
  };
  absl::StatusOr<DiskPrepResult> r = dialogue ? PrepareInteractively(*prompter, o, prepare) : prepare(o);
  if (!r.ok()) return Failed(r.status());
  // So that `diskprep u:` on this computer finds the job.
  if (!RecordWaitingImport(agent_dir, o.staging).ok()) {
    std::fprintf(stderr, "diskprep: note: cannot record the job in %s; use u: s:%s later\n", agent_dir.c_str(),
                 o.staging.c_str());
  }
  PrintPrepared(*r, args, dialogue);
  if (!dialogue || args.json) return 0;
  return OfferShipping(args, agent_dir, *prompter);
}

}  // namespace

int RunDiskPrep(int argc, char** argv, const std::vector<DriveSourceFlag>& sources) {
  Args args;
  args.o.control_plane = Env("VMBACKUP_CONTROL_PLANE");
  args.o.token = Env("VMBACKUP_TOKEN");
  if (std::optional<int> done = ParseArgs(argc, argv, sources, args)) return *done;
  const std::string agent_dir = AgentDir();
  if (args.ship) {
    TerminalPrompter terminal;
    return ShipCommand(args, agent_dir, StdinIsTerminal() ? &terminal : nullptr);
  }
  absl::StatusOr<std::unique_ptr<DriveEnumerator>> source = OpenDriveSource(args);
  if (!source.ok()) return Usage(std::string(source.status().message()));
  args.o.drive_source = source->get();
  if (args.list) return ListCommand(**source);
  return PrepareCommand(args, agent_dir);
}

}  // namespace vmb::offline
