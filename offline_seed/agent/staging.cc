#include "offline_seed/agent/staging.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/index/digest_set.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"
#include "offline_seed/agent/catalogue_file.h"
#include "offline_seed/agent/chunk_locations.h"
#include "offline_seed/agent/packer.h"
#include "offline_seed/agent/tree.h"
#include "offline_seed/agent/walk_chunker.h"

namespace vmb::offline {
namespace {

// Free bytes at the staging folder, or the nearest folder above it that exists (UINT64_MAX when unknown).
uint64_t FreeBytes(const InitiateOptions& o) {
  if (o.free_space) return o.free_space(o.staging);
  struct statvfs vfs;
  std::string at = o.staging;
  while (::statvfs(at.c_str(), &vfs) != 0 && errno == ENOENT && at.find('/') != std::string::npos) {
    at = at.substr(0, at.rfind('/'));
    if (at.empty()) at = "/";
  }
  if (::statvfs(at.empty() ? "." : at.c_str(), &vfs) == 0) return static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  return UINT64_MAX;
}

// kResourceExhausted when the staging location cannot take `allocated` bytes of source data at worst.
absl::Status CheckFreeSpace(const InitiateOptions& o, uint64_t allocated) {
  const uint64_t free_bytes = FreeBytes(o);
  // Worst case: incompressible data plus overhead. Holes take no space (sparse files are stored by their data).
  uint64_t need = allocated + allocated / 64 + (16u << 20);
  if (free_bytes >= need) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrFormat(
      "the staging location has %.1f GB free; up to %.1f GB may be needed for %.1f GB of source data. Free "
      "space or choose a larger staging location",
      free_bytes / 1e9, need / 1e9, allocated / 1e9));
}

}  // namespace

std::string NewItemId() {
  std::string b = crypto::SecureRandom().Bytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);  // an RFC 4122 version 4 (random) UUID
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string hex = crypto::Base16Encode(b);
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-", hex.substr(16, 4), "-",
                      hex.substr(20));
}

absl::StatusOr<proto::ImportJobRecord> ReadStagedJob(const std::string& staging) {
  absl::StatusOr<std::string> text = file::ReadFile(staging + "/offline-job.json");
  if (!text.ok()) {
    return absl::NotFoundError(absl::StrCat(staging,
                                            " is not a staging location (no offline-job.json); run "
                                            "`seedagent initiate` first, or check the path"));
  }
  proto::ImportJobRecord job;
  RETURN_IF_ERROR(json::Parse(*text, &job, staging + "/offline-job.json"));
  return job;
}

std::string AgentDir() {
  const char* dir = std::getenv("VMBACKUP_AGENT_DIR");
  return dir != nullptr && *dir != '\0' ? dir : "/var/lib/vmbackup";
}

absl::Status RecordWaitingImport(const std::string& agent_dir, const std::string& staging) {
  std::string path = staging;
  if (char* real = ::realpath(staging.c_str(), nullptr)) {
    path = real;
    std::free(real);
  }
  RETURN_IF_ERROR(file::MakeDirs(agent_dir, 0700));
  return file::WriteFileAtomic(agent_dir + "/pending-import", path + "\n", 0600);
}

absl::StatusOr<std::string> WaitingImport(const std::string& agent_dir) {
  absl::StatusOr<std::string> text = file::ReadFile(agent_dir + "/pending-import");
  if (!text.ok()) return absl::NotFoundError(absl::StrCat("no import job is recorded in ", agent_dir));
  return std::string(absl::StripAsciiWhitespace(*text));
}

std::string CataloguePath(const std::string& staging) { return staging + "/catalogue.json"; }

absl::StatusOr<proto::Catalogue> ReadCatalogue(const std::string& staging) {
  return ReadCatalogueFile(CataloguePath(staging));
}

absl::StatusOr<proto::ImportJobRecord> InitiateOfflineBackup(const InitiateOptions& o) {
  if (o.sources.empty()) return absl::InvalidArgumentError("no source folder given");
  if (o.image_size < (1u << 20) || o.image_size % 512) {
    return absl::InvalidArgumentError("image size must be at least 1 MiB and a multiple of 512");
  }
  for (const char* f : {"jobName", "subscriptionId", "storageAccount", "container"}) {
    std::string v = f == std::string("jobName")          ? o.job.jobname()
                    : f == std::string("subscriptionId") ? o.job.subscriptionid()
                    : f == std::string("storageAccount") ? o.job.storageaccount()
                                                         : o.job.container();
    if (v.empty()) return absl::InvalidArgumentError(absl::StrCat("the import job needs ", f));
  }
  // Checks first; nothing is written (not even the staging folder) before they pass.
  if (file::ReadFile(o.staging + "/offline-job.json").ok()) {
    return absl::AlreadyExistsError(absl::StrCat(o.staging,
                                                 " already holds an offline backup; use a new staging "
                                                 "location (or finish and clean up that job)"));
  }
  // A first walk only measures (its entries are not kept) for the free-space check; the second streams.
  ASSIGN_OR_RETURN(SourceTree measured,
                   WalkSources(o.sources, o.staging, [](proto::Entry, const std::string&) { return true; }));
  RETURN_IF_ERROR(CheckFreeSpace(o, measured.allocated));
  RETURN_IF_ERROR(file::MakeDirs(o.staging, 0700));
  std::string images_dir = o.staging + "/images";
  RETURN_IF_ERROR(file::MakeDirs(images_dir, 0700));

  // The catalogue streams to disk as the walk goes: the chunk index as chunks are stored, each entry once its chunks
  // are known. Neither the tree nor the catalogue is ever held whole, as messages or as text.
  ASSIGN_OR_RETURN(std::unique_ptr<CatalogueWriter> catalogue, CatalogueWriter::Create(CataloguePath(o.staging)));
  proto::Catalogue head;
  for (const std::string& r : measured.roots) head.add_roots(r);  // absolute and canonical
  head.set_imagesize(o.image_size);
  RETURN_IF_ERROR(catalogue->Add(head));
  ImageWriter writer(images_dir, o.image_size);
  // The chunks stored so far, on disk (a million small files would otherwise hold ~100 MB of hashes in memory): a
  // temporary file on this computer ($SQLITE_TMPDIR, $TMPDIR, else /var/tmp; about 40 bytes per chunk), not in the
  // staging location, which may be a network share where SQLite's file locks are not to be relied on. SQLite deletes
  // it when it is closed.
  ASSIGN_OR_RETURN(std::unique_ptr<index::DigestSet> stored, index::DigestSet::Open(""));
  uint64_t staged = 0;
  ChunkOptions co;
  co.threads = o.threads;
  co.zstd_level = o.zstd_level;
  co.progress = o.progress;
  ASSIGN_OR_RETURN(WalkedTree tree,
                   WalkAndChunk(
                       o.sources, o.staging, co, measured.bytes, *stored,
                       [&](const std::string& hash, uint32_t length, const std::string& frame) -> absl::Status {
                         ASSIGN_OR_RETURN(proto::Chunk c, writer.Append(frame));
                         c.set_sha256(hash);
                         c.set_length(length);
                         staged += frame.size();
                         return catalogue->AddChunk(std::move(c));
                       },
                       [&](proto::Entry e) { return catalogue->AddEntry(std::move(e)); }));
  RETURN_IF_ERROR(writer.Close());
  proto::Catalogue tail;
  tail.set_images(writer.images());
  RETURN_IF_ERROR(catalogue->Add(tail));
  RETURN_IF_ERROR(catalogue->Finish());
  stored.reset();
  const ChunkStats& stats = tree.stats;

  proto::ImportJobRecord job = o.job;
  if (job.itemid().empty()) job.set_itemid(NewItemId());
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  job.set_sourcehost(host);
  job.set_createdat(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()));
  job.set_state("Staged");
  for (const std::string& r : tree.roots) job.add_sources(r);  // absolute: a backup may run from any folder
  for (proto::Problem& p : tree.problems) *job.add_problems() = std::move(p);
  job.set_sourcebytes(tree.bytes);
  job.set_stagedbytes(staged);
  job.set_chunks(stats.chunks);
  job.set_uniquechunks(stats.new_chunks);
  job.set_images(writer.images());
  // Written last: its presence marks a complete staging location.
  RETURN_IF_ERROR(file::WriteFileAtomic(o.staging + "/offline-job.json", json::ToJson(job, true), 0600));
  return job;
}

namespace {

// The staged images, opened when the catalogue's last record gives their count; closed with it.
struct StagedImages {
  std::vector<int> fds;
  ~StagedImages() {
    for (int fd : fds) ::close(fd);
  }
  absl::Status Open(const std::string& staging, uint32_t count) {
    for (uint32_t i = static_cast<uint32_t>(fds.size()); i < count; ++i) {
      std::string path = absl::StrFormat("%s/images/image-%04u.vhd", staging, i);
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return file::ErrnoStatus(errno, "cannot open", path);
      fds.push_back(fd);
    }
    return absl::OkStatus();
  }
};

// The staged chunks a restore reads, each checked when read. The last few segments are kept: the files packed into
// one are restored one after another (in catalogue order), each needing the whole segment. Thread-safe.
class StagedChunkReader {
 public:
  StagedChunkReader(ChunkLocations& chunks, const std::vector<int>& images) : chunks_(chunks), images_(images) {}

  // The bytes of chunk `h`, checked; kept when `segment` (a packed file's). kDataLoss naming the chunk when it is
  // missing, truncated or damaged.
  absl::StatusOr<std::shared_ptr<const std::string>> Get(const std::string& h, bool segment) {
    if (segment) {
      std::lock_guard<std::mutex> l(mu_);
      for (auto it = recent_.begin(); it != recent_.end(); ++it) {
        if (it->first != h) continue;
        auto hit = *it;  // to the front: the least recently used goes first
        recent_.erase(it);
        recent_.push_front(hit);
        return hit.second;
      }
    }
    ASSIGN_OR_RETURN(std::optional<proto::Chunk> found, chunks_.Find(h));
    if (!found.has_value()) return absl::DataLossError(absl::StrCat("chunk ", h, " is missing from the index"));
    const proto::Chunk& c = *found;
    if (c.image() >= images_.size()) return absl::DataLossError(absl::StrCat("chunk ", h, " names a missing image"));
    std::string frame(c.compressedlength(), '\0');
    if (::pread(images_[c.image()], frame.data(), frame.size(), static_cast<off_t>(c.offset())) !=
        static_cast<ssize_t>(frame.size())) {
      return absl::DataLossError(absl::StrCat("chunk ", h, " is truncated in image ", c.image()));
    }
    ASSIGN_OR_RETURN(std::string data,
                     OpenChunk(frame, c.length(), h, absl::StrCat("in image ", c.image(), " at offset ", c.offset())));
    auto shared = std::make_shared<const std::string>(std::move(data));
    if (!segment) return shared;
    std::lock_guard<std::mutex> l(mu_);
    recent_.emplace_front(h, shared);
    if (recent_.size() > kKeep) recent_.pop_back();
    return shared;
  }

 private:
  static constexpr size_t kKeep = 4;  // one per restore thread, and some (at most 4.25 MiB each)
  ChunkLocations& chunks_;
  const std::vector<int>& images_;
  std::mutex mu_;
  std::deque<std::pair<std::string, std::shared_ptr<const std::string>>> recent_;
};

// Writes one file's stored data from the staged images, checking every chunk.
absl::Status WriteStagedFile(const proto::Entry& e, int out, StagedChunkReader& chunks, const std::string& output) {
  const StoredLayout layout(e);
  ChunkSlicer slicer(e);
  const std::string path = output + "/" + e.path();
  const bool packed = e.chunks_size() == 1 && StoredLength(e) <= kPackMax;  // in a segment (or one small chunk)
  for (const std::string& h : e.chunks()) {
    ASSIGN_OR_RETURN(std::shared_ptr<const std::string> data, chunks.Get(h, packed));
    ASSIGN_OR_RETURN(ChunkSlicer::Slice s, slicer.Next(data->size(), path));
    RETURN_IF_ERROR(layout.Write(out, s.at, absl::string_view(*data).substr(s.skip, s.length), path));
  }
  return slicer.Done(path);
}

}  // namespace

absl::Status RestoreFromStaging(const std::string& staging, const std::string& output, RestoreReport* report) {
  RETURN_IF_ERROR(ReadStagedJob(staging).status());
  // The catalogue is read once, as a stream: the restore checks and spools its entries while its chunks go into a
  // table on disk and its last record opens the images; the files are written after that reading.
  const std::string catalogue = CataloguePath(staging);
  ASSIGN_OR_RETURN(std::unique_ptr<ChunkLocations> chunks, ChunkLocations::Open());
  StagedImages images;
  EntrySource source = [&](const EntryEach& each) {
    std::vector<proto::Chunk> batch;
    RETURN_IF_ERROR(ForEachCatalogueRecord(catalogue, [&](proto::Catalogue& r) -> absl::Status {
      if (r.images() > 0) RETURN_IF_ERROR(images.Open(staging, r.images()));
      for (proto::Chunk& c : *r.mutable_chunks()) batch.push_back(std::move(c));
      if (batch.size() >= 8192) {
        RETURN_IF_ERROR(chunks->Add(batch));
        batch.clear();
      }
      for (proto::Entry& e : *r.mutable_entries()) RETURN_IF_ERROR(each(std::move(e)));
      return absl::OkStatus();
    }));
    return chunks->Add(batch);
  };
  StagedChunkReader reader(*chunks, images.fds);
  return RestoreTree(
      source, output, [&](const proto::Entry& e, int out) { return WriteStagedFile(e, out, reader, output); }, 2,
      report);
}

}  // namespace vmb::offline
