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
#include <chrono>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <set>
#include <unordered_set>

#include "absl/strings/match.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/concurrent/bounded_pool.h"
#include "common/concurrent/buffer_pool.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"

namespace vmb::offline {
namespace {

constexpr size_t kMinChunk = 16 << 10;
constexpr size_t kMaxChunk = 256 << 10;
constexpr uint64_t kBoundaryMask = 0xFFFF000000000000ull;  // 16 bits: one boundary per 64 KiB on average
constexpr size_t kWindow = 2 << 20;  // read and scanned at a time
constexpr size_t kWarmup = 64;       // bytes the rolling hash depends on

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

// Chunk ends the gear hash allows among the n bytes at p: every k + 1 where the hash of the 64 bytes ending at p[k]
// has its top 16 bits clear, recorded as base + k + 1. The hash shifts one bit per byte, so it depends on the last 64
// bytes only: given the (up to) 64 bytes before them (`warmup`, at p - warmup), the bytes of a stream are scanned in
// pieces, on any thread, and find exactly the ends one pass over the whole stream would. An end with fewer than 64
// bytes of the stream before it carries a partial hash; no chunk ends there (a chunk is at least 16 KiB).
void ScanCandidates(const unsigned char* p, size_t warmup, size_t n, uint64_t base, std::vector<uint64_t>* out) {
  const uint64_t* gear = Gear().data();
  uint64_t h = 0;
  for (const unsigned char* w = p - warmup; w < p; ++w) h = (h << 1) + gear[*w];
  // (h & kBoundaryMask) == 0 is h < 2^48. Four bytes a step with one branch: this loop is a quarter of the initial
  // backup's CPU time.
  constexpr uint64_t kLimit = uint64_t{1} << 48;
  static_assert(kBoundaryMask == ~(kLimit - 1), "the mask is the top 16 bits");
  const unsigned char* q = p;
  for (const unsigned char* end = p + (n & ~size_t{3}); q < end; q += 4) {
    uint64_t h0 = (h << 1) + gear[q[0]];
    uint64_t h1 = (h0 << 1) + gear[q[1]];
    uint64_t h2 = (h1 << 1) + gear[q[2]];
    h = (h2 << 1) + gear[q[3]];
    if (__builtin_expect((h0 < kLimit) | (h1 < kLimit) | (h2 < kLimit) | (h < kLimit), 0)) {
      uint64_t at = base + static_cast<uint64_t>(q - p);
      if (h0 < kLimit) out->push_back(at + 1);
      if (h1 < kLimit) out->push_back(at + 2);
      if (h2 < kLimit) out->push_back(at + 3);
      if (h < kLimit) out->push_back(at + 4);
    }
  }
  for (const unsigned char* end = p + n; q < end; ++q) {
    h = (h << 1) + gear[*q];
    if (h < kLimit) out->push_back(base + static_cast<uint64_t>(q - p) + 1);
  }
}

// Picks chunk ends from the candidates, in stream order: the first candidate at least kMinChunk past the chunk's
// start, or kMaxChunk past it when none comes before that; at the end of the stream the rest is one last chunk.
class BoundaryPicker {
 public:
  // `candidates`: every candidate end in (the previous call's `end`, `end`], ascending.
  void Feed(const std::vector<uint64_t>& candidates, uint64_t end, bool eof, std::vector<uint64_t>* ends) {
    for (uint64_t c : candidates) {
      while (c > start_ + kMaxChunk) Cut(start_ + kMaxChunk, ends);
      if (c >= start_ + kMinChunk) Cut(c, ends);
    }
    while (end >= start_ + kMaxChunk) Cut(start_ + kMaxChunk, ends);
    if (eof && end > start_) Cut(end, ends);
  }

 private:
  void Cut(uint64_t at, std::vector<uint64_t>* ends) {
    ends->push_back(at);
    start_ = at;
  }
  uint64_t start_ = 0;
};

// The walk's state: the tree it fills, owner names, and the first name of each file with several names.
struct Walker {
  SourceTree* out;
  OwnerNames names;
  std::map<std::pair<dev_t, ino_t>, std::string> first_names;

  void Note(const std::string& path, const char* kind, const std::string& detail) {
    proto::Problem* p = &out->problems.emplace_back();
    p->set_path(DisplayPath(path));
    p->set_kind(kind);
    p->set_detail(detail);
  }

  // One entry and, for a folder, everything beneath it. Only a failure to write the tree is an error; entries that
  // cannot be read or that vanished are noted.
  void Walk(const std::string& full, const std::string& rel) {
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0) {
      if (errno == ENOENT) return Note(full, "vanished", "deleted before it was read");
      return Note(full, "unreadable", std::strerror(errno));
    }
    proto::Entry e;
    e.set_path(rel);
    SetStatFields(st, &names, &e);
    if (absl::Status x = ReadXattrs(full, &e); !x.ok()) Note(full, "unreadable", std::string(x.message()));
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(std::max<off_t>(st.st_size, PATH_MAX)) + 1, '\0');
      ssize_t n = ::readlink(full.c_str(), target.data(), target.size());
      if (n < 0) return Note(full, errno == ENOENT ? "vanished" : "unreadable", std::strerror(errno));
      if (static_cast<size_t>(n) == target.size()) return Note(full, "changed", "the link changed while it was read");
      target.resize(static_cast<size_t>(n));
      e.set_type("symlink");
      e.set_target(target);
      out->entries.push_back(std::move(e));
    } else if (S_ISREG(st.st_mode)) {
      if (st.st_nlink > 1) {
        auto [it, first] = first_names.emplace(std::make_pair(st.st_dev, st.st_ino), rel);
        if (!first) {  // another name of a file already in the tree
          e.set_type("hardlink");
          e.set_target(it->second);
          e.clear_xattrs();
          out->entries.push_back(std::move(e));
          return;
        }
      }
      e.set_type("file");
      e.set_size(static_cast<uint64_t>(st.st_size));
      out->bytes += static_cast<uint64_t>(st.st_size);
      out->allocated += std::min(static_cast<uint64_t>(st.st_size), static_cast<uint64_t>(st.st_blocks) * 512);
      out->files.emplace_back(full, out->entries.size());
      out->entries.push_back(std::move(e));
    } else if (S_ISDIR(st.st_mode)) {
      e.set_type("dir");
      out->entries.push_back(std::move(e));
      DIR* d = ::opendir(full.c_str());
      if (!d) {
        return Note(full, errno == ENOENT ? "vanished" : "unreadable",
                    absl::StrCat("cannot list the folder: ", std::strerror(errno), " (it is restored empty)"));
      }
      std::vector<std::string> children;
      errno = 0;
      while (dirent* de = ::readdir(d)) {
        std::string n = de->d_name;
        if (n != "." && n != "..") children.push_back(n);
      }
      if (errno != 0) Note(full, "unreadable", absl::StrCat("cannot list all of the folder: ", std::strerror(errno)));
      ::closedir(d);
      std::sort(children.begin(), children.end());
      for (const std::string& n : children) Walk(full + "/" + n, rel + "/" + n);
    } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      e.set_type(S_ISFIFO(st.st_mode) ? "fifo" : S_ISCHR(st.st_mode) ? "chardev" : "blockdev");
      if (!S_ISFIFO(st.st_mode)) e.set_rdev(static_cast<uint64_t>(st.st_rdev));
      out->entries.push_back(std::move(e));
    } else {
      Note(full, "skipped", S_ISSOCK(st.st_mode) ? "a socket (sockets are not backed up)" : "an unknown kind of entry");
    }
  }
};

// Leaves the files marked in `dropped` (and their other names) out of the tree.
void RemoveDropped(const std::vector<bool>& dropped, SourceTree* tree) {
  if (std::find(dropped.begin(), dropped.end(), true) == dropped.end()) return;
  std::unordered_set<std::string> gone;
  std::vector<std::string> full(tree->entries.size());
  for (const auto& [path, index] : tree->files) full[index] = path;
  std::vector<proto::Entry> kept;
  tree->files.clear();
  for (size_t i = 0; i < tree->entries.size(); ++i) {
    proto::Entry& e = tree->entries[i];
    if (i < dropped.size() && dropped[i]) {
      tree->bytes -= e.size();
      gone.insert(e.path());
      continue;
    }
    if (e.type() == "hardlink" && gone.count(e.target())) continue;
    if (e.type() == "file") tree->files.emplace_back(full[i], kept.size());
    kept.push_back(std::move(e));
  }
  tree->entries = std::move(kept);
}

}  // namespace

std::vector<size_t> ChunkBoundaries(const std::string& data, size_t window) {
  BoundaryPicker picker;
  std::vector<uint64_t> ends, candidates;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  for (size_t at = 0;; at += window) {
    size_t n = std::min(window, data.size() - at), warmup = std::min(at, kWarmup);
    candidates.clear();
    ScanCandidates(p + at, warmup, n, at, &candidates);
    bool eof = at + n == data.size();
    picker.Feed(candidates, at + n, eof, &ends);
    if (eof) break;
  }
  return std::vector<size_t>(ends.begin(), ends.end());
}

bool Incomplete(const std::vector<proto::Problem>& problems) {
  return std::any_of(problems.begin(), problems.end(), [](const proto::Problem& p) { return p.kind() == "unreadable"; });
}

std::string DisplayPath(absl::string_view path) {
  std::string out;
  for (size_t i = 0; i < path.size();) {
    unsigned char c = static_cast<unsigned char>(path[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool valid = n > 0 && i + n <= path.size() && c != 0;
    for (size_t k = 1; valid && k < n; ++k) valid = (static_cast<unsigned char>(path[i + k]) >> 6) == 2;
    if (valid && n == 1 && c < 0x20) valid = false;  // control characters (a newline in a name) escaped too
    if (valid) {
      out.append(path.data() + i, n);
      i += n;
    } else {
      out += absl::StrFormat("\\x%02x", c);
      ++i;
    }
  }
  return out;
}

absl::StatusOr<SourceTree> WalkSources(const std::vector<std::string>& sources, const std::string& exclude) {
  if (sources.empty()) return absl::InvalidArgumentError("no source folder given");
  // The excluded folder may not exist yet: the canonical path of its nearest existing ancestor, then the rest.
  std::string exclude_real;
  char buf[PATH_MAX];
  if (!exclude.empty()) {
    std::string head = exclude, tail;
    while (::realpath(head.c_str(), buf) == nullptr && head.find('/') != std::string::npos) {
      size_t slash = head.rfind('/');
      tail = head.substr(slash) + tail;
      head = slash == 0 ? "/" : head.substr(0, slash);
    }
    if (::realpath(head.c_str(), buf) != nullptr) {
      exclude_real = buf + tail;
    } else if (::realpath(".", buf) != nullptr) {
      exclude_real = std::string(buf) + "/" + exclude;  // a relative path none of whose folders exists yet
    }
  }
  SourceTree tree;
  Walker walker{&tree, {}, {}};
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
    if (std::find(tree.roots.begin(), tree.roots.end(), real) != tree.roots.end()) {
      return absl::InvalidArgumentError(absl::StrCat("the source ", sources[i], " is given twice (as ", real, ")"));
    }
    tree.roots.push_back(real);
    walker.Walk(real, absl::StrCat(i));
  }
  return tree;
}

absl::StatusOr<ChunkStats> ChunkTree(SourceTree& tree, const ChunkOptions& o, const ChunkSink& sink) {
  // A pipeline over a pool of workers: this thread reads each file a window at a time; a worker scans the window for
  // candidate chunk ends; this thread picks the ends in order and hands each chunk to a worker, which hashes it and
  // (unless it is known) compresses it; this thread hands the results on to the sink in file order. Windows read
  // ahead and results in flight are bounded, so memory does not grow with the data.
  constexpr size_t kReadAhead = 3;      // windows
  constexpr size_t kInFlight = 16;      // groups of chunks
  constexpr size_t kGroupBytes = 1 << 20;
  struct Window {
    std::shared_ptr<std::string> buf;  // warmup bytes, then the window's own
    size_t warmup = 0, size = 0;
    uint64_t start = 0;  // file offset of the window's own bytes
    size_t entry = 0;
    uint8_t attempt = 0;
    bool first = false, eof = false;
    std::future<std::vector<uint64_t>> candidates;
  };
  struct Chunk {
    size_t entry = 0;
    uint8_t attempt = 0;
    uint32_t length = 0;
    std::string hash, frame;
    bool known = false;
  };
  ChunkStats stats;
  OwnerNames owner_names;
  std::unordered_set<std::string> seen;
  uint64_t done_bytes = 0;
  concurrent::BufferPool buffers(kWarmup + kWindow);  // window buffers, reused
  std::mutex spare_mu;
  std::vector<std::string> spare;  // frames handed on: their memory is reused for new ones
  std::deque<Window> windows;
  std::deque<std::future<std::vector<Chunk>>> results;
  concurrent::BoundedPool pool(std::max(1, o.threads), 64);  // last: joined before what its jobs use goes away

  // The reader: the next window of the current file, or the first of the next file to be read. A file is read by
  // offset (pread), only its data extents when it has holes. It is checked (size, mtime, ctime) when it is opened
  // and when its last byte is read; one that changed is read again from the start as a new attempt (the chunks of
  // earlier attempts are dropped as they come out of the pipeline), up to kAttempts times.
  constexpr uint8_t kAttempts = 4;
  std::vector<uint8_t> attempts(tree.entries.size(), 0);
  std::vector<bool> dropped(tree.entries.size(), false);
  size_t next_file = 0;
  int fd = -1;
  uint64_t offset = 0;   // in the file's stored stream (its extents back to back)
  uint64_t pos = 0;      // in the file
  size_t extent = 0;
  uint64_t cut_at = UINT64_MAX;  // where a sparse file turned out to end (cut short while it was read)
  struct stat opened;    // as the current attempt began
  std::string fd_path;
  std::shared_ptr<std::string> prev;  // the previous window of this file (its last bytes warm the next scan up)
  size_t prev_end = 0;                // where its bytes end in its buffer
  struct Closer {
    int* fd;
    ~Closer() {
      if (*fd >= 0) ::close(*fd);
    }
  } closer{&fd};
  auto note = [&](const std::string& path, const char* kind, const std::string& detail) {
    proto::Problem* p = &tree.problems.emplace_back();
    p->set_path(DisplayPath(path));
    p->set_kind(kind);
    p->set_detail(detail);
  };
  auto same = [](const struct stat& a, const struct stat& b) {
    return a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
           a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
  };
  // Starts an attempt at the open file: its entry takes the file's state now, its extents are found.
  auto begin_attempt = [&](proto::Entry& entry) -> bool {
    if (::fstat(fd, &opened) != 0 || !S_ISREG(opened.st_mode)) {
      note(fd_path, "vanished", "no longer a regular file when it was read");
      return false;
    }
    tree.bytes = tree.bytes - entry.size() + static_cast<uint64_t>(opened.st_size);
    SetStatFields(opened, &owner_names, &entry);
    entry.set_size(static_cast<uint64_t>(opened.st_size));
    entry.clear_extents();
    // Only a file with fewer blocks than its length can have holes (GNU tar's test); others are read straight.
    if (static_cast<uint64_t>(opened.st_blocks) * 512 < static_cast<uint64_t>(opened.st_size)) {
      absl::StatusOr<std::vector<proto::Extent>> extents = DataExtents(fd, entry.size(), fd_path);
      if (!extents.ok()) {
        note(fd_path, "unreadable", std::string(extents.status().message()));
        return false;
      }
      for (proto::Extent& x : *extents) *entry.add_extents() = std::move(x);
    }
    offset = pos = 0;
    extent = 0;
    cut_at = UINT64_MAX;
    if (entry.extents_size() > 0) pos = entry.extents(0).offset();
    prev.reset();
    return true;
  };
  auto close_file = [&] {
    ::close(fd);
    fd = -1;
    prev.reset();
    ++next_file;
  };
  auto drop = [&](size_t index) {
    dropped[index] = true;
    stats.chunks -= tree.entries[index].chunks_size();
    tree.entries[index].clear_chunks();
  };
  auto read_window = [&](Window* w) -> absl::StatusOr<bool> {
    while (fd < 0) {
      if (next_file == tree.files.size()) return false;
      const auto& [full, index] = tree.files[next_file];
      proto::Entry& entry = tree.entries[index];
      entry.clear_chunks();
      const proto::Entry* before = o.unchanged ? o.unchanged(entry) : nullptr;
      if (before != nullptr) {
        *entry.mutable_chunks() = before->chunks();
        *entry.mutable_extents() = before->extents();
        stats.chunks += before->chunks_size();
        ++stats.files_unchanged;
        done_bytes += entry.size();
        if (o.progress) o.progress(std::min(done_bytes, tree.bytes), tree.bytes);
        ++next_file;
        continue;
      }
      // O_NONBLOCK: a FIFO put in the file's place since the walk must not hang the backup.
      fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
      fd_path = full;
      if (fd < 0) {
        if (errno == ENOENT || errno == ELOOP) {
          note(full, "vanished", errno == ENOENT ? "deleted after the walk" : "replaced by a symlink after the walk");
        } else {
          note(full, "unreadable", std::strerror(errno));
        }
        dropped[index] = true;
        ++next_file;
        continue;
      }
      if (!begin_attempt(entry)) {
        dropped[index] = true;
        close_file();
      }
    }
    const size_t index = tree.files[next_file].second;
    proto::Entry& entry = tree.entries[index];
    w->entry = index;
    w->attempt = attempts[index];
    w->buf = buffers.Get();
    w->start = offset;
    w->first = offset == 0;
    w->warmup = prev ? kWarmup : 0;  // a window before another is full, so it has these bytes
    if (prev) std::memcpy(w->buf->data(), prev->data() + prev_end - kWarmup, kWarmup);
    char* to = w->buf->data() + w->warmup;
    w->size = 0;
    const bool sparse = entry.extents_size() > 0;
    while (w->size < kWindow) {
      size_t want = kWindow - w->size;
      if (sparse) {
        while (extent < static_cast<size_t>(entry.extents_size()) &&
               pos >= entry.extents(extent).offset() + entry.extents(extent).length()) {
          if (++extent < static_cast<size_t>(entry.extents_size())) pos = entry.extents(extent).offset();
        }
        if (extent == static_cast<size_t>(entry.extents_size())) {
          w->eof = true;
          break;
        }
        want = static_cast<size_t>(
            std::min<uint64_t>(want, entry.extents(extent).offset() + entry.extents(extent).length() - pos));
      } else {
        // Up to the length the file had when the attempt began: a file appended faster than it is read still ends.
        if (pos >= static_cast<uint64_t>(opened.st_size)) {
          w->eof = true;
          break;
        }
        want = static_cast<size_t>(std::min<uint64_t>(want, static_cast<uint64_t>(opened.st_size) - pos));
      }
      ssize_t n = ::pread(fd, to + w->size, want, static_cast<off_t>(pos));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {  // an I/O error: the file is left out, the backup goes on
        note(fd_path, "unreadable", absl::StrCat("read error at offset ", pos, ": ", std::strerror(errno)));
        drop(index);
        w->eof = true;
        close_file();
        return true;
      }
      if (n == 0) {  // the end (for a sparse file: it was cut short while it was read)
        if (sparse) cut_at = pos;
        w->eof = true;
        break;
      }
      w->size += static_cast<size_t>(n);
      pos += static_cast<uint64_t>(n);
    }
    offset += w->size;
    prev = w->buf;
    prev_end = w->warmup + w->size;
    if (w->eof) {
      const uint64_t captured = sparse ? std::min(entry.size(), cut_at) : offset;
      struct stat after;
      bool changed = ::fstat(fd, &after) != 0 || !same(opened, after) ||
                     (!sparse && offset != static_cast<uint64_t>(opened.st_size));
      if (changed && attempts[index] + 1 < kAttempts) {
        ++attempts[index];  // read it again; what this attempt handed on is dropped
        stats.chunks -= entry.chunks_size();
        entry.clear_chunks();
        if (!begin_attempt(entry)) {
          drop(index);
          close_file();
        }
        return true;
      }
      if (changed) {
        note(fd_path, "changed", absl::StrCat("changed while it was read, ", kAttempts, " times; kept as read the last time (",
                                              captured, " bytes), which may mix old and new data"));
      }
      tree.bytes = tree.bytes - entry.size() + captured;
      entry.set_size(captured);  // the size captured, whatever the file's size is now
      close_file();
    }
    return true;
  };

  auto scan = [&](Window* w) {
    if (w->first && w->eof && w->size <= kMinChunk) {  // a small file is one chunk: nothing to scan
      std::promise<std::vector<uint64_t>> none;
      w->candidates = none.get_future();
      none.set_value({});
      return;
    }
    auto task = std::make_shared<std::packaged_task<std::vector<uint64_t>()>>(
        [buf = w->buf, warmup = w->warmup, size = w->size, start = w->start] {
          std::vector<uint64_t> c;
          ScanCandidates(reinterpret_cast<const unsigned char*>(buf->data()) + warmup, warmup, size, start, &c);
          return c;
        });
    w->candidates = task->get_future();
    pool.Submit([task] {
      (*task)();
      return absl::OkStatus();
    });
  };

  auto hand_on = [&](Chunk c) -> absl::Status {
    if (dropped[c.entry] || c.attempt != attempts[c.entry]) return absl::OkStatus();  // from a dropped read
    tree.entries[c.entry].add_chunks(c.hash);
    ++stats.chunks;
    done_bytes += c.length;
    if (o.progress) o.progress(std::min(done_bytes, tree.bytes), tree.bytes);
    if (c.known || !seen.insert(c.hash).second) return absl::OkStatus();
    if (c.frame.empty()) return absl::InternalError("zstd compression failed");
    RETURN_IF_ERROR(sink(c.hash, c.length, c.frame));
    {
      std::lock_guard<std::mutex> lock(spare_mu);
      if (spare.size() < 64) spare.push_back(std::move(c.frame));
    }
    ++stats.new_chunks;
    stats.new_bytes += c.length;
    return absl::OkStatus();
  };
  auto drain = [&](size_t keep) -> absl::Status {
    while (!results.empty() && (results.size() > keep ||
                                results.front().wait_for(std::chrono::seconds(0)) == std::future_status::ready)) {
      for (Chunk& c : results.front().get()) RETURN_IF_ERROR(hand_on(std::move(c)));
      results.pop_front();
    }
    return absl::OkStatus();
  };
  // Chunks go to the workers in groups of about 1 MiB (one hand-over per chunk would cost more wake-ups than the
  // hashing saves).
  struct Piece {
    std::shared_ptr<const std::string> holder;
    size_t at, length, entry;
    uint8_t attempt;
  };
  std::vector<Piece> group;
  size_t group_bytes = 0;
  auto submit_group = [&] {
    if (group.empty()) return;
    auto task = std::make_shared<std::packaged_task<std::vector<Chunk>()>>([pieces = std::move(group), &o, &spare_mu, &spare] {
      std::vector<Chunk> out(pieces.size());
      for (size_t i = 0; i < pieces.size(); ++i) {
        const Piece& p = pieces[i];
        Chunk& c = out[i];
        c.entry = p.entry;
        c.attempt = p.attempt;
        c.length = static_cast<uint32_t>(p.length);
        absl::string_view data(p.holder->data() + p.at, p.length);
        c.hash = crypto::Base16Encode(crypto::Sha256(data));
        if (o.known && o.known(c.hash)) {
          c.known = true;
          continue;
        }
        // One compression context and output buffer per thread, reused (ZSTD_compress would set up a new
        // context, tables and all, for every chunk).
        thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
        thread_local std::string scratch;
        size_t bound = ZSTD_compressBound(p.length);
        if (scratch.size() < bound) scratch.resize(bound);
        size_t n = ZSTD_compressCCtx(cctx.get(), scratch.data(), bound, data.data(), p.length, o.zstd_level);
        if (ZSTD_isError(n)) continue;
        {
          std::lock_guard<std::mutex> lock(spare_mu);
          if (!spare.empty()) {
            c.frame = std::move(spare.back());
            spare.pop_back();
          }
        }
        c.frame.assign(scratch.data(), n);
      }
      return out;
    });
    group.clear();
    group_bytes = 0;
    results.push_back(task->get_future());
    pool.Submit([task] {
      (*task)();
      return absl::OkStatus();
    });
  };
  auto submit_chunk = [&](std::shared_ptr<const std::string> holder, size_t at, size_t length, size_t entry,
                          uint8_t attempt) {
    group.push_back({std::move(holder), at, length, entry, attempt});
    group_bytes += length;
    if (group_bytes >= kGroupBytes) submit_group();
  };

  BoundaryPicker picker;
  uint64_t chunk_start = 0;
  std::string carry;  // the current chunk's bytes from earlier windows
  std::vector<uint64_t> ends;
  for (bool more = true;;) {
    while (more && windows.size() < kReadAhead) {
      Window w;
      ASSIGN_OR_RETURN(more, read_window(&w));
      if (!more) break;
      scan(&w);
      windows.push_back(std::move(w));
    }
    if (windows.empty()) break;
    Window w = std::move(windows.front());
    windows.pop_front();
    if (w.first) {
      picker = BoundaryPicker();
      chunk_start = 0;
      carry.clear();
    }
    ends.clear();
    picker.Feed(w.candidates.get(), w.start + w.size, w.eof, &ends);
    const char* own = w.buf->data() + w.warmup;
    for (uint64_t end : ends) {
      if (chunk_start >= w.start && w.size < kWindow / 8) {
        // A small file's window: its bytes are copied out, so the 2 MiB buffer goes back to the pool now (a group
        // of a thousand small files would otherwise hold a thousand window buffers, gigabytes, until it is hashed).
        auto copy = std::make_shared<const std::string>(own + (chunk_start - w.start), end - chunk_start);
        submit_chunk(std::move(copy), 0, end - chunk_start, w.entry, w.attempt);
      } else if (chunk_start >= w.start) {
        submit_chunk(w.buf, w.warmup + (chunk_start - w.start), end - chunk_start, w.entry, w.attempt);
      } else {
        carry.append(own, end - w.start);
        size_t length = carry.size();
        submit_chunk(std::make_shared<const std::string>(std::move(carry)), 0, length, w.entry, w.attempt);
        carry.clear();
      }
      chunk_start = end;
      RETURN_IF_ERROR(drain(kInFlight));
    }
    uint64_t kept = std::max(chunk_start, w.start);
    carry.append(own + (kept - w.start), w.start + w.size - kept);
    RETURN_IF_ERROR(drain(kInFlight));
  }
  submit_group();
  RETURN_IF_ERROR(drain(0));
  RETURN_IF_ERROR(pool.Drain());
  RemoveDropped(dropped, &tree);
  if (o.progress) o.progress(tree.bytes, tree.bytes);
  return stats;
}

absl::StatusOr<absl::string_view> OpenChunkInto(absl::string_view frame, uint32_t length, const std::string& sha256_hex,
                                                const std::string& where, std::string* out) {
  if (out->size() < length) out->resize(length);
  size_t n = ZSTD_decompress(out->data(), length, frame.data(), frame.size());
  absl::string_view data(out->data(), ZSTD_isError(n) ? 0 : n);
  if (ZSTD_isError(n) || n != length || crypto::Base16Encode(crypto::Sha256(data)) != sha256_hex) {
    return absl::DataLossError(
        absl::StrCat("chunk ", sha256_hex, " ", where, " is damaged (decompression or SHA-256 check failed)"));
  }
  return data;
}

absl::StatusOr<std::string> OpenChunk(absl::string_view frame, uint32_t length, const std::string& sha256_hex,
                                      const std::string& where) {
  std::string out;
  RETURN_IF_ERROR(OpenChunkInto(frame, length, sha256_hex, where, &out).status());
  out.resize(length);
  return out;
}

absl::Status ValidateEntries(const std::vector<proto::Entry>& entries) {
  std::map<absl::string_view, absl::string_view> types;  // path -> type
  for (const proto::Entry& e : entries) {
    auto bad = [&](absl::string_view why) {
      return absl::DataLossError(absl::StrCat("the catalogue is damaged or was tampered with: entry \"",
                                              absl::CHexEscape(e.path()), "\" ", why,
                                              "; nothing was restored (restore another recovery point)"));
    };
    static const std::set<std::string> kTypes = {"file", "dir", "symlink", "hardlink", "fifo", "chardev", "blockdev"};
    if (kTypes.count(e.type()) == 0) {
      return bad(absl::StrCat("has the unknown type \"", absl::CHexEscape(e.type()), "\""));
    }
    if (e.type() == "hardlink") {
      auto first = types.find(e.target());
      if (first == types.end() || first->second != "file") return bad("is a hard link to no earlier file entry");
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

absl::Status CheckRestoreTarget(const std::string& output) {
  DIR* d = ::opendir(output.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return absl::OkStatus();
    return file::ErrnoStatus(errno, "cannot open the restore target", output);
  }
  int n = 0;
  while (dirent* e = ::readdir(d)) n += std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0;
  ::closedir(d);
  if (n > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the restore target ", output, " is not empty; restore into a new or empty folder"));
  }
  return absl::OkStatus();
}

namespace {

// Folders first, then the files (their content from `content`), FIFOs and devices, hard links, symlinks last (so no
// write can go through one), one flush, then owners, xattrs, modes and times deepest first.
absl::Status RestoreTreeWith(const std::vector<proto::Entry>& entries, const std::string& output,
                             const std::function<absl::Status(const std::vector<const proto::Entry*>& files)>& content,
                             RestoreReport* report) {
  RETURN_IF_ERROR(ValidateEntries(entries));
  RETURN_IF_ERROR(CheckRestoreTarget(output));
  RETURN_IF_ERROR(file::MakeDirs(output, 0700));
  RestoreReport local;
  if (report == nullptr) report = &local;
  report->owners_applied = ::geteuid() == 0;
  std::vector<const proto::Entry*> files, links, hardlinks;
  for (const proto::Entry& e : entries) {
    std::string path = output + "/" + e.path();
    if (e.type() == "dir") {
      if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return file::ErrnoStatus(errno, "cannot create", path);
    } else if (e.type() == "symlink") {
      links.push_back(&e);
    } else if (e.type() == "hardlink") {
      hardlinks.push_back(&e);
    } else if (e.type() == "file") {
      files.push_back(&e);
    }
  }
  RETURN_IF_ERROR(content(files));
  for (const proto::Entry& e : entries) {
    std::string path = output + "/" + e.path();
    if (e.type() == "fifo") {
      if (::mkfifo(path.c_str(), 0600) != 0) return file::ErrnoStatus(errno, "cannot create the FIFO", path);
    } else if (e.type() == "chardev" || e.type() == "blockdev") {
      mode_t kind = e.type() == "chardev" ? S_IFCHR : S_IFBLK;
      if (::mknod(path.c_str(), kind | 0600, static_cast<dev_t>(e.rdev())) != 0) {
        if (errno != EPERM) return file::ErrnoStatus(errno, "cannot create the device node", path);
        report->not_restored.push_back(absl::StrCat(path, ": the device node (only root can create one)"));
      }
    }
  }
  for (const proto::Entry* e : hardlinks) {
    std::string path = output + "/" + e->path(), first = output + "/" + e->target();
    if (::link(first.c_str(), path.c_str()) != 0) return file::ErrnoStatus(errno, "cannot create the hard link", path);
  }
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
  // Owners, xattrs, modes and times last (deepest first), so creating children does not disturb their parents. A
  // hard link shares its first name's inode, which gets them.
  OwnerNames names;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (it->type() == "hardlink") continue;
    std::string path = output + "/" + it->path();
    if ((it->type() == "chardev" || it->type() == "blockdev") && ::access(path.c_str(), F_OK) != 0) continue;
    RETURN_IF_ERROR(ApplyMeta(*it, path, &names, report));
  }
  return absl::OkStatus();
}

// Creates a restored file at its full length, all hole (its data is written into it afterwards).
absl::StatusOr<int> CreateRestoredFile(const proto::Entry& e, const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return file::ErrnoStatus(errno, "cannot create", path);
  if (::ftruncate(fd, static_cast<off_t>(e.size())) != 0) {
    absl::Status s = file::ErrnoStatus(errno, "cannot set the length of", path);
    ::close(fd);
    return s;
  }
  return fd;
}

}  // namespace

absl::Status RestoreTree(const std::vector<proto::Entry>& entries, const std::string& output, const ContentWriter& write,
                         int threads, RestoreReport* report) {
  return RestoreTreeWith(entries, output, [&](const std::vector<const proto::Entry*>& files) -> absl::Status {
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
        absl::StatusOr<int> created = CreateRestoredFile(e, path);
        if (!created.ok()) {
          s = created.status();
        } else {
          int fd = *created;
          s = write(e, fd);
          // Start this file's write-back now, while other files are still coming in; the flush at the end then has
          // little left to wait for.
          if (s.ok()) ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
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
    return result;
  }, report);
}

absl::Status RestoreTreeFilled(const std::vector<proto::Entry>& entries, const std::string& output,
                               const ContentFiller& fill, RestoreReport* report) {
  return RestoreTreeWith(entries, output, [&](const std::vector<const proto::Entry*>& files) -> absl::Status {
    for (const proto::Entry* e : files) {
      ASSIGN_OR_RETURN(int fd, CreateRestoredFile(*e, output + "/" + e->path()));
      ::close(fd);
    }
    return fill(files);
  }, report);
}


}  // namespace vmb::offline
