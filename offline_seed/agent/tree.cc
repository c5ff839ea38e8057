#include "offline_seed/agent/tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <cerrno>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "absl/strings/match.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
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

// Length of the next chunk at the start of `data` (`eof`: no more data follows); 0 when more data is needed.
size_t NextChunk(const char* data, size_t size, bool eof) {
  if (size <= kMinChunk) return eof ? size : 0;
  const auto& gear = Gear();
  uint64_t h = 0;
  size_t limit = std::min(size, kMaxChunk);
  // The hash shifts one bit per byte, so it depends on the last 64 bytes only: hashing can start 64 bytes before
  // the first allowed boundary and finds exactly the same boundaries (FastCDC's "skip the minimum").
  for (size_t i = kMinChunk - 64; i < limit; ++i) {
    h = (h << 1) + gear[static_cast<unsigned char>(data[i])];
    if (i + 1 >= kMinChunk && (h & kBoundaryMask) == 0) return i + 1;
  }
  if (limit == kMaxChunk) return kMaxChunk;
  return eof ? size : 0;
}

absl::Status Walk(const std::string& full, const std::string& rel, SourceTree* out) {
  struct stat st;
  if (::lstat(full.c_str(), &st) != 0) return file::ErrnoStatus(errno, "cannot read", full);
  proto::Entry e;
  e.set_path(rel);
  e.set_mode(st.st_mode & 07777);
  e.set_mtimens(static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
  e.set_ctimens(static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec);
  e.set_inode(static_cast<uint64_t>(st.st_ino));
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
    out->files.emplace_back(full, out->entries.size());
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

absl::Status WriteAll(int fd, const char* data, size_t size, const std::string& path) {
  for (size_t done = 0; done < size;) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return file::ErrnoStatus(errno, "cannot write", path);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<size_t> ChunkBoundaries(const std::string& data) {
  std::vector<size_t> out;
  size_t pos = 0;
  while (pos < data.size()) {
    pos += NextChunk(data.data() + pos, data.size() - pos, true);
    out.push_back(pos);
  }
  return out;
}

absl::StatusOr<SourceTree> WalkSources(const std::vector<std::string>& sources, const std::string& exclude) {
  if (sources.empty()) return absl::InvalidArgumentError("no source folder given");
  std::string exclude_real;
  char buf[PATH_MAX];
  if (!exclude.empty() && ::realpath(exclude.c_str(), buf)) exclude_real = buf;
  SourceTree tree;
  for (size_t i = 0; i < sources.size(); ++i) {
    struct stat st;
    if (::realpath(sources[i].c_str(), buf) == nullptr || ::stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat("source ", sources[i], " is not a folder"));
    }
    std::string real = buf;
    if (!exclude_real.empty() && absl::StartsWith(exclude_real + "/", real + "/")) {
      return absl::InvalidArgumentError(absl::StrCat("the staging location ", exclude, " is inside the source ",
                                                     sources[i], "; choose a staging location outside it"));
    }
    tree.roots.push_back(sources[i]);
    RETURN_IF_ERROR(Walk(real, absl::StrCat(i), &tree));
  }
  return tree;
}

absl::StatusOr<ChunkStats> ChunkTree(SourceTree& tree, const ChunkOptions& o, const ChunkSink& sink) {
  ChunkStats stats;
  std::unordered_set<std::string> seen;
  uint64_t done_bytes = 0;
  // Chunks are hashed and (unless known) compressed in parallel batches, then handed on in order.
  struct Pending {
    size_t entry;
    std::string data;
    std::string hash;   // filled by the workers
    std::string frame;  // filled by the workers unless the chunk is known
    bool known = false;
  };
  // Double-buffered: while the workers hash and compress one batch, this thread cuts the next one; results are
  // handed on in order when the next batch is ready to go.
  std::vector<Pending> batch, inflight;
  std::atomic<size_t> next{0};  // declared before the joiner: the workers use it until they are joined
  std::vector<std::thread> workers;
  struct Joiner {
    std::vector<std::thread>* w;
    ~Joiner() {
      for (auto& t : *w) {
        if (t.joinable()) t.join();
      }
    }
  } joiner{&workers};
  auto finish_inflight = [&]() -> absl::Status {
    for (auto& t : workers) t.join();
    workers.clear();
    for (Pending& p : inflight) {
      tree.entries[p.entry].add_chunks(p.hash);
      ++stats.chunks;
      if (p.known || !seen.insert(p.hash).second) continue;
      if (p.frame.empty()) return absl::InternalError("zstd compression failed");
      RETURN_IF_ERROR(sink(p.hash, static_cast<uint32_t>(p.data.size()), p.frame));
      ++stats.new_chunks;
      stats.new_bytes += p.data.size();
    }
    inflight.clear();
    return absl::OkStatus();
  };
  auto flush_batch = [&]() -> absl::Status {
    RETURN_IF_ERROR(finish_inflight());
    inflight.swap(batch);
    next = 0;
    for (int t = 0; t < std::max(1, o.threads); ++t) {
      workers.emplace_back([&] {
        for (size_t k = next.fetch_add(1); k < inflight.size(); k = next.fetch_add(1)) {
          Pending& p = inflight[k];
          p.hash = crypto::Base16Encode(crypto::Sha256(p.data));
          if (o.known && o.known(p.hash)) {
            p.known = true;
            continue;
          }
          // One compression context and output buffer per thread, reused (ZSTD_compress would set up a new context,
          // tables and all, for every chunk).
          thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
          thread_local std::string scratch;
          size_t bound = ZSTD_compressBound(p.data.size());
          if (scratch.size() < bound) scratch.resize(bound);
          size_t n = ZSTD_compressCCtx(cctx.get(), scratch.data(), bound, p.data.data(), p.data.size(), o.zstd_level);
          if (!ZSTD_isError(n)) p.frame.assign(scratch.data(), n);
        }
      });
    }
    return absl::OkStatus();
  };

  std::string more(8u << 20, '\0');
  for (const auto& [full, index] : tree.files) {
    tree.entries[index].clear_chunks();
    if (o.unchanged) {
      if (const proto::Entry* prev = o.unchanged(tree.entries[index])) {
        *tree.entries[index].mutable_chunks() = prev->chunks();
        stats.chunks += prev->chunks_size();
        ++stats.files_unchanged;
        done_bytes += tree.entries[index].size();
        if (o.progress) o.progress(done_bytes, tree.bytes);
        continue;
      }
    }
    int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return file::ErrnoStatus(errno, "cannot open", full);
    std::string buf;
    size_t pos = 0;  // consumed prefix of buf (compacted on refill, never erased chunk by chunk)
    bool eof = false;
    absl::Status status;
    while (status.ok() && (!eof || pos < buf.size())) {
      if (!eof && buf.size() - pos < 2 * kMaxChunk) {
        buf.erase(0, pos);
        pos = 0;
        ssize_t n = ::read(fd, more.data(), more.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          status = file::ErrnoStatus(errno, "cannot read", full);
          break;
        }
        if (n == 0) eof = true;
        buf.append(more.data(), static_cast<size_t>(n));
        continue;
      }
      size_t len = NextChunk(buf.data() + pos, buf.size() - pos, eof);
      if (len == 0) continue;
      batch.push_back({index, buf.substr(pos, len), "", "", false});
      pos += len;
      done_bytes += len;
      if (batch.size() >= 128) status = flush_batch();
      if (o.progress) o.progress(done_bytes, tree.bytes);
    }
    ::close(fd);
    RETURN_IF_ERROR(status);
    // A file that changed size while it was read is still consistent chunk by chunk; record what was read.
  }
  RETURN_IF_ERROR(flush_batch());
  RETURN_IF_ERROR(finish_inflight());
  if (o.progress) o.progress(tree.bytes, tree.bytes);
  return stats;
}

absl::StatusOr<std::string> OpenChunk(const std::string& frame, uint32_t length, const std::string& sha256_hex,
                                      const std::string& where) {
  std::string data(length, '\0');
  size_t n = ZSTD_decompress(data.data(), data.size(), frame.data(), frame.size());
  if (ZSTD_isError(n) || n != length || crypto::Base16Encode(crypto::Sha256(data)) != sha256_hex) {
    return absl::DataLossError(
        absl::StrCat("chunk ", sha256_hex, " ", where, " is damaged (decompression or SHA-256 check failed)"));
  }
  return data;
}

absl::Status ValidateEntries(const std::vector<proto::Entry>& entries) {
  std::map<absl::string_view, absl::string_view> types;  // path -> type
  for (const proto::Entry& e : entries) {
    auto bad = [&](absl::string_view why) {
      return absl::DataLossError(absl::StrCat("the catalogue is damaged or was tampered with: entry \"",
                                              absl::CHexEscape(e.path()), "\" ", why,
                                              "; nothing was restored (restore another recovery point)"));
    };
    if (e.type() != "file" && e.type() != "dir" && e.type() != "symlink") {
      return bad(absl::StrCat("has the unknown type \"", absl::CHexEscape(e.type()), "\""));
    }
    if (e.path().empty() || e.path().front() == '/') return bad("is not a relative path");
    if (e.path().find('\0') != std::string::npos || e.target().find('\0') != std::string::npos) {
      return bad("holds a NUL byte");
    }
    absl::string_view path = e.path();
    for (size_t start = 0;;) {
      size_t slash = path.find('/', start);
      absl::string_view part = path.substr(start, slash == absl::string_view::npos ? absl::string_view::npos : slash - start);
      if (part.empty() || part == "." || part == "..") return bad("has an empty, \".\" or \"..\" component");
      if (slash == absl::string_view::npos) break;
      auto parent = types.find(path.substr(0, slash));
      if (parent != types.end() && parent->second != "dir") return bad("lies beneath a symlink or a file");
      start = slash + 1;
    }
    if (!types.emplace(path, e.type()).second) return bad("is listed twice");
  }
  // A parent listed after its child (as a file or symlink) is caught here.
  for (const auto& [path, type] : types) {
    for (size_t slash = path.find('/'); slash != absl::string_view::npos; slash = path.find('/', slash + 1)) {
      auto parent = types.find(path.substr(0, slash));
      if (parent != types.end() && parent->second != "dir") {
        return absl::DataLossError(absl::StrCat("the catalogue is damaged or was tampered with: entry \"",
                                                absl::CHexEscape(path), "\" lies beneath a symlink or a file; nothing "
                                                "was restored (restore another recovery point)"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status RestoreTree(const std::vector<proto::Entry>& entries, const std::string& output, const ContentWriter& write,
                         int threads) {
  RETURN_IF_ERROR(ValidateEntries(entries));
  RETURN_IF_ERROR(file::MakeDirs(output, 0700));
  std::vector<const proto::Entry*> files, links;
  for (const proto::Entry& e : entries) {
    std::string path = output + "/" + e.path();
    if (e.type() == "dir") {
      if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return file::ErrnoStatus(errno, "cannot create", path);
    } else if (e.type() == "symlink") {
      links.push_back(&e);
    } else {
      files.push_back(&e);
    }
  }
  std::atomic<size_t> next{0};
  std::mutex mu;
  absl::Status result;
  auto worker = [&] {
    for (size_t k = next.fetch_add(1); k < files.size(); k = next.fetch_add(1)) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!result.ok()) return;
      }
      const proto::Entry& e = *files[k];
      std::string path = output + "/" + e.path();
      absl::Status s;
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0) {
        s = file::ErrnoStatus(errno, "cannot create", path);
      } else {
        s = write(e, fd);
        ::close(fd);
      }
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (result.ok()) result = s;
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  RETURN_IF_ERROR(result);
  for (const proto::Entry* e : links) {
    std::string path = output + "/" + e->path();
    if (::symlink(e->target().c_str(), path.c_str()) != 0) return file::ErrnoStatus(errno, "cannot create link", path);
  }
  // One flush of the whole file system at the end instead of one per file (a restore cut short is simply run
  // again into an empty folder).
  int dir = ::open(output.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return file::ErrnoStatus(errno, "cannot open", output);
  int synced = ::syncfs(dir);
  int sync_errno = errno;
  ::close(dir);
  if (synced != 0) return file::ErrnoStatus(sync_errno, "cannot flush the restored files in", output);
  // Modes and times last (deepest first), so creating children does not disturb their parents.
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    std::string path = output + "/" + it->path();
    timespec times[2];
    times[0].tv_sec = times[1].tv_sec = it->mtimens() / 1000000000;
    times[0].tv_nsec = times[1].tv_nsec = it->mtimens() % 1000000000;
    if (it->type() != "symlink" && ::chmod(path.c_str(), it->mode()) != 0) {
      return file::ErrnoStatus(errno, "cannot set the mode of", path);
    }
    ::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }
  return absl::OkStatus();
}

absl::Status WriteToFile(int fd, const std::string& data, const std::string& path) {
  return WriteAll(fd, data.data(), data.size(), path);
}

}  // namespace vmb::offline
