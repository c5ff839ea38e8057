#include "offline_seed/diskprep/diskprep.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "common/cli/sizes.h"
#include "common/concurrent/bounded_pool.h"
#include "common/concurrent/buffer_pool.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/diskprep/diskprep.pb.h"
#include "offline_seed/journal/journal.h"
#include "offline_seed/manifest/drive_manifest.h"
#include "offline_seed/publish/publish_settings.h"
#include "offline_seed/volume/encrypted_volume.h"
#include "offline_seed/import_job/arm_client.h"

namespace vmb::offline {
namespace {

struct Range {
  std::string blob;
  std::string image_path;
  uint64_t blob_length = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
};

std::string Key(const std::string& blob, uint64_t offset) { return absl::StrCat(blob, "@", offset); }

uint64_t RoundUp4K(uint64_t v) { return (v + kDataUnit - 1) / kDataUnit * kDataUnit; }

absl::StatusOr<std::vector<Range>> PlanRanges(const std::string& staging, const proto::ImportJobRecord& job) {
  std::vector<std::string> images;
  DIR* d = ::opendir((staging + "/images").c_str());
  if (!d) return absl::NotFoundError(absl::StrCat(staging, "/images is missing: the staging location is incomplete"));
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (absl::EndsWith(n, ".vhd")) images.push_back(n);
  }
  ::closedir(d);
  std::sort(images.begin(), images.end());
  std::vector<Range> out;
  for (const std::string& n : images) {
    std::string path = staging + "/images/" + n;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return file::ErrnoStatus(errno, "cannot read", path);
    uint64_t size = static_cast<uint64_t>(st.st_size);
    std::string blob = absl::StrCat(job.container(), "/", job.jobname(), "/", n);
    for (uint64_t off = 0; off < size; off += manifest::kMaxRange) {
      out.push_back({blob, path, size, off, std::min<uint64_t>(manifest::kMaxRange, size - off)});
    }
  }
  return out;
}

// Reads a range into `buf` (a pooled buffer of at least its padded length), which is left holding exactly it.
absl::Status ReadRange(const Range& r, std::string& buf) {
  int fd = ::open(r.image_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return file::ErrnoStatus(errno, "cannot open", r.image_path);
  buf.resize(r.length);
  ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(r.offset));
  ::close(fd);
  if (n != static_cast<ssize_t>(buf.size())) return absl::DataLossError(absl::StrCat("short read from ", r.image_path));
  return absl::OkStatus();
}

// Threads for reading and hashing (or checking) per drive while `drives` drives work at once: every core, shared.
size_t CoresPerDrive(size_t drives) {
  return std::max<size_t>(1, std::thread::hardware_concurrency() / std::max<size_t>(1, drives));
}

// A range read from the staging location with its MD5 (upper-case hex, as the manifest has it); an empty MD5 for an
// all-zero range (nothing to ship).
struct Hashed {
  const Range* range;
  std::shared_ptr<std::string> data;
  absl::Status read;
  std::string md5;
};

Hashed ReadAndHash(const Range* r, std::shared_ptr<std::string> buf) {
  Hashed h{r, std::move(buf), absl::OkStatus(), ""};
  h.read = ReadRange(*r, *h.data);
  if (h.read.ok() && h.data->find_first_not_of('\0') != std::string::npos) {
    h.md5 = crypto::Base16Encode(crypto::Md5(*h.data), true);
  }
  return h;
}

std::vector<proto::DiskPrepRecord> Records(const Journal& j) {
  std::vector<proto::DiskPrepRecord> out;
  for (const std::string& line : j.records()) {
    proto::DiskPrepRecord r;
    if (json::Parse(line, &r, "journal record").ok()) out.push_back(r);
  }
  return out;
}

absl::Status AppendRecord(Journal& j, const proto::DiskPrepRecord& r) { return j.Append(json::ToJson(r)); }

absl::Status Removed(const std::string& drive, const absl::Status& s) {
  if (s.code() != absl::StatusCode::kUnavailable) return s;
  return absl::UnavailableError(absl::StrCat(s.message(), ". Reattach the drive (or attach another) and run the same "
                                                           "command again: diskprep resumes at the last durable range"));
}

}  // namespace

// Before formatting: does the drive keep data where it says it can? 4 KiB markers, each unique, written at 33
// places spread over the whole reported capacity (the last one at its very end), flushed and read back. A
// counterfeit drive that wraps or drops writes past its real size fails here (kDataLoss), before any data is
// trusted to it.
absl::Status ProbeCapacity(io::BlockDevice& device, const std::string& name) {
  constexpr uint64_t kUnit = 4096;
  const uint64_t units = device.size() / kUnit;
  if (units < 2) return absl::OkStatus();
  const std::string nonce = crypto::SecureRandom().Bytes(16);
  std::vector<uint64_t> at;
  for (uint64_t k = 0; k <= 32; ++k) at.push_back((units - 1) * k / 32 * kUnit);
  at.erase(std::unique(at.begin(), at.end()), at.end());
  auto marker = [&](uint64_t offset) {
    std::string m = absl::StrCat("vmbackup capacity probe ", offset, " ", crypto::Base16Encode(nonce, true));
    m.resize(kUnit, '\x5a');
    return m;
  };
  for (uint64_t offset : at) RETURN_IF_ERROR(device.Write(offset, marker(offset)));
  RETURN_IF_ERROR(device.Flush());
  for (uint64_t offset : at) {
    std::string back;
    RETURN_IF_ERROR(device.Read(offset, kUnit, &back));
    if (back != marker(offset)) {
      return absl::DataLossError(absl::StrFormat(
          "drive %s reports %.1f GB but does not keep what is written at %.1f GB (a counterfeit or failing drive); "
          "use another drive", name, device.size() / 1e9, offset / 1e9));
    }
  }
  return absl::OkStatus();
}

std::string DriveRefusal(const drives::proto::DriveInfo& d) {
  if (d.system()) return "it is the system disk";
  if (!d.attached()) return "it is not attached (or a partition of it is mounted)";
  if (d.writeprotected()) return "it is write-protected";
  if (d.interface() != "sata2" && d.interface() != "sata3") {
    return absl::StrCat("its interface is ", d.interface(), "; only internal SATA II/III drives are accepted");
  }
  if (d.media() == "ssd" && d.formfactor() != "2.5") return "SSDs must be 2.5\"";
  if (d.media() == "hdd" && d.formfactor() != "2.5" && d.formfactor() != "3.5") return "HDDs must be 2.5\" or 3.5\"";
  if (d.capacity() > kMaxDriveBytes) {
    return absl::StrFormat("it holds %.1f TB; drives over 10 TB are not accepted", d.capacity() / 1e12);
  }
  return "";
}

absl::StatusOr<DiskPrepResult> PrepareDrives(const DiskPrepOptions& o) {
  ASSIGN_OR_RETURN(proto::ImportJobRecord staged, ReadStagedJob(o.staging));
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  std::string publish = o.publish_settings.empty() ? staged.publishsettingspath() : o.publish_settings;
  if (o.publish_settings.empty() && staged.sourcehost() != host) {
    return absl::InvalidArgumentError(absl::StrCat("this is not the source computer (", staged.sourcehost(),
                                                   "): pass the publish settings file with p:<file>"));
  }
  ASSIGN_OR_RETURN(SubscriptionCredential sub, LoadSubscription(publish, staged.subscriptionid()));
  if (o.drives.empty()) return absl::InvalidArgumentError("no drive chosen (--drive NAME, repeatable)");
  ASSIGN_OR_RETURN(std::vector<Range> plan, PlanRanges(o.staging, staged));
  uint64_t total = 0;
  for (const Range& r : plan) total += r.length;

  std::string dir = o.staging + "/diskprep";
  RETURN_IF_ERROR(file::MakeDirs(dir, 0700));
  if (o.drive_source == nullptr) return absl::InvalidArgumentError("no drive source given");
  DriveEnumerator& bay = *o.drive_source;
  DiskPrepResult result;

  // Every chosen drive's state from its journal; a drive rejected before (data loss) stays out.
  struct Drive {
    std::string name;
    std::string serial_id;  // DriveIdFromSerial of its IDENTIFY serial: its id in the import job
    std::unique_ptr<Journal> journal;
    std::unique_ptr<io::BlockDevice> device;
    std::unique_ptr<EncryptedVolume> volume;
    PreparedDrive prepared;
    std::vector<proto::DiskPrepRecord> ranges;  // journaled, in order
    uint64_t next_offset = kManifestArea;
    bool full = false, verified = true, rejected = false;
  };
  std::vector<std::unique_ptr<Drive>> drives;
  std::set<std::string> done;  // ranges durable on a drive (or all-zero: nothing to ship)
  for (const std::string& name : o.drives) {
    ASSIGN_OR_RETURN(drives::proto::DriveInfo spec, bay.Get(name));
    std::string refusal = DriveRefusal(spec);
    if (!refusal.empty() && spec.attached()) {
      return absl::FailedPreconditionError(absl::StrCat("drive ", name, " (", spec.model(), ", serial ", spec.serial(),
                                                        ") cannot be used: ", refusal));
    }
    auto d = std::make_unique<Drive>();
    d->name = name;
    d->serial_id = DriveIdFromSerial(spec.serial());
    for (const auto& other : drives) {
      if (!d->serial_id.empty() && other->serial_id == d->serial_id) {
        return absl::FailedPreconditionError(absl::StrCat(
            "drives ", other->name, " and ", name, " report the same serial number ", spec.serial(),
            ": the import job names drives by serial; use drives with their own serial numbers"));
      }
    }
    d->prepared.name = name;
    if (::access((dir + "/" + name + ".journal").c_str(), F_OK) == 0) result.resumed = true;
    ASSIGN_OR_RETURN(d->journal, Journal::Open(dir + "/" + name + ".journal"));
    bool formatted = false;
    for (const auto& r : Records(*d->journal)) {
      if (r.step() == "formatted") formatted = true, d->prepared.drive_id = r.driveid();
      if (r.step() == "range") {
        d->ranges.push_back(r);
        d->next_offset = std::max(d->next_offset, RoundUp4K(r.volumeoffset() + r.length()));
        d->verified = false;  // ranges after a verify (a later run added data) need a new manifest and verify
      }
      if (r.step() == "full") d->full = true;
      if (r.step() == "manifest") d->prepared.manifest_md5 = r.manifestmd5();
      if (r.step() == "verified") d->verified = true;
      if (r.step() == "rejected") d->rejected = true;
    }
    if (d->rejected) continue;
    if (!formatted) d->verified = false;
    for (const auto& r : d->ranges) done.insert(Key(r.blob(), r.offset()));
    absl::StatusOr<std::unique_ptr<io::BlockDevice>> device = bay.Open(name);
    if (!device.ok()) return Removed(name, device.status());
    d->device = *std::move(device);
    drives.push_back(std::move(d));
  }
  std::mutex mu;  // guards done, done_bytes, result.rejected and the queue below
  uint64_t done_bytes = 0;
  for (const Range& r : plan) {
    if (done.count(Key(r.blob, r.offset))) done_bytes += r.length;
  }

  // A drive that lost data (bad sectors, a failed read-back or verify) is rejected: journaled as such, and its
  // ranges go back to the others.
  auto reject = [&](Drive& d, const absl::Status& why) -> absl::Status {
    proto::DiskPrepRecord rej;
    rej.set_step("rejected");
    rej.set_md5(std::string(why.message()).substr(0, 200));
    RETURN_IF_ERROR(AppendRecord(*d.journal, rej));
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& r : d.ranges) {
      if (done.erase(Key(r.blob(), r.offset()))) done_bytes -= r.length();
    }
    d.rejected = true;
    result.rejected.push_back(absl::StrCat(d.name, ": ", why.message()));
    return absl::OkStatus();
  };
  // Runs `work` on every drive at once; DataLoss rejects the drive, the first other error is returned.
  auto on_each = [&](const std::vector<Drive*>& which, const std::function<absl::Status(Drive&)>& work) -> absl::Status {
    std::vector<absl::Status> outcome(which.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < which.size(); ++i) threads.emplace_back([&, i] { outcome[i] = work(*which[i]); });
    for (auto& t : threads) t.join();
    absl::Status first;
    for (size_t i = 0; i < which.size(); ++i) {
      if (outcome[i].code() == absl::StatusCode::kDataLoss) {
        RETURN_IF_ERROR(reject(*which[i], outcome[i]));
      } else if (first.ok() && !outcome[i].ok()) {
        first = outcome[i];
      }
    }
    return first;
  };
  auto usable = [&](bool need_room) {
    std::vector<Drive*> out;
    for (auto& d : drives) {
      if (!d->rejected && !(need_room && d->full)) out.push_back(d.get());
    }
    return out;
  };

  // Format (new drives), unlock, and re-check the last durable range of a resumed one: all drives at once.
  RETURN_IF_ERROR(on_each(usable(false), [&](Drive& d) -> absl::Status {
    std::string key_path = dir + "/" + d.name + ".recovery-password";
    if (d.prepared.drive_id.empty()) {
      absl::Status probed = ProbeCapacity(*d.device, d.name);
      if (!probed.ok()) return Removed(d.name, probed);
      // The drive's id in the job is its hardware serial (a drive that reports none gets a random one).
      FormatOptions fo{d.serial_id.empty() ? crypto::Base16Encode(crypto::SecureRandom().Bytes(4), true) : d.serial_id,
                       staged.jobname(), o.kdf_n};
      absl::StatusOr<Formatted> f = FormatVolume(*d.device, fo);
      if (!f.ok()) return Removed(d.name, f.status());
      // The password before the journal entry: a crash in between only means formatting again.
      RETURN_IF_ERROR(file::WriteFileAtomic(key_path, f->password.ToString(), 0600));
      proto::DiskPrepRecord rec;
      rec.set_step("formatted");
      rec.set_driveid(fo.drive_id);
      RETURN_IF_ERROR(AppendRecord(*d.journal, rec));
      d.prepared.drive_id = fo.drive_id;
    }
    ASSIGN_OR_RETURN(std::string password_text, file::ReadFile(key_path));
    ASSIGN_OR_RETURN(crypto::RecoveryPassword password, crypto::RecoveryPassword::Parse(password_text));
    d.prepared.recovery_password = password.ToString();
    absl::StatusOr<std::unique_ptr<EncryptedVolume>> volume = EncryptedVolume::Unlock(*d.device, password);
    if (!volume.ok()) return Removed(d.name, volume.status());
    d.volume = *std::move(volume);
    d.prepared.header_hash = DriveHeaderHash(d.volume->header());
    if (!d.verified && !d.ranges.empty()) {
      const auto& last = d.ranges.back();
      std::string back;
      absl::Status s = d.volume->Read(last.volumeoffset(), RoundUp4K(last.length()), &back);
      if (!s.ok()) return Removed(d.name, s);
      if (crypto::Base16Encode(crypto::Md5(absl::string_view(back).substr(0, last.length())), true) != last.md5()) {
        return absl::DataLossError(absl::StrCat("drive ", d.name, ": the last journaled range (", last.blob(), " at ",
                                                last.offset(), ") does not read back; the drive lost acknowledged "
                                                "writes and cannot be trusted"));
      }
    }
    return absl::OkStatus();
  }));

  // The copy: one thread per drive with room, each taking the next range still to ship from one shared queue, so
  // two drives fill at the same time (the copy never waits on one drive). Writes are made durable (drive flush) in
  // batches of ~32 MiB and only then journaled; encrypting and writing a range (a writer thread per drive) overlaps
  // reading and hashing the next one. Then every drive that got ranges writes its manifest and is verified. A drive
  // rejected on the way gives its ranges back and the round repeats with the others.
  // Range buffers, reused: at most (read ahead + queued for the writer + being written) per drive are ever made, so
  // memory does not grow with the size of the job.
  concurrent::BufferPool buffers(RoundUp4K(manifest::kMaxRange));
  std::deque<const Range*> queue;
  size_t hashers = 1;    // read-and-hash threads per drive, set per round
  size_t verifiers = 1;  // MD5 checks in flight per drive while verifying, set per round
  auto copy = [&](Drive& d) -> absl::Status {
    std::vector<proto::DiskPrepRecord> pending;
    uint64_t pending_bytes = 0;
    // One writer thread per drive runs, in order: the range writes (encrypt + write) and, after each batch, the
    // flush that makes it durable and the journal records for it. Meanwhile the next ranges are read and hashed (up
    // to 4 queued for the writer), so a flush never stops the pipeline.
    concurrent::BoundedPool writer(1, 4);
    auto commit = [&](bool wait) -> absl::Status {
      if (!pending.empty()) {
        auto batch = std::make_shared<std::vector<proto::DiskPrepRecord>>(std::move(pending));
        pending.clear();
        pending_bytes = 0;
        writer.Submit([&, batch]() -> absl::Status {
          RETURN_IF_ERROR(d.volume->Flush());
          for (const auto& rec : *batch) {
            RETURN_IF_ERROR(AppendRecord(*d.journal, rec));
            d.ranges.push_back(rec);
          }
          uint64_t now_done;
          {
            std::lock_guard<std::mutex> lock(mu);
            for (const auto& rec : *batch) {
              done.insert(Key(rec.blob(), rec.offset()));
              done_bytes += rec.length();
            }
            now_done = done_bytes;
          }
          d.verified = false;
          if (o.progress) o.progress(d.name, now_done, total);
          return absl::OkStatus();
        });
      }
      if (!wait) return absl::OkStatus();
      absl::Status ws = writer.Drain();
      return ws.ok() ? ws : Removed(d.name, ws);  // the unjournaled ranges are queued again by the next round or run
    };
    // Reading and hashing run ahead of the drive on `hashers` threads (MD5 is the costliest step: one thread keeps
    // ~700 MB/s, below what a drive takes), and their results are used in the order the ranges were taken.
    std::deque<std::future<Hashed>> ahead;
    auto refill = [&] {
      while (ahead.size() < hashers) {
        const Range* next = nullptr;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (queue.empty()) return;
          next = queue.front();
          queue.pop_front();
        }
        ahead.push_back(std::async(std::launch::async, ReadAndHash, next, buffers.Get()));
      }
    };
    // Ranges taken but not written go back to the front of the queue, in order, for this drive or another.
    auto give_back = [&](const Range* first) {
      std::vector<const Range*> back = {first};
      for (auto& f : ahead) back.push_back(f.get().range);
      ahead.clear();
      std::lock_guard<std::mutex> lock(mu);
      for (auto it = back.rbegin(); it != back.rend(); ++it) queue.push_front(*it);
    };
    for (;;) {
      refill();
      if (ahead.empty()) break;
      Hashed h = ahead.front().get();
      ahead.pop_front();
      const Range* r = h.range;
      if (!h.read.ok()) {  // the staging location, not the drive: never a reason to reject the drive
        give_back(r);
        return absl::FailedPreconditionError(absl::StrCat("cannot read the staging location: ", h.read.message()));
      }
      if (h.md5.empty()) {
        std::lock_guard<std::mutex> lock(mu);
        done.insert(Key(r->blob, r->offset));  // all-zero: nothing to ship
        done_bytes += r->length;
        continue;
      }
      uint64_t padded = RoundUp4K(h.data->size());
      if (d.next_offset + padded > d.volume->size()) {
        give_back(r);  // for a drive with room
        RETURN_IF_ERROR(commit(/*wait=*/true));
        d.full = true;
        proto::DiskPrepRecord rec;
        rec.set_step("full");
        return AppendRecord(*d.journal, rec);
      }
      if (writer.failed()) {
        give_back(r);
        return commit(/*wait=*/true);  // reports the write error, drive removed
      }
      proto::DiskPrepRecord rec;
      rec.set_step("range");
      rec.set_blob(r->blob);
      rec.set_offset(r->offset);
      rec.set_length(r->length);
      rec.set_md5(std::move(h.md5));
      rec.set_volumeoffset(d.next_offset);
      std::shared_ptr<std::string> buf = std::move(h.data);
      buf->resize(padded, '\0');
      Drive* dp = &d;
      writer.Submit([dp, at = d.next_offset, buf = std::move(buf)] { return dp->volume->Write(at, *buf); });
      pending.push_back(rec);
      pending_bytes += padded;
      d.next_offset += padded;
      if (pending_bytes >= (32u << 20)) RETURN_IF_ERROR(commit(/*wait=*/false));
    }
    return commit(/*wait=*/true);
  };
  auto finalize = [&](Drive& d) -> absl::Status {
    // The manifest and the region table at the start of the data area.
    manifest::DriveManifest m;
    m.drive_id = d.prepared.drive_id;
    proto::DriveContents contents;
    std::map<std::string, size_t> blob_index;
    for (const auto& r : d.ranges) {
      if (!blob_index.count(r.blob())) {
        blob_index[r.blob()] = m.blobs.size();
        manifest::BlobEntry b;
        b.blob_path = r.blob();
        b.file_path = "\\" + absl::StrReplaceAll(r.blob(), {{"/", "\\"}});
        for (const Range& p : plan) {
          if (p.blob == r.blob()) b.length = p.blob_length;
        }
        m.blobs.push_back(b);
      }
      m.blobs[blob_index[r.blob()]].ranges.push_back({r.offset(), r.length(), r.md5()});
      auto* region = contents.add_regions();
      region->set_blob(r.blob());
      region->set_offset(r.offset());
      region->set_length(r.length());
      region->set_volumeoffset(r.volumeoffset());
    }
    for (auto& b : m.blobs) {
      std::sort(b.ranges.begin(), b.ranges.end(), [](const auto& x, const auto& y) { return x.offset < y.offset; });
    }
    ASSIGN_OR_RETURN(std::string xml, manifest::Serialize(m));
    contents.set_manifestxml(xml);
    std::string area = json::ToJson(contents);
    if (area.size() > kManifestArea) return absl::ResourceExhaustedError("the manifest does not fit its area");
    area.resize(RoundUp4K(area.size() + 1), '\0');
    absl::Status s = d.volume->Write(0, area);
    if (s.ok()) s = d.volume->Flush();
    if (!s.ok()) return Removed(d.name, s);
    d.prepared.manifest_md5 = crypto::Base16Encode(crypto::Md5(xml), true);
    proto::DiskPrepRecord mrec;
    mrec.set_step("manifest");
    mrec.set_manifestmd5(d.prepared.manifest_md5);
    RETURN_IF_ERROR(AppendRecord(*d.journal, mrec));
    // Verify: every range read back and decrypted in order, its MD5 checked against the manifest on `verifiers`
    // threads beside the reads.
    std::deque<std::future<const proto::DiskPrepRecord*>> checks;  // each: the range when it does not match
    auto check_one = [&]() -> absl::Status {
      const proto::DiskPrepRecord* bad = checks.front().get();
      checks.pop_front();
      if (bad == nullptr) return absl::OkStatus();
      while (!checks.empty()) checks.pop_front();  // waits for the rest
      return absl::DataLossError(absl::StrCat("verification failed on drive ", d.name, ": ", bad->blob(), " at ",
                                              bad->offset(), " does not match its MD5"));
    };
    for (const auto& r : d.ranges) {
      std::shared_ptr<std::string> back = buffers.Get();
      absl::Status rs = d.volume->Read(r.volumeoffset(), RoundUp4K(r.length()), back.get());
      if (!rs.ok()) return Removed(d.name, rs);
      checks.push_back(std::async(std::launch::async, [back, rp = &r]() -> const proto::DiskPrepRecord* {
        bool same = crypto::Base16Encode(crypto::Md5(absl::string_view(*back).substr(0, rp->length())), true) == rp->md5();
        return same ? nullptr : rp;
      }));
      if (checks.size() >= verifiers) RETURN_IF_ERROR(check_one());
    }
    while (!checks.empty()) RETURN_IF_ERROR(check_one());
    // And as the datacenter will: unlock the volume afresh from what is on the drive (its header and key protector)
    // and read the manifest area back.
    ASSIGN_OR_RETURN(crypto::RecoveryPassword password, crypto::RecoveryPassword::Parse(d.prepared.recovery_password));
    absl::StatusOr<std::unique_ptr<EncryptedVolume>> reopened = EncryptedVolume::Unlock(*d.device, password);
    std::string area_back;
    if (reopened.ok()) {
      absl::Status rs = (*reopened)->Read(0, area.size(), &area_back);
      if (!rs.ok()) return Removed(d.name, rs);
    }
    if (!reopened.ok() || area_back != area) {
      return absl::DataLossError(absl::StrCat("verification failed on drive ", d.name, ": ",
                                              reopened.ok() ? "the manifest does not read back"
                                                            : "the volume no longer unlocks from the drive",
                                              " (a counterfeit or failing drive)"));
    }
    proto::DiskPrepRecord vrec;
    vrec.set_step("verified");
    RETURN_IF_ERROR(AppendRecord(*d.journal, vrec));
    d.verified = true;
    return absl::OkStatus();
  };
  for (int round = 0;; ++round) {
    queue.clear();
    for (const Range& r : plan) {
      if (!done.count(Key(r.blob, r.offset))) queue.push_back(&r);
    }
    size_t rejected_before = result.rejected.size();
    if (!queue.empty() && !usable(true).empty()) {
      absl::Time copy_start = absl::Now();
      hashers = CoresPerDrive(usable(true).size());
      absl::Status copied = on_each(usable(true), copy);
      result.copy_time += absl::Now() - copy_start;
      RETURN_IF_ERROR(copied);
      // A drive that filled up gave back the ranges it had taken, perhaps after another drive with room had found
      // the queue empty and stopped: those go to the drives with room in another copy round.
      bool left = std::any_of(plan.begin(), plan.end(), [&](const Range& r) { return !done.count(Key(r.blob, r.offset)); });
      if (left && result.rejected.size() == rejected_before && !usable(true).empty()) continue;
    }
    std::vector<Drive*> to_finish;
    for (Drive* d : usable(false)) {
      if (!d->verified && !d->ranges.empty()) to_finish.push_back(d);
    }
    verifiers = CoresPerDrive(to_finish.size());
    absl::Time verify_start = absl::Now();
    RETURN_IF_ERROR(on_each(to_finish, finalize));
    result.verify_time += absl::Now() - verify_start;
    if (result.rejected.size() == rejected_before) break;  // nothing given back: done
    (void)round;
  }
  for (Drive* d : usable(false)) {
    if (d->ranges.empty()) continue;  // nothing on it: not part of the package
    PreparedDrive prepared = d->prepared;
    for (const auto& r : d->ranges) prepared.bytes += r.length(), ++prepared.ranges;
    result.drives.push_back(prepared);
  }
  uint64_t remaining = 0;
  for (const Range& r : plan) {
    if (!done.count(Key(r.blob, r.offset))) remaining += r.length;
  }
  if (remaining > 0) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the chosen drives are full; ", cli::HumanBytes(remaining), " of staged data remain. Attach another drive "
        "and run the same command with it added (--drive NAME): the prepared drives are kept"));
  }
  if (result.drives.size() > 10) return absl::FailedPreconditionError("an import job takes at most 10 drives");

  // The import job.
  ie::ArmImportJobClient client(o.transport, o.control_plane, o.token);
  ie::JobRef ref{staged.subscriptionid(), o.resource_group, staged.jobname()};
  ASSIGN_OR_RETURN(ie::proto::StorageAccount account,
                   client.GetStorageAccount(staged.subscriptionid(), o.resource_group, staged.storageaccount()));
  absl::StatusOr<ie::proto::Job> existing = client.GetJob(ref);
  if (existing.ok()) {
    // Created by an earlier run of this staging location, or another server's job of the same name: only the
    // first is this job.
    auto tag = existing->tags().find(kItemTag);
    if (tag == existing->tags().end() || tag->second != staged.itemid()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "the import job ", staged.jobname(), " already exists in subscription ", staged.subscriptionid(),
          " and was not prepared from this staging location (another server uses that name); the drives are "
          "prepared but no job was created for them. Stage the backup again with a new job name"));
    }
    result.job = *existing;
  } else {
    ie::proto::Job job;
    job.set_location(account.location());
    (*job.mutable_tags())[kItemTag] = staged.itemid();  // ties the job to this staging location
    auto* p = job.mutable_properties();
    p->set_storageaccountid(account.id());
    p->set_jobtype("Import");
    p->set_backupdrivemanifest(true);
    p->set_diagnosticspath("waimportexport");
    p->set_loglevel("Verbose");  // per-range verbose logs beside the error logs: repair reads them
    for (const PreparedDrive& d : result.drives) {
      auto* ds = p->add_drivelist();
      ds->set_driveid(d.drive_id);
      ds->set_bitlockerkey(d.recovery_password);
      ds->set_manifestfile("\\DriveManifest.xml");
      ds->set_manifesthash(d.manifest_md5);
      ds->set_driveheaderhash(d.header_hash);
    }
    ASSIGN_OR_RETURN(result.job, client.CreateJob(ref, job));
  }
  ASSIGN_OR_RETURN(result.location, client.GetLocation(account.location()));
  return result;
}

}  // namespace vmb::offline
