#include "offline_seed/repair/repair.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <set>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/diskprep/diskprep.pb.h"
#include "offline_seed/import_job/arm_client.h"
#include "offline_seed/import_job/job_progress.h"
#include "offline_seed/journal/journal.h"
#include "pugixml.hpp"

namespace vmb::offline {
namespace {

struct Range {
  std::string blob;  // "container/path"
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string md5;  // base16
  bool operator<(const Range& o) const { return std::tie(blob, offset) < std::tie(o.blob, o.offset); }
};

// Every range diskprep journaled, by drive id.
absl::StatusOr<std::map<std::string, std::vector<Range>>> JournaledRanges(const std::string& staging) {
  std::map<std::string, std::vector<Range>> out;
  std::string dir = staging + "/diskprep";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    if (absl::EndsWith(e->d_name, ".journal")) names.push_back(e->d_name);
  }
  ::closedir(d);
  for (const std::string& n : names) {
    ASSIGN_OR_RETURN(std::unique_ptr<Journal> j, Journal::Open(dir + "/" + n));
    std::string drive_id;  // ranges follow their drive's "formatted" record
    for (const std::string& line : j->records()) {
      proto::DiskPrepRecord r;
      if (!json::Parse(line, &r, "journal record").ok()) continue;
      if (r.step() == "formatted") drive_id = r.driveid();
      if (r.step() == "range") out[drive_id].push_back({r.blob(), r.offset(), r.length(), r.md5()});
    }
  }
  return out;
}

// The Corrupted ranges an error log names.
absl::StatusOr<std::vector<Range>> CorruptedRanges(const std::string& xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return absl::DataLossError("the drive's error log is not XML");
  std::vector<Range> out;
  for (pugi::xml_node blob : doc.child("DriveLog").children("Blob")) {
    for (pugi::xml_node pr : blob.child("PageRangeList").children("PageRange")) {
      if (std::string(pr.attribute("Status").value()) == "Completed") continue;
      Range r{blob.child_value("BlobPath"), 0, 0, pr.attribute("Hash").value()};
      if (!absl::SimpleAtoi(pr.attribute("Offset").value(), &r.offset) ||
          !absl::SimpleAtoi(pr.attribute("Length").value(), &r.length)) {
        return absl::DataLossError("the drive's error log has a range without a valid Offset or Length");
      }
      out.push_back(r);
    }
  }
  return out;
}

// A range's line in the repair record: the job it repaired and the range (blob paths and job names have no spaces).
std::string RecordOf(const std::string& job, const Range& r) {
  return absl::StrCat(job, " ", r.blob, " ", r.offset, " ", r.length, " ", absl::AsciiStrToUpper(r.md5));
}

// Sends one range from the staged image after checking it against the MD5 diskprep recorded (creating its page blob
// first if the import never did). False when the range is all zeros (nothing to send); `ready` remembers the blobs
// known to exist.
absl::StatusOr<bool> SendRange(const RepairOptions& o, const Range& r, std::set<std::string>* ready_blobs) {
  std::set<std::string>& ready = *ready_blobs;
  std::string image = o.staging + "/images/" + r.blob.substr(r.blob.rfind('/') + 1);
  struct stat st;
  if (::stat(image.c_str(), &st) != 0) return file::ErrnoStatus(errno, "cannot read the staged image", image);
  int fd = ::open(image.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return file::ErrnoStatus(errno, "cannot open", image);
  std::string data(r.length, '\0');
  ssize_t n = ::pread(fd, data.data(), data.size(), static_cast<off_t>(r.offset));
  ::close(fd);
  if (n != static_cast<ssize_t>(data.size()) ||
      (!r.md5.empty() && crypto::Base16Encode(crypto::Md5(data), true) != absl::AsciiStrToUpper(r.md5))) {
    return absl::DataLossError(absl::StrCat("the staged bytes of ", r.blob, " at offset ", r.offset,
                                            " no longer match what diskprep recorded; the staging location changed "
                                            "and cannot repair this import"));
  }
  blob::BlobUri target =
      o.account.WithContainer(r.blob.substr(0, r.blob.find('/'))).WithBlob(r.blob.substr(r.blob.find('/') + 1));
  if (!ready.count(r.blob)) {
    if (!o.storage->GetProperties(target).ok()) {
      RETURN_IF_ERROR(o.storage->CreateContainer(o.account.WithContainer(target.container())));
      RETURN_IF_ERROR(o.storage->CreatePageBlob(target, (static_cast<uint64_t>(st.st_size) + 511) / 512 * 512));
    }
    ready.insert(r.blob);
  }
  if (data.find_first_not_of('\0') == std::string::npos) return false;  // the page blob is zero there already
  data.resize((data.size() + 511) / 512 * 512, '\0');
  RETURN_IF_ERROR(o.storage->PutPages(target, r.offset, data));
  return true;
}

}  // namespace

absl::StatusOr<RepairResult> RepairImport(const RepairOptions& o) {
  ASSIGN_OR_RETURN(proto::ImportJobRecord staged, ReadStagedJob(o.staging));
  ie::ArmImportJobClient client(o.transport, o.control_plane, o.token);
  ASSIGN_OR_RETURN(ie::proto::Job job, client.GetJob({staged.subscriptionid(), o.resource_group, staged.jobname()}));
  RepairResult result;
  result.job_state = job.properties().state();
  // The drives decide, not the job: they are finished (Completed, CompletedMoreInfo, NeverReceived, ShippedBack)
  // while the job is still Packaging for return shipping.
  ie::JobProgress progress = ie::ProgressOf(job);
  if (!progress.data_done) {
    return absl::FailedPreconditionError(absl::StrCat("import job ", staged.jobname(), " is ", progress.summary,
                                                      "; repair once every drive has finished"));
  }
  std::map<std::string, std::vector<Range>> journaled;
  bool journaled_loaded = false;
  std::set<Range> todo;
  for (const ie::proto::DriveStatus& d : job.properties().drivelist()) {
    if ((d.state() == "Completed" || d.state() == "ShippedBack") &&
        (d.copystatus().empty() || d.copystatus() == "Completed")) {
      continue;
    }
    if (absl::StrContains(d.copystatus(), "Corrupted") && !d.errorloguri().empty()) {
      ASSIGN_OR_RETURN(blob::BlobUri log, blob::BlobUri::Parse(d.errorloguri()));
      ASSIGN_OR_RETURN(std::string xml,
                       o.storage->GetBlob(o.account.WithContainer(log.container()).WithBlob(log.blob())));
      ASSIGN_OR_RETURN(std::vector<Range> bad, CorruptedRanges(xml));
      todo.insert(bad.begin(), bad.end());
      result.drives.push_back(absl::StrCat(d.driveid(), ": ", bad.size(), " corrupted range(s) from its error log"));
      continue;
    }
    if (!journaled_loaded) {
      ASSIGN_OR_RETURN(journaled, JournaledRanges(o.staging));
      journaled_loaded = true;
    }
    auto it = journaled.find(d.driveid());
    if (it == journaled.end()) {
      return absl::NotFoundError(absl::StrCat("drive ", d.driveid(), " (", d.copystatus(),
                                              ") is not in the diskprep "
                                              "journals of ",
                                              o.staging,
                                              "; run the repair from the staging location "
                                              "the drives were prepared from"));
    }
    todo.insert(it->second.begin(), it->second.end());
    result.drives.push_back(absl::StrCat(d.driveid(), ": ", d.state(), " ",
                                         d.copystatus().substr(0, d.copystatus().find(':')), ", all ",
                                         it->second.size(), " range(s)"));
  }
  if (todo.empty()) return result;
  // What an earlier repair of this job already sent (an explicit `seedagent repair`, then the first backup, or an
  // interrupted run): each range goes once.
  ASSIGN_OR_RETURN(std::unique_ptr<Journal> record, Journal::Open(o.staging + "/" + kRepairRecord));
  const std::set<std::string> sent(record->records().begin(), record->records().end());
  std::set<std::string> ready;  // page blobs known to exist
  for (const Range& r : todo) {
    const std::string line = RecordOf(staged.jobname(), r);
    if (sent.count(line)) {
      ++result.ranges_already_sent;
      continue;
    }
    ASSIGN_OR_RETURN(bool put, SendRange(o, r, &ready));
    if (!put) continue;  // all zeros: the page blob is zero there already
    RETURN_IF_ERROR(record->Append(line));
    ++result.ranges_resent;
    result.bytes_resent += r.length;
  }
  return result;
}

}  // namespace vmb::offline
