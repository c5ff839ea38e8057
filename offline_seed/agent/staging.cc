#include "offline_seed/agent/staging.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"
#include "offline_seed/agent/packer.h"
#include "offline_seed/agent/tree.h"

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
    return absl::NotFoundError(absl::StrCat(staging, " is not a staging location (no offline-job.json); run "
                                                     "`seedagent initiate` first, or check the path"));
  }
  proto::ImportJobRecord job;
  RETURN_IF_ERROR(json::Parse(*text, &job, staging + "/offline-job.json"));
  return job;
}

absl::StatusOr<proto::ImportJobRecord> InitiateOfflineBackup(const InitiateOptions& o) {
  if (o.sources.empty()) return absl::InvalidArgumentError("no source folder given");
  if (o.image_size < (1u << 20) || o.image_size % 512) {
    return absl::InvalidArgumentError("image size must be at least 1 MiB and a multiple of 512");
  }
  for (const char* f : {"jobName", "subscriptionId", "storageAccount", "container"}) {
    std::string v = f == std::string("jobName") ? o.job.jobname() : f == std::string("subscriptionId") ? o.job.subscriptionid()
                    : f == std::string("storageAccount") ? o.job.storageaccount() : o.job.container();
    if (v.empty()) return absl::InvalidArgumentError(absl::StrCat("the import job needs ", f));
  }
  // Checks first; nothing is written (not even the staging folder) before they pass.
  if (file::ReadFile(o.staging + "/offline-job.json").ok()) {
    return absl::AlreadyExistsError(absl::StrCat(o.staging, " already holds an offline backup; use a new staging "
                                                            "location (or finish and clean up that job)"));
  }
  ASSIGN_OR_RETURN(SourceTree tree, WalkSources(o.sources, o.staging));
  const uint64_t free_bytes = FreeBytes(o);
  // Worst case: incompressible data plus overhead. Holes take no space (sparse files are stored by their data).
  uint64_t need = tree.allocated + tree.allocated / 64 + (16u << 20);
  if (free_bytes < need) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "the staging location has %.1f GB free; up to %.1f GB may be needed for %.1f GB of source data. Free "
        "space or choose a larger staging location",
        free_bytes / 1e9, need / 1e9, tree.allocated / 1e9));
  }
  RETURN_IF_ERROR(file::MakeDirs(o.staging, 0700));
  std::string images_dir = o.staging + "/images";
  RETURN_IF_ERROR(file::MakeDirs(images_dir, 0700));

  proto::Catalogue cat;
  cat.set_imagesize(o.image_size);
  ImageWriter writer(images_dir, o.image_size);
  uint64_t staged = 0;
  ChunkOptions co;
  co.threads = o.threads;
  co.zstd_level = o.zstd_level;
  co.progress = o.progress;
  ASSIGN_OR_RETURN(ChunkStats stats, ChunkTree(tree, co, [&](const std::string& hash, uint32_t length,
                                                             const std::string& frame) -> absl::Status {
    ASSIGN_OR_RETURN(proto::Chunk c, writer.Append(frame));
    c.set_sha256(hash);
    c.set_length(length);
    staged += PaddedSize(frame.size());
    *cat.add_chunks() = c;
    return absl::OkStatus();
  }));
  RETURN_IF_ERROR(writer.Close());
  for (const std::string& r : tree.roots) cat.add_roots(r);  // absolute and canonical
  for (proto::Entry& e : tree.entries) *cat.add_entries() = std::move(e);
  cat.set_images(writer.images());
  // Compact (fields at their defaults left out): printing every default makes protobuf build a node per field of
  // every entry first, most of initiate's peak memory on trees of many small files.
  RETURN_IF_ERROR(file::WriteFileAtomic(o.staging + "/catalogue.json", json::ToJsonCompact(cat), 0600));

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
  // Written last: its presence marks a complete staging location.
  RETURN_IF_ERROR(file::WriteFileAtomic(o.staging + "/offline-job.json", json::ToJson(job, true), 0600));
  return job;
}

absl::Status RestoreFromStaging(const std::string& staging, const std::string& output, RestoreReport* report) {
  RETURN_IF_ERROR(ReadStagedJob(staging).status());
  ASSIGN_OR_RETURN(std::string text, file::ReadFile(staging + "/catalogue.json"));
  proto::Catalogue cat;
  RETURN_IF_ERROR(json::Parse(text, &cat, "catalogue.json"));
  std::map<std::string, const proto::Chunk*> chunks;
  for (const auto& c : cat.chunks()) chunks[c.sha256()] = &c;
  std::vector<int> images(cat.images(), -1);
  for (uint32_t i = 0; i < cat.images(); ++i) {
    std::string path = absl::StrFormat("%s/images/image-%04u.vhd", staging, i);
    images[i] = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (images[i] < 0) {
      absl::Status s = file::ErrnoStatus(errno, "cannot open", path);
      for (int fd : images) if (fd >= 0) ::close(fd);
      return s;
    }
  }
  std::vector<proto::Entry> entries(cat.entries().begin(), cat.entries().end());
  absl::Status result = RestoreTree(entries, output, [&](const proto::Entry& e, int out) -> absl::Status {
    const StoredLayout layout(e);
    uint64_t at = 0;  // in the file's stored data
    for (const std::string& h : e.chunks()) {
      auto it = chunks.find(h);
      if (it == chunks.end()) return absl::DataLossError(absl::StrCat("chunk ", h, " is missing from the index"));
      const proto::Chunk& c = *it->second;
      if (c.image() >= images.size()) return absl::DataLossError(absl::StrCat("chunk ", h, " names a missing image"));
      std::string frame(c.compressedlength(), '\0');
      if (::pread(images[c.image()], frame.data(), frame.size(), static_cast<off_t>(c.offset())) !=
          static_cast<ssize_t>(frame.size())) {
        return absl::DataLossError(absl::StrCat("chunk ", h, " is truncated in image ", c.image()));
      }
      ASSIGN_OR_RETURN(std::string data, OpenChunk(frame, c.length(), h, absl::StrCat("in image ", c.image(), " at offset ", c.offset())));
      RETURN_IF_ERROR(layout.Write(out, at, data, output + "/" + e.path()));
      at += data.size();
    }
    return absl::OkStatus();
  }, 2, report);
  for (int fd : images) ::close(fd);
  return result;
}

}  // namespace vmb::offline
