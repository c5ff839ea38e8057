#include "snapshot/enable_job.h"

#include <algorithm>
#include <cstdlib>
#include <future>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/blob/blob_client.h"
#include "common/file/file_util.h"
#include "common/log/logger.h"
#include "common/log/redact.h"
#include "common/status/http_status.h"
#include "snapshot/error_codes.h"
#include "snapshot/job_log.h"
#include "snapshot/settings.h"
#include "snapshot/snapshotter.h"
#include "snapshot/status_report.h"

namespace vmb::snapshot {
namespace {

int64_t Ms(absl::Duration d) { return absl::ToInt64Milliseconds(d); }

std::string ProcessedPath(const HandlerFolders& f) { return absl::StrCat(f.status_folder, "/vmsnapshot.processed"); }

// Lines "seq<TAB>taskId" of jobs that reached a terminal status.
bool AlreadyProcessed(const HandlerFolders& f, int seq, const std::string& task_id, bool* same_seq) {
  absl::StatusOr<std::string> text = file::ReadFile(ProcessedPath(f));
  if (!text.ok()) return false;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('\t', 1));
    int n = -1;
    bool seq_match = absl::SimpleAtoi(kv.first, &n) && n == seq;
    if (seq_match || (!task_id.empty() && kv.second == task_id)) {
      *same_seq = seq_match;
      return true;
    }
  }
  return false;
}

void RecordProcessed(const HandlerFolders& f, int seq, const std::string& task_id) {
  std::string existing = file::ReadFile(ProcessedPath(f)).value_or("");
  absl::StrAppend(&existing, seq, "\t", task_id, "\n");
  (void)file::WriteFileAtomic(ProcessedPath(f), existing, 0600);
}

class Job {
 public:
  explicit Job(const EnableOptions& o)
      : o_(o), clock_(o.clock ? *o.clock : RealClock()), log_(clock_, o.echo_log_to_stderr), start_(clock_.Now()) {
    blob::BlobClientOptions bo;
    bo.clock = &clock_;
    bo.request_timeout = o.per_call_timeout;
    bo.retry.max_total = absl::Seconds(30);
    bo.retry.seed = static_cast<uint64_t>(absl::ToUnixNanos(start_));
    client_ = std::make_unique<blob::BlobClient>(o.transport, std::nullopt, bo);
    // Snapshot calls retry throttling only within the freeze budget.
    bo.retry.max_total = o.freeze_budget / 2;
    snap_client_ = std::make_unique<blob::BlobClient>(o.transport, std::nullopt, bo);
  }

  EnableResult Run();

 private:
  EnableResult Finish(int code, const std::string& detail, int consistency = kConsistencyNone);
  JobStatus BaseStatus() const;
  void Report(const JobStatus& status);
  absl::Status CheckLateness(const CommandTicks& ticks, std::string* note);

  // The phases of Run, in order. Each that returns std::optional<EnableResult> returns the job's result when the job
  // ends there, nullopt to go on.
  // The handler folders from HandlerEnvironment.json; the log file opens in their log folder.
  std::optional<EnableResult> OpenFolders();
  // settings_.seq: --seq, else $ConfigSequenceNumber, else the highest <N>.settings in the config folder.
  std::optional<EnableResult> ChooseSequenceNumber();
  // A sequence number already processed ends the job at once, reporting nothing (the agent re-runs enable).
  std::optional<EnableResult> SkipProcessedSequence();
  // Reads the settings, then checks that the task is new, the command is "snapshot" and it is not too late or early.
  std::optional<EnableResult> LoadSettings(CommandTicks* ticks);
  // The disks whose SAS is usable and that answer, checked (which warms the connection pool) before anything is
  // frozen; the others go to snapshotInfo with their error.
  std::vector<blob::BlobUri> ReadyDisks();
  // The "transitioning" status, and the logs so far, go out before the freeze.
  void ReportTransitioning();
  // Freezes, snapshots `disks` within the freeze budget and thaws (on every path); the snapshot results go to
  // *results. Ends the job when the freeze or the thaw fails or the command turned too late while freezing.
  std::optional<EnableResult> FreezeAndSnapshot(const std::vector<blob::BlobUri>& disks, const CommandTicks& ticks,
                                                std::vector<DiskResult>* results);
  // The job's outcome from the snapshot results: success, or which failure (some, all, count or rate limit).
  EnableResult Summarize(const std::vector<DiskResult>& results);

  const EnableOptions& o_;
  Clock& clock_;
  JobLog log_;
  absl::Time start_;
  std::unique_ptr<blob::BlobClient> client_;
  std::unique_ptr<blob::BlobClient> snap_client_;
  std::optional<HandlerFolders> folders_;
  JobSettings settings_;
  std::vector<SnapshotInfo> infos_;
  std::vector<std::pair<std::string, std::string>> telemetry_;
  std::optional<blob::BlobProperties> status_blob_, logs_blob_;  // learned by the first report, used by the next
  std::string notes_;
  EnableResult result_;
};

JobStatus Job::BaseStatus() const {
  JobStatus st;
  if (folders_) st.handler_name = folders_->name;
  st.vm_type = settings_.vm_type;
  return st;
}

void Job::Report(const JobStatus& status) {
  absl::Time now = clock_.Now();
  // Reports share what is left of the job's deadline, so the agent's 300 s limit is never reached even when the
  // storage account is failing: the (at most four) calls of the two uploads get a fifth of the remainder each.
  absl::Duration remaining = std::max(absl::Seconds(2), start_ + o_.deadline - now);
  blob::BlobClientOptions bo;
  bo.clock = &clock_;
  bo.request_timeout = std::min(o_.per_call_timeout, remaining / 5);
  bo.retry.max_total = std::min(absl::Seconds(30), remaining / 5);
  bo.retry.seed = static_cast<uint64_t>(absl::ToUnixNanos(now));
  blob::BlobClient report_client(o_.transport, std::nullopt, bo);
  // The local file first, so the outcome is never lost; rewritten if the status blob then fails, to say so.
  auto write_file = [&](const JobStatus& st) {
    if (!folders_) return;
    absl::Status s = WriteStatusFile(folders_->status_folder, settings_.seq, RenderStatus(st, now, StatusForm::kFile));
    if (s.ok()) {
      result_.status_file = absl::StrCat(folders_->status_folder, "/", settings_.seq, ".status");
    } else {
      log_.logger().Error("cannot write the status file: {}", s.message());
    }
  };
  write_file(status);
  // The logs blob goes up beside the status blob (two round trips at once instead of one after the other); if the
  // status blob then fails, the logs go up once more so they hold that error too.
  const bool logs_wanted = settings_.logs_blob && settings_.logs_blob->CheckSasUsable(now).ok();
  auto upload_logs = [&] { return UploadReportBlob(report_client, *settings_.logs_blob, log_.All(), &logs_blob_); };
  std::future<absl::Status> logs;
  if (logs_wanted) logs = std::async(std::launch::async, upload_logs);
  bool status_failed = false;
  if (settings_.status_blob) {
    absl::Status s = settings_.status_blob->CheckSasUsable(now);
    if (s.ok()) {
      s = UploadReportBlob(report_client, *settings_.status_blob, RenderStatus(status, now, StatusForm::kBlob),
                           &status_blob_);
    }
    if (!s.ok()) {
      status_failed = true;
      log_.logger().Error("cannot write the status blob: {}", s.message());
      auto note = std::make_pair(std::string("statusBlobUploadError"), RedactSecrets(s.message()));
      if (std::find(telemetry_.begin(), telemetry_.end(), note) == telemetry_.end()) telemetry_.push_back(note);
      JobStatus noted = status;
      if (std::find(noted.telemetry.begin(), noted.telemetry.end(), note) == noted.telemetry.end()) {
        noted.telemetry.push_back(note);
        write_file(noted);
      }
    }
  }
  if (logs_wanted) {
    absl::Status s = logs.get();
    if (s.ok() && status_failed) s = upload_logs();
    if (!s.ok()) log_.logger().Warning("cannot write the logs blob: {}", s.message());
  }
}

EnableResult Job::Finish(int code, const std::string& detail, int consistency) {
  const CodeInfo& info = InfoFor(code);
  JobStatus st = BaseStatus();
  st.status = code == kTransitioning ? "transitioning" : (info.is_error ? "error" : "success");
  st.code = code;
  st.locale = settings_.locale;
  std::string full_detail = detail;
  if (!notes_.empty()) full_detail = full_detail.empty() ? notes_ : absl::StrCat(full_detail, "; ", notes_);
  st.message_str = LocalizedMessage(code, settings_.locale, RedactSecrets(full_detail));
  st.consistency = consistency;
  st.job_message = RedactSecrets(full_detail);
  st.task_id = settings_.task_id;
  st.ticks = settings_.ticks_text;
  st.snapshots = infos_;
  telemetry_.emplace_back("TotalDurationMs", absl::StrCat(Ms(clock_.Now() - start_)));
  st.telemetry = telemetry_;
  if (info.is_error) {
    log_.logger().Error("job ends with code {} ({}): {}", code, info.name, full_detail);
  } else {
    log_.logger().Info("job ends with code {} ({}) {}", code, info.name, full_detail);
  }
  Report(st);
  // A run that never learned its task (the agent's empty settings, a missing settings file) is not recorded: the
  // real job may still arrive under the same sequence number.
  if (folders_ && code != kAlreadyProcessed && !settings_.task_id.empty()) {
    RecordProcessed(*folders_, settings_.seq, settings_.task_id);
  }
  log_.Close();
  result_.code = code;
  result_.status = st.status;
  result_.message = LocalizedMessage(code, "en", RedactSecrets(full_detail));
  // As the real extension: once the outcome is in the status file, enable has done its part (exit 0) and the agent
  // forwards that status; only a job whose outcome could not be written anywhere the agent looks exits 1.
  result_.exit_code = info.is_error && result_.status_file.empty() ? 1 : 0;
  return result_;
}

absl::Status Job::CheckLateness(const CommandTicks& ticks, std::string* note) {
  absl::Time now = clock_.Now();
  absl::Time issued = TicksToTime(ticks.ticks);
  absl::Time latest = issued + ticks.uncertainty, earliest = issued - ticks.uncertainty;
  if (now - latest > o_.max_lateness) {
    return WithCode(
        absl::DeadlineExceededError(absl::StrCat(
            "the command was issued at ", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", issued, absl::UTCTimeZone()),
            ", more than ", absl::FormatDuration(o_.max_lateness), " ago; the backup service will retry")),
        kCommandTooLate);
  }
  if (earliest - now > o_.max_lateness) {
    return WithCode(
        absl::FailedPreconditionError(absl::StrCat(
            "the command's start time ", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", issued, absl::UTCTimeZone()),
            " is far in the future; check the VM's clock (now ",
            absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone()), ")")),
        kWrongTime);
  }
  if (ticks.uncertainty > absl::Minutes(1) && note->empty()) {
    *note = absl::StrCat("commandStartTimeUTCTicks \"", settings_.ticks_text, "\" is only precise to +/-",
                         absl::FormatDuration(absl::Trunc(ticks.uncertainty, absl::Minutes(1))),
                         ", too imprecise to check the 140-minute limit exactly");
  }
  return absl::OkStatus();
}

EnableResult Job::Run() {
  if (std::optional<EnableResult> r = OpenFolders()) return *r;
  if (std::optional<EnableResult> r = ChooseSequenceNumber()) return *r;
  if (std::optional<EnableResult> r = SkipProcessedSequence()) return *r;
  CommandTicks ticks;
  if (std::optional<EnableResult> r = LoadSettings(&ticks)) return *r;
  std::vector<blob::BlobUri> disks = ReadyDisks();
  if (disks.empty()) {
    return Finish(kSnapshotFailedAll, "no disk can be snapshotted (see snapshotInfo); the VM was not frozen");
  }
  ReportTransitioning();
  if (clock_.Now() - start_ > o_.deadline) return Finish(kError, "the job ran out of time before the freeze");
  std::vector<DiskResult> results;
  if (std::optional<EnableResult> r = FreezeAndSnapshot(disks, ticks, &results)) return *r;
  return Summarize(results);
}

std::optional<EnableResult> Job::OpenFolders() {
  absl::StatusOr<HandlerFolders> folders = LoadHandlerEnvironment(o_.handler_environment);
  if (!folders.ok()) {
    log_.logger().Error("{}", folders.status().message());
    result_.code = kBadParameter;
    result_.message = std::string(folders.status().message());
    return result_;
  }
  folders_ = *folders;
  log_.OpenFile(folders_->log_folder);
  log_.logger().Info("{} {} enable starting (freeze provider {})", kExtensionName, kExtensionVersion,
                     o_.freeze->name());
  return std::nullopt;
}

std::optional<EnableResult> Job::ChooseSequenceNumber() {
  int seq = 0;
  if (o_.seq) {
    seq = *o_.seq;
  } else if (const char* env = std::getenv("ConfigSequenceNumber"); env && absl::SimpleAtoi(env, &seq)) {
  } else {
    absl::StatusOr<int> latest = LatestSequenceNumber(folders_->config_folder);
    if (!latest.ok()) return Finish(CodeOf(latest.status(), kBadParameter), std::string(latest.status().message()));
    seq = *latest;
  }
  settings_.seq = seq;
  return std::nullopt;
}

std::optional<EnableResult> Job::SkipProcessedSequence() {
  bool same_seq = false;
  if (!AlreadyProcessed(*folders_, settings_.seq, "", &same_seq)) return std::nullopt;
  log_.logger().Info("sequence number {} was already processed; nothing to do", settings_.seq);
  log_.Close();
  result_.code = kAlreadyProcessed;
  result_.status = "success";
  result_.message = LocalizedMessage(kAlreadyProcessed, "en", absl::StrCat("sequence number ", settings_.seq));
  result_.exit_code = 0;
  return result_;
}

std::optional<EnableResult> Job::LoadSettings(CommandTicks* ticks) {
  const int seq = settings_.seq;
  absl::StatusOr<JobSettings> settings = LoadJobSettings(folders_->config_folder, seq, o_.cert_dir, &settings_);
  if (!settings.ok()) return Finish(CodeOf(settings.status(), kBadParameter), std::string(settings.status().message()));
  settings_ = *settings;
  log_.logger().Info("settings {}: taskId {}, {} disk(s), locale {}", seq, settings_.task_id, settings_.disks.size(),
                     settings_.locale);
  if (!settings_.logs_blob) {
    // As the real extension: no logsBlobUri means no log upload, not a failed backup (the seeds describe the field,
    // and the backup service always sends it).
    log_.logger().Warning("settings {} carry no logsBlobUri: this log is not uploaded; it stays in {}/extension.log",
                          seq, folders_->log_folder);
  }
  bool same_seq = false;
  if (AlreadyProcessed(*folders_, seq, settings_.task_id, &same_seq)) {
    return Finish(kAlreadyProcessed, absl::StrCat("taskId ", settings_.task_id, " was already processed"));
  }
  if (settings_.command != "snapshot") {
    return Finish(kBadParameter, absl::StrCat("commandToExecute \"", settings_.command,
                                              "\" is not supported; the only command is \"snapshot\""));
  }
  absl::StatusOr<CommandTicks> parsed = ParseTicks(settings_.ticks_text);
  if (!parsed.ok()) return Finish(CodeOf(parsed.status(), kBadParameter), std::string(parsed.status().message()));
  *ticks = *parsed;
  if (absl::Status late = CheckLateness(*ticks, &notes_); !late.ok()) {
    return Finish(CodeOf(late, kCommandTooLate), std::string(late.message()));
  }
  return std::nullopt;
}

std::vector<blob::BlobUri> Job::ReadyDisks() {
  absl::Time now = clock_.Now();
  std::vector<blob::BlobUri> usable;
  for (const blob::BlobUri& disk : settings_.disks) {
    absl::Status s = disk.CheckSasUsable(now);
    if (s.ok()) {
      usable.push_back(disk);
    } else {
      infos_.push_back({false, "", std::string(s.message()), disk.ResourceUrl()});
    }
  }
  std::vector<absl::Status> checks = CheckDisks(*client_, usable, o_.parallelism);
  std::vector<blob::BlobUri> ready;
  for (size_t i = 0; i < usable.size(); ++i) {
    if (checks[i].ok()) {
      ready.push_back(usable[i]);
    } else {
      infos_.push_back({false, "", RedactSecrets(checks[i].message()), usable[i].ResourceUrl()});
      log_.logger().Error("disk {} cannot be snapshotted: {}", usable[i].Redacted(), checks[i].message());
    }
  }
  return ready;
}

void Job::ReportTransitioning() {
  JobStatus st = BaseStatus();
  st.locale = settings_.locale;
  st.message_str = LocalizedMessage(kTransitioning, settings_.locale);
  st.task_id = settings_.task_id;
  st.ticks = settings_.ticks_text;
  Report(st);
}

std::optional<EnableResult> Job::FreezeAndSnapshot(const std::vector<blob::BlobUri>& disks, const CommandTicks& ticks,
                                                   std::vector<DiskResult>* results) {
  Logger& log = log_.logger();
  absl::Time freeze_start = clock_.Now();
  absl::Status frozen = o_.freeze->Freeze(o_.freeze_budget);
  auto thaw = absl::MakeCleanup([this] { (void)o_.freeze->Thaw(); });
  if (!frozen.ok()) {
    std::move(thaw).Invoke();
    return Finish(CodeOf(frozen, kFreezeFailed), absl::StrCat("freeze failed: ", frozen.message()));
  }
  if (absl::Status late = CheckLateness(ticks, &notes_); !late.ok()) {
    std::move(thaw).Invoke();
    return Finish(CodeOf(late, kCommandTooLate), absl::StrCat(late.message(), " (checked again after the freeze)"));
  }
  log_.Pause();  // nothing may touch the disk while it is frozen
  SnapshotOptions so;
  so.parallelism = o_.parallelism;
  so.deadline = std::min(freeze_start + o_.freeze_budget, start_ + o_.deadline);
  *results = SnapshotDisks(*snap_client_, disks, settings_.snapshot_metadata, so, clock_);
  absl::Status thawed = o_.freeze->Thaw();
  std::move(thaw).Cancel();
  absl::Time thaw_end = clock_.Now();
  log_.Resume();
  result_.freeze_window = thaw_end - freeze_start;
  log.Info("freeze-to-thaw window {} ms for {} disk(s)", Ms(result_.freeze_window), disks.size());
  if (!thawed.ok()) log.Error("thaw reported: {}", thawed.message());
  if (std::string n = o_.freeze->notes(); !n.empty()) notes_ = notes_.empty() ? n : absl::StrCat(notes_, "; ", n);
  if (thawed.ok()) return std::nullopt;
  // E.g. the watchdog released the freeze before the snapshots finished (122: they are not consistent), or a
  // post-script failed (301). The snapshots taken are still listed.
  for (const DiskResult& r : *results) {
    if (r.status.ok()) infos_.push_back({true, SnapshotUri(r.disk, r.snapshot), "", r.disk.ResourceUrl()});
  }
  return Finish(CodeOf(thawed, kFreezeFailed), std::string(thawed.message()));
}

EnableResult Job::Summarize(const std::vector<DiskResult>& results) {
  Logger& log = log_.logger();
  int ok = 0, rate = 0, count = 0;
  absl::Duration slowest;
  for (const DiskResult& r : results) {
    slowest = std::max(slowest, r.elapsed);
    if (r.status.ok()) {
      ++ok;
      infos_.push_back({true, SnapshotUri(r.disk, r.snapshot), "", r.disk.ResourceUrl()});
      log.Info("snapshot of {} is {} ({} attempt(s), {} ms)", r.disk.Redacted(), r.snapshot, r.attempts, Ms(r.elapsed));
    } else {
      std::string azure = AzureErrorCodeOf(r.status);
      rate += azure == "SnapshotOperationRateExceeded";
      count += azure == "SnapshotCountExceeded";
      infos_.push_back({false, "", RedactSecrets(r.status.message()), r.disk.ResourceUrl()});
      log.Error("snapshot of {} failed after {} attempt(s): {}", r.disk.Redacted(), r.attempts, r.status.message());
    }
  }
  result_.snapshots_taken = ok;
  telemetry_.emplace_back("FreezeDurationMs", absl::StrCat(Ms(result_.freeze_window)));
  telemetry_.emplace_back("SnapshotDurationMs", absl::StrCat(Ms(slowest)));
  telemetry_.emplace_back("DiskCount", absl::StrCat(settings_.disks.size()));
  telemetry_.emplace_back("SnapshotCount", absl::StrCat(ok));
  telemetry_.emplace_back("FreezeProvider", o_.freeze->name());
  int failed = static_cast<int>(settings_.disks.size()) - ok;
  if (failed == 0) {
    Consistency c = o_.freeze->consistency();
    const char* kind = c == kApplicationConsistent  ? "application-consistent"
                       : c == kFileSystemConsistent ? "file-system-consistent"
                                                    : "crash-consistent";
    return Finish(c == kApplicationConsistent ? kSuccessAppConsistent : kSuccess,
                  absl::StrCat(ok, " disk(s), ", kind, ", freeze window ", Ms(result_.freeze_window), " ms"), c);
  }
  std::string detail = absl::StrCat(failed, " of ", settings_.disks.size(), " disk(s) failed");
  if (ok > 0) return Finish(kSnapshotFailedSome, detail);
  if (count > 0) return Finish(kSnapshotCountExceeded, detail);
  if (rate == failed) return Finish(kSnapshotRateExceeded, detail);
  return Finish(kSnapshotFailedAll, detail);
}

}  // namespace

EnableResult RunEnable(const EnableOptions& options) {
  Job job(options);
  return job.Run();
}

EnableResult RunLifecycle(const std::string& operation, const EnableOptions& options) {
  EnableResult r;
  // Nothing is ever left frozen between runs (the freeze lives inside one enable), so a thaw here is a no-op
  // safety net for providers that keep state.
  if (options.freeze) (void)options.freeze->Thaw();
  r.code = kSuccess;
  r.status = "success";
  r.exit_code = 0;
  r.message = absl::StrCat(operation, " succeeded");
  return r;
}

}  // namespace vmb::snapshot
