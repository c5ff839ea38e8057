#include "offline_seed/agent/window_reader.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "offline_seed/agent/chunker.h"

namespace vmb::offline {
namespace {

bool SameState(const struct stat& a, const struct stat& b) {
  return a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

bool Before(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

struct timespec CoarseNow() {
  struct timespec now = {};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
  return now;
}

// File times are stamped from the kernel's coarse clock, which moves in ticks of a few ms: a write in the same tick
// as the attempt began leaves the times as they were. So a file whose change time is not before the attempt began
// may have changed unseen (git's "racily clean" entries); it is read again once the clock has moved past that time.
bool Racy(const struct stat& after, const struct timespec& begun) { return !Before(after.st_ctim, begun); }

void WaitPast(const struct timespec& t) {
  for (int i = 0; i < 100 && !Before(t, CoarseNow()); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

}  // namespace

WindowReader::WindowReader(SourceTree* tree, Unchanged unchanged, std::function<void(uint64_t bytes)> skipped)
    : tree_(tree),
      unchanged_(std::move(unchanged)),
      skipped_(std::move(skipped)),
      buffers_(kGearWarmup + kWindow),
      attempts_(tree->entries.size(), 0),
      dropped_(tree->entries.size(), false) {}

WindowReader::~WindowReader() {
  if (fd_ >= 0) ::close(fd_);
}

void WindowReader::Note(const char* kind, const std::string& detail) {
  NoteProblem(fd_path_, kind, detail, &tree_->problems);
}

// Starts an attempt at the open file: its entry takes the file's state now, its extents are found.
bool WindowReader::BeginAttempt(proto::Entry& entry) {
  begun_ = CoarseNow();
  if (::fstat(fd_, &opened_) != 0 || !S_ISREG(opened_.st_mode)) {
    Note("vanished", "no longer a regular file when it was read");
    return false;
  }
  tree_->bytes = tree_->bytes - entry.size() + static_cast<uint64_t>(opened_.st_size);
  SetStatFields(opened_, &owner_names_, &entry);
  entry.set_size(static_cast<uint64_t>(opened_.st_size));
  entry.clear_extents();
  // Only a file with fewer blocks than its length can have holes (GNU tar's test); others are read straight.
  if (static_cast<uint64_t>(opened_.st_blocks) * 512 < static_cast<uint64_t>(opened_.st_size)) {
    absl::StatusOr<std::vector<proto::Extent>> extents = DataExtents(fd_, entry.size(), fd_path_);
    if (!extents.ok()) {
      Note("unreadable", std::string(extents.status().message()));
      return false;
    }
    for (proto::Extent& x : *extents) *entry.add_extents() = std::move(x);
  }
  offset_ = pos_ = 0;
  extent_ = 0;
  cut_at_ = UINT64_MAX;
  if (entry.extents_size() > 0) pos_ = entry.extents(0).offset();
  prev_.reset();
  return true;
}

void WindowReader::CloseFile() {
  ::close(fd_);
  fd_ = -1;
  prev_.reset();
  ++next_file_;
}

void WindowReader::Drop(size_t index) {
  dropped_[index] = true;
  tree_->entries[index].clear_chunks();
  tree_->entries[index].clear_chunkoffset();
  tree_->entries[index].clear_digest();
}

// Opens the next file to be read (skipping those `unchanged_` vouches for and those that cannot be opened); false
// when there is none.
bool WindowReader::OpenNextFile() {
  while (fd_ < 0) {
    if (next_file_ == tree_->files.size()) return false;
    const auto& [full, index] = tree_->files[next_file_];
    proto::Entry& entry = tree_->entries[index];
    entry.clear_chunks();
    entry.clear_chunkoffset();
    entry.clear_digest();
    if (unchanged_ && unchanged_(&entry)) {
      skipped_(entry.size());
      ++next_file_;
      continue;
    }
    // O_NONBLOCK: a FIFO put in the file's place since the walk must not hang the backup.
    fd_ = ::open(full.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    fd_path_ = full;
    if (fd_ < 0) {
      if (errno == ENOENT || errno == ELOOP) {
        Note("vanished", errno == ENOENT ? "deleted after the walk" : "replaced by a symlink after the walk");
      } else {
        Note("unreadable", std::strerror(errno));
      }
      dropped_[index] = true;
      ++next_file_;
      continue;
    }
    if (!BeginAttempt(entry)) {
      dropped_[index] = true;
      CloseFile();
    }
  }
  return true;
}

// Reads the window's own bytes (up to kWindow; sets w->eof at the end of the attempt). False on a read error (the
// file is then dropped and closed).
bool WindowReader::Fill(Window* w, const proto::Entry& entry) {
  char* to = w->buf->data() + w->warmup;
  const bool sparse = entry.extents_size() > 0;
  const size_t extents = static_cast<size_t>(entry.extents_size());
  while (w->size < kWindow) {
    size_t want = kWindow - w->size;
    if (sparse) {
      while (extent_ < extents && pos_ >= entry.extents(extent_).offset() + entry.extents(extent_).length()) {
        if (++extent_ < extents) pos_ = entry.extents(extent_).offset();
      }
      if (extent_ == extents) break;
      want = static_cast<size_t>(
          std::min<uint64_t>(want, entry.extents(extent_).offset() + entry.extents(extent_).length() - pos_));
    } else {
      // Up to the length the file had when the attempt began: a file appended faster than it is read still ends.
      if (pos_ >= static_cast<uint64_t>(opened_.st_size)) break;
      want = static_cast<size_t>(std::min<uint64_t>(want, static_cast<uint64_t>(opened_.st_size) - pos_));
    }
    ssize_t n = ::pread(fd_, to + w->size, want, static_cast<off_t>(pos_));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {  // an I/O error: the file is left out, the backup goes on
      Note("unreadable", absl::StrCat("read error at offset ", pos_, ": ", std::strerror(errno)));
      return false;
    }
    if (n == 0) {  // the end (for a sparse file: it was cut short while it was read)
      if (sparse) cut_at_ = pos_;
      break;
    }
    w->size += static_cast<size_t>(n);
    pos_ += static_cast<uint64_t>(n);
  }
  w->eof = w->size < kWindow;
  return true;
}

// At the end of an attempt: a file that changed while it was read is read again (a new attempt), up to kAttempts
// times, then kept as read and noted; its entry's size is the size captured.
void WindowReader::Finish(const Window& w, size_t index) {
  proto::Entry& entry = tree_->entries[index];
  const bool sparse = entry.extents_size() > 0;
  const uint64_t captured = sparse ? std::min(entry.size(), cut_at_) : offset_;
  struct stat after;
  bool changed = ::fstat(fd_, &after) != 0 || !SameState(opened_, after) ||
                 (!sparse && offset_ != static_cast<uint64_t>(opened_.st_size)) || Racy(after, begun_);
  if (changed && attempts_[index] + 1 < kAttempts) {
    ++attempts_[index];  // read it again; what this attempt handed on is dropped
    WaitPast(after.st_ctim);
    entry.clear_chunks();
    entry.clear_chunkoffset();
    entry.clear_digest();
    if (!BeginAttempt(entry)) {
      Drop(index);
      CloseFile();
    }
    return;
  }
  if (changed) {
    Note("changed", absl::StrCat("changed while it was read, ", kAttempts, " times; kept as read the last time (",
                                 captured, " bytes), which may mix old and new data"));
  }
  tree_->bytes = tree_->bytes - entry.size() + captured;
  entry.set_size(captured);                                  // the size captured, whatever the file's size is now
  if (sparse && cut_at_ != UINT64_MAX) TrimExtents(&entry);  // only the data read is stored
  CloseFile();
}

// Cuts a sparse file's extents at its size (what lay past it was not read).
void WindowReader::TrimExtents(proto::Entry* e) {
  google::protobuf::RepeatedPtrField<proto::Extent> kept;
  for (const proto::Extent& x : e->extents()) {
    if (x.offset() >= e->size()) break;
    proto::Extent* k = kept.Add();
    *k = x;
    k->set_length(std::min<uint64_t>(x.length(), e->size() - x.offset()));
  }
  *e->mutable_extents() = std::move(kept);
}

bool WindowReader::Next(Window* w) {
  if (!OpenNextFile()) return false;
  const size_t index = tree_->files[next_file_].second;
  w->entry = index;
  w->attempt = attempts_[index];
  w->buf = buffers_.Get();
  w->start = offset_;
  w->first = offset_ == 0;
  w->warmup = prev_ ? kGearWarmup : 0;  // a window before another is full, so it has these bytes
  if (prev_) std::memcpy(w->buf->data(), prev_->data() + prev_end_ - kGearWarmup, kGearWarmup);
  w->size = 0;
  w->eof = false;
  if (!Fill(w, tree_->entries[index])) {
    Drop(index);
    w->eof = true;
    CloseFile();
    return true;
  }
  offset_ += w->size;
  prev_ = w->buf;
  prev_end_ = w->warmup + w->size;
  if (w->eof) Finish(*w, index);
  return true;
}

}  // namespace vmb::offline
