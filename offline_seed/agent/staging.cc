#include "offline_seed/agent/staging.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"

namespace vmb::offline {
namespace {

constexpr size_t kMinChunk = 16 << 10;
constexpr size_t kMaxChunk = 256 << 10;
constexpr uint64_t kBoundaryMask = 0xFFFF000000000000ull;  // 16 bits: one boundary per 64 KiB on average

// Gear table for the rolling hash: fixed, so the same data always chunks the same way (SplitMix64 sequence).
const std::array<uint64_t, 256>& Gear() {
  static const std::array<uint64_t, 256> table = [] {
    std::array<uint64_t, 256> t{};
    uint64_t x = 0x5EEDC0DE5EEDC0DEull;
    for (auto& v : t) {
      x += 0x9E3779B97F4A7C15ull;
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      v = z ^ (z >> 31);
    }
    return t;
  }();
  return table;
}

// Length of the next chunk at the start of `data` (`eof`: no more data follows).
size_t NextChunk(const char* data, size_t size, bool eof) {
  if (size <= kMinChunk) return eof ? size : 0;
  const auto& gear = Gear();
  uint64_t h = 0;
  size_t limit = std::min(size, kMaxChunk);
  for (size_t i = 0; i < limit; ++i) {
    h = (h << 1) + gear[static_cast<unsigned char>(data[i])];
    if (i + 1 >= kMinChunk && (h & kBoundaryMask) == 0) return i + 1;
  }
  if (limit == kMaxChunk) return kMaxChunk;
  return eof ? size : 0;  // need more data to decide
}

std::string Hex(const std::string& raw) { return crypto::Base16Encode(raw); }

struct Walked {
  std::vector<std::pair<std::string, std::string>> files;  // (full path, catalogue path)
  std::vector<proto::Entry> entries;
  uint64_t bytes = 0;
};

absl::Status Walk(const std::string& full, const std::string& rel, Walked* out) {
  struct stat st;
  if (::lstat(full.c_str(), &st) != 0) return file::ErrnoStatus(errno, "cannot read", full);
  proto::Entry e;
  e.set_path(rel);
  e.set_mode(st.st_mode & 07777);
  e.set_mtimens(static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
  if (S_ISLNK(st.st_mode)) {
    std::string target(4096, '\0');
    ssize_t n = ::readlink(full.c_str(), target.data(), target.size());
    if (n < 0) return file::ErrnoStatus(errno, "cannot read link", full);
    target.resize(static_cast<size_t>(n));
    e.set_type("symlink");
    e.set_target(target);
    out->entries.push_back(e);
  } else if (S_ISREG(st.st_mode)) {
    e.set_type("file");
    e.set_size(static_cast<uint64_t>(st.st_size));
    out->bytes += static_cast<uint64_t>(st.st_size);
    out->files.emplace_back(full, rel);
    out->entries.push_back(e);
  } else if (S_ISDIR(st.st_mode)) {
    e.set_type("dir");
    out->entries.push_back(e);
    DIR* d = ::opendir(full.c_str());
    if (!d) return file::ErrnoStatus(errno, "cannot list", full);
    std::vector<std::string> names;
    while (dirent* de = ::readdir(d)) {
      std::string n = de->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) RETURN_IF_ERROR(Walk(full + "/" + n, rel + "/" + n, out));
  }  // sockets, fifos, devices: not backed up
  return absl::OkStatus();
}

class ImageWriter {
 public:
  ImageWriter(std::string dir, uint64_t image_size) : dir_(std::move(dir)), image_size_(image_size) {}
  ~ImageWriter() { (void)Close(); }

  absl::StatusOr<proto::Chunk> Append(const std::string& frame) {
    uint64_t padded = (frame.size() + 511) / 512 * 512;
    if (fd_ < 0 || offset_ + padded > image_size_) {
      RETURN_IF_ERROR(Close());
      std::string path = absl::StrFormat("%s/image-%04u.vhd", dir_, next_image_);
      fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd_ < 0) return file::ErrnoStatus(errno, "cannot create", path);
      image_ = next_image_++;
      offset_ = 0;
    }
    std::string buf = frame;
    buf.resize(padded, '\0');
    for (size_t done = 0; done < buf.size();) {
      ssize_t n = ::pwrite(fd_, buf.data() + done, buf.size() - done, static_cast<off_t>(offset_ + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return file::ErrnoStatus(errno, "cannot write a staging image in", dir_);
      done += static_cast<size_t>(n);
    }
    proto::Chunk c;
    c.set_image(image_);
    c.set_offset(offset_);
    c.set_compressedlength(static_cast<uint32_t>(frame.size()));
    offset_ += padded;
    return c;
  }

  absl::Status Close() {
    if (fd_ < 0) return absl::OkStatus();
    int rc = ::fsync(fd_);
    ::close(fd_);
    fd_ = -1;
    if (rc != 0) return file::ErrnoStatus(errno, "cannot flush a staging image in", dir_);
    return absl::OkStatus();
  }
  uint32_t images() const { return next_image_; }

 private:
  std::string dir_;
  uint64_t image_size_;
  int fd_ = -1;
  uint32_t image_ = 0;
  uint32_t next_image_ = 0;
  uint64_t offset_ = 0;
};

}  // namespace

std::vector<size_t> ChunkBoundaries(const std::string& data) {
  std::vector<size_t> out;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t n = NextChunk(data.data() + pos, data.size() - pos, true);
    pos += n;
    out.push_back(pos);
  }
  return out;
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
  // Checks first; nothing is written before they pass.
  char staging_real[PATH_MAX];
  RETURN_IF_ERROR(file::MakeDirs(o.staging, 0700));
  if (!::realpath(o.staging.c_str(), staging_real)) return file::ErrnoStatus(errno, "cannot resolve", o.staging);
  if (file::ReadFile(o.staging + "/offline-job.json").ok()) {
    return absl::AlreadyExistsError(absl::StrCat(o.staging, " already holds an offline backup; use a new staging "
                                                            "location (or finish and clean up that job)"));
  }
  Walked walked;
  for (size_t i = 0; i < o.sources.size(); ++i) {
    char real[PATH_MAX];
    struct stat st;
    if (::realpath(o.sources[i].c_str(), real) == nullptr || ::stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat("source ", o.sources[i], " is not a folder"));
    }
    if (absl::StartsWith(std::string(staging_real) + "/", std::string(real) + "/")) {
      return absl::InvalidArgumentError(absl::StrCat("the staging location ", o.staging, " is inside the source ",
                                                     o.sources[i], "; choose a staging location outside it"));
    }
    RETURN_IF_ERROR(Walk(real, absl::StrCat(i), &walked));
  }
  struct statvfs vfs;
  if (::statvfs(o.staging.c_str(), &vfs) == 0) {
    uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    uint64_t need = walked.bytes + walked.bytes / 64 + (16u << 20);  // worst case: incompressible plus overhead
    if (free_bytes < need) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "the staging location has %.1f GB free; up to %.1f GB may be needed for %.1f GB of source data. Free "
          "space or choose a larger staging location",
          free_bytes / 1e9, need / 1e9, walked.bytes / 1e9));
    }
  }
  std::string images_dir = o.staging + "/images";
  RETURN_IF_ERROR(file::MakeDirs(images_dir, 0700));

  proto::Catalogue cat;
  for (size_t i = 0; i < o.sources.size(); ++i) cat.add_roots(o.sources[i]);
  cat.set_imagesize(o.image_size);
  std::map<std::string, size_t> by_hash;  // sha256 hex -> index in cat.chunks
  ImageWriter writer(images_dir, o.image_size);
  uint64_t done_bytes = 0, chunk_count = 0, staged = 0;
  std::map<std::string, proto::Entry*> entry_of;
  for (proto::Entry& e : walked.entries) {
    *cat.add_entries() = e;
  }
  for (int i = 0; i < cat.entries_size(); ++i) {
    if (cat.entries(i).type() == "file") entry_of[cat.entries(i).path()] = cat.mutable_entries(i);
  }

  // Pending unique chunks are compressed in parallel batches, then written in order.
  struct Pending {
    proto::Entry* entry;
    std::string data;
    std::string hash;   // filled by the workers
    std::string frame;  // filled by the workers (wasted for the rare duplicate)
  };
  std::vector<Pending> batch;
  auto flush_batch = [&]() -> absl::Status {
    std::atomic<size_t> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < std::max(1, o.threads); ++t) {
      pool.emplace_back([&] {
        for (size_t k = next.fetch_add(1); k < batch.size(); k = next.fetch_add(1)) {
          batch[k].hash = Hex(crypto::Sha256(batch[k].data));
          std::string frame(ZSTD_compressBound(batch[k].data.size()), '\0');
          size_t n = ZSTD_compress(frame.data(), frame.size(), batch[k].data.data(), batch[k].data.size(), o.zstd_level);
          frame.resize(ZSTD_isError(n) ? 0 : n);
          batch[k].frame = std::move(frame);
        }
      });
    }
    for (auto& t : pool) t.join();
    for (Pending& p : batch) {
      p.entry->add_chunks(p.hash);  // in file order
      ++chunk_count;
      if (by_hash.count(p.hash)) continue;  // a duplicate: stored once
      by_hash[p.hash] = by_hash.size();
      if (p.frame.empty()) return absl::InternalError("zstd compression failed");
      ASSIGN_OR_RETURN(proto::Chunk c, writer.Append(p.frame));
      c.set_sha256(p.hash);
      c.set_length(static_cast<uint32_t>(p.data.size()));
      staged += (p.frame.size() + 511) / 512 * 512;
      *cat.add_chunks() = c;
    }
    batch.clear();
    return absl::OkStatus();
  };

  for (const auto& [full, rel] : walked.files) {
    proto::Entry* entry = entry_of[rel];
    int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return file::ErrnoStatus(errno, "cannot open", full);
    std::string buf;
    size_t pos = 0;  // consumed prefix of buf (compacted on refill, never erased chunk by chunk)
    bool eof = false;
    std::string more(8u << 20, '\0');
    while (!eof || pos < buf.size()) {
      if (!eof && buf.size() - pos < 2 * kMaxChunk) {
        buf.erase(0, pos);
        pos = 0;
        ssize_t n = ::read(fd, more.data(), more.size());
        if (n < 0) {
          int err = errno;
          ::close(fd);
          return file::ErrnoStatus(err, "cannot read", full);
        }
        if (n == 0) eof = true;
        buf.append(more.data(), static_cast<size_t>(n));
        continue;
      }
      size_t len = NextChunk(buf.data() + pos, buf.size() - pos, eof);
      if (len == 0) continue;
      batch.push_back({entry, buf.substr(pos, len), "", ""});
      pos += len;
      done_bytes += len;
      if (batch.size() >= 128) {
        absl::Status s = flush_batch();
        if (!s.ok()) {
          ::close(fd);
          return s;
        }
      }
      if (o.progress) o.progress(done_bytes, walked.bytes);
    }
    ::close(fd);
  }
  RETURN_IF_ERROR(flush_batch());
  RETURN_IF_ERROR(writer.Close());
  cat.set_images(writer.images());
  RETURN_IF_ERROR(file::WriteFileAtomic(o.staging + "/catalogue.json", json::ToJson(cat), 0600));

  proto::ImportJobRecord job = o.job;
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  job.set_sourcehost(host);
  job.set_createdat(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()));
  job.set_state("Staged");
  for (const std::string& s : o.sources) job.add_sources(s);
  job.set_sourcebytes(walked.bytes);
  job.set_stagedbytes(staged);
  job.set_chunks(chunk_count);
  job.set_uniquechunks(by_hash.size());
  // Written last: its presence marks a complete staging location.
  RETURN_IF_ERROR(file::WriteFileAtomic(o.staging + "/offline-job.json", json::ToJson(job, true), 0600));
  return job;
}

absl::Status RestoreFromStaging(const std::string& staging, const std::string& output) {
  RETURN_IF_ERROR(ReadStagedJob(staging).status());
  ASSIGN_OR_RETURN(std::string text, file::ReadFile(staging + "/catalogue.json"));
  proto::Catalogue cat;
  RETURN_IF_ERROR(json::Parse(text, &cat, "catalogue.json"));
  std::map<std::string, const proto::Chunk*> chunks;
  for (const auto& c : cat.chunks()) chunks[c.sha256()] = &c;
  std::map<uint32_t, int> images;
  auto image_fd = [&](uint32_t i) -> absl::StatusOr<int> {
    auto it = images.find(i);
    if (it != images.end()) return it->second;
    std::string path = absl::StrFormat("%s/images/image-%04u.vhd", staging, i);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return file::ErrnoStatus(errno, "cannot open", path);
    images[i] = fd;
    return fd;
  };
  RETURN_IF_ERROR(file::MakeDirs(output));
  absl::Status result = absl::OkStatus();
  for (const proto::Entry& e : cat.entries()) {
    std::string path = output + "/" + e.path();
    if (e.type() == "dir") {
      if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) { result = file::ErrnoStatus(errno, "cannot create", path); break; }
    } else if (e.type() == "symlink") {
      if (::symlink(e.target().c_str(), path.c_str()) != 0) { result = file::ErrnoStatus(errno, "cannot create link", path); break; }
    } else {
      std::string content;
      for (const std::string& h : e.chunks()) {
        auto it = chunks.find(h);
        if (it == chunks.end()) { result = absl::DataLossError(absl::StrCat("chunk ", h, " is missing from the index")); break; }
        const proto::Chunk& c = *it->second;
        absl::StatusOr<int> fd = image_fd(c.image());
        if (!fd.ok()) { result = fd.status(); break; }
        std::string frame(c.compressedlength(), '\0');
        if (::pread(*fd, frame.data(), frame.size(), static_cast<off_t>(c.offset())) != static_cast<ssize_t>(frame.size())) {
          result = absl::DataLossError(absl::StrCat("chunk ", h, " is truncated in image ", c.image()));
          break;
        }
        std::string data(c.length(), '\0');
        size_t n = ZSTD_decompress(data.data(), data.size(), frame.data(), frame.size());
        if (ZSTD_isError(n) || n != c.length() || Hex(crypto::Sha256(data)) != h) {
          result = absl::DataLossError(absl::StrCat("chunk ", h, " in image ", c.image(), " at offset ", c.offset(),
                                                    " is damaged (decompression or SHA-256 check failed)"));
          break;
        }
        content += data;
      }
      if (!result.ok()) break;
      result = file::WriteFileAtomic(path, content, e.mode());
      if (!result.ok()) break;
    }
  }
  for (auto& [i, fd] : images) ::close(fd);
  RETURN_IF_ERROR(result);
  // Modes and times last (deepest first), so creating children does not disturb their parents.
  for (int i = cat.entries_size() - 1; i >= 0; --i) {
    const proto::Entry& e = cat.entries(i);
    std::string path = output + "/" + e.path();
    timespec times[2];
    times[0].tv_sec = times[1].tv_sec = e.mtimens() / 1000000000;
    times[0].tv_nsec = times[1].tv_nsec = e.mtimens() % 1000000000;
    if (e.type() != "symlink") ::chmod(path.c_str(), e.mode());
    ::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }
  return absl::OkStatus();
}

}  // namespace vmb::offline
