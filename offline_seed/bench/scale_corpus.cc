#include "offline_seed/bench/scale_corpus.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <set>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file/file_util.h"
#include "common/process/subprocess.h"

namespace vmb::offline::bench {
namespace {

constexpr char kKernelTarball[] = "/usr/src/linux-source-6.1.tar.xz";

// xorshift64*: fast and deterministic; the corpus needs incompressible bytes, not secret ones.
class FastRandom {
 public:
  explicit FastRandom(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t Next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1Dull;
  }
  void Fill(std::string* out, size_t size) {
    out->resize(size);
    for (size_t i = 0; i < size; i += 8) {
      uint64_t v = Next();
      std::memcpy(&(*out)[i], &v, std::min<size_t>(8, size - i));
    }
  }

 private:
  uint64_t s_;
};

// Text a log or source file might hold: words from a small vocabulary with numbers, so zstd -1 gets ~3-4x.
void FillText(FastRandom& rnd, std::string* out, size_t size) {
  static const char* const kWords[] = {
      "backup", "offline", "seeding", "drive",  "import", "vault", "chunk", "catalogue", "restore", "staging", "the",
      "of",     "and",     "error",   "return", "status", "int",   "void",  "const",     "struct",  "{",       "}"};
  out->clear();
  out->reserve(size + 32);
  while (out->size() < size) {
    uint64_t r = rnd.Next();
    out->append(kWords[r % (sizeof(kWords) / sizeof(kWords[0]))]);
    if ((r >> 8) % 7 == 0) absl::StrAppend(out, " ", (r >> 16) % 100000);
    out->push_back((r >> 32) % 11 == 0 ? '\n' : ' ');
  }
  out->resize(size);
}

absl::Status WriteAll(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return file::ErrnoStatus(errno, "create", path);
  absl::Cleanup closer = [fd] { ::close(fd); };
  for (size_t done = 0; done < data.size();) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return file::ErrnoStatus(errno, "write", path);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Calls `visit` for every entry under `dir` (not `dir` itself), depth first, never following symbolic links.
void Walk(const std::string& dir, const std::function<void(const std::string&, const struct stat&)>& visit) {
  std::vector<std::string> pending = {dir};
  while (!pending.empty()) {
    std::string d = std::move(pending.back());
    pending.pop_back();
    DIR* h = ::opendir(d.c_str());
    if (h == nullptr) continue;
    while (struct dirent* e = ::readdir(h)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string path = d + "/" + name;
      struct stat st;
      if (::lstat(path.c_str(), &st) != 0) continue;
      visit(path, st);
      if (S_ISDIR(st.st_mode)) pending.push_back(path);
    }
    ::closedir(h);
  }
}

}  // namespace

absl::Status MakeSmallFiles(const std::string& dir, uint64_t files, uint64_t seed) {
  FastRandom rnd(seed);
  std::string data, folder;
  for (uint64_t i = 0; i < files; ++i) {
    if (i % 1000 == 0) {
      uint64_t f = i / 1000;
      folder = absl::StrFormat("%s/p%03d/d%05d", dir, f / 32, f);
      absl::Status s = file::MakeDirs(folder);
      if (!s.ok()) return s;
    }
    size_t size = 512 + rnd.Next() % 1537;
    if (i % 2 == 0) {
      FillText(rnd, &data, size);
    } else {
      rnd.Fill(&data, size);
    }
    absl::Status s = WriteAll(absl::StrFormat("%s/f%03d", folder, i % 1000), data);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status MakeLargeFiles(const std::string& dir, uint64_t total_bytes, uint64_t seed) {
  absl::Status s = file::MakeDirs(dir);
  if (!s.ok()) return s;
  FastRandom rnd(seed);
  const uint64_t per_file = total_bytes / 4;
  std::string piece;
  for (int n = 0; n < 4; ++n) {
    std::string path = absl::StrCat(dir, "/large", n, n % 2 == 0 ? ".log" : ".bin");
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return file::ErrnoStatus(errno, "create", path);
    absl::Cleanup closer = [fd] { ::close(fd); };
    for (uint64_t done = 0; done < per_file;) {
      size_t size = static_cast<size_t>(std::min<uint64_t>(4u << 20, per_file - done));
      if (n % 2 == 0) {
        FillText(rnd, &piece, size);
      } else {
        rnd.Fill(&piece, size);
      }
      if (::write(fd, piece.data(), piece.size()) != static_cast<ssize_t>(piece.size())) {
        return file::ErrnoStatus(errno, "write", path);
      }
      done += size;
    }
  }
  return absl::OkStatus();
}

absl::Status MakeSparseImage(const std::string& dir, uint64_t apparent, uint64_t data, uint64_t seed) {
  absl::Status s = file::MakeDirs(dir);
  if (!s.ok()) return s;
  std::string path = dir + "/disk.img";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return file::ErrnoStatus(errno, "create", path);
  absl::Cleanup closer = [fd] { ::close(fd); };
  if (::ftruncate(fd, static_cast<off_t>(apparent)) != 0) return file::ErrnoStatus(errno, "truncate", path);
  constexpr uint64_t kExtent = 1u << 20;
  const uint64_t extents = std::max<uint64_t>(1, data / kExtent);
  const uint64_t stride = apparent / extents / kExtent * kExtent;
  FastRandom rnd(seed);
  std::string piece;
  for (uint64_t e = 0; e < extents; ++e) {
    if (e % 2 == 0) {
      FillText(rnd, &piece, kExtent);
    } else {
      rnd.Fill(&piece, kExtent);
    }
    if (::pwrite(fd, piece.data(), kExtent, static_cast<off_t>(e * stride)) != static_cast<ssize_t>(kExtent)) {
      return file::ErrnoStatus(errno, "write", path);
    }
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) return file::ErrnoStatus(errno, "stat", path);
  if (static_cast<uint64_t>(st.st_blocks) * 512 > 2 * data + (64u << 20)) {
    return absl::FailedPreconditionError(absl::StrCat("the file system under ", dir, " does not keep holes (",
                                                      st.st_blocks * 512, " bytes allocated for ", data,
                                                      " written); set TMPDIR to one that does"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> KernelTree(const std::string& cache_dir) {
  struct stat st;
  if (::stat(kKernelTarball, &st) != 0) {
    return absl::NotFoundError(absl::StrCat(kKernelTarball,
                                            " is not installed; get it with "
                                            "`apt-get install linux-source-6.1`"));
  }
  std::string root = cache_dir + "/linux-source-6.1";
  std::string stamp = cache_dir + "/.unpacked";
  if (::stat(stamp.c_str(), &st) == 0) return root;
  process::RunCommand({"rm", "-rf", root}).IgnoreError();
  absl::Status made = file::MakeDirs(cache_dir);
  if (!made.ok()) return made;
  auto r = process::RunCommand({"tar", "-xJf", kKernelTarball, "-C", cache_dir});
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) return absl::InternalError("unpacking " + std::string(kKernelTarball) + ": " + r->stderr_data);
  absl::Status w = file::WriteFileAtomic(stamp, "", 0644);
  if (!w.ok()) return w;
  return root;
}

TreeCount CountTree(const std::string& dir) {
  TreeCount c;
  Walk(dir, [&c](const std::string&, const struct stat& st) {
    if (!S_ISREG(st.st_mode)) return;
    ++c.files;
    c.bytes += static_cast<uint64_t>(st.st_size);
  });
  return c;
}

uint64_t AllocatedBytes(const std::string& path) {
  struct stat top;
  if (::lstat(path.c_str(), &top) != 0) return 0;
  uint64_t total = static_cast<uint64_t>(top.st_blocks) * 512;
  if (!S_ISDIR(top.st_mode)) return total;
  std::set<std::pair<dev_t, ino_t>> seen;
  Walk(path, [&](const std::string&, const struct stat& st) {
    if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) && !seen.insert({st.st_dev, st.st_ino}).second) return;
    total += static_cast<uint64_t>(st.st_blocks) * 512;
  });
  return total;
}

}  // namespace vmb::offline::bench
