// Reading the regular files of a walked tree for chunking: one window (2 MiB) at a time, each with the 64 bytes
// before it (the rolling hash's warm-up), by offset (pread), sparse files by their data extents only. A file is
// checked (size, mtime, ctime) when it is opened and when its last byte is read; one that changed is read again
// from the start as a new attempt, up to kAttempts times, then kept as read and noted "changed". A file that
// vanished or cannot be read is dropped and noted.
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_WINDOW_READER_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_WINDOW_READER_H_

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/concurrent/buffer_pool.h"
#include "offline_seed/agent/entry_meta.h"
#include "offline_seed/agent/staging.pb.h"
#include "offline_seed/agent/walk.h"

namespace vmb::offline {

// A piece of one file's stored stream (its extents back to back).
struct Window {
  std::shared_ptr<std::string> buf;  // `warmup` bytes (the stream's just before `start`), then the window's own
  size_t warmup = 0, size = 0;
  uint64_t start = 0;  // stream offset of the window's own bytes
  size_t entry = 0;    // index in the tree's entries
  uint8_t attempt = 0;
  bool first = false;  // the first window of an attempt
  bool eof = false;    // the last window of an attempt
};

class WindowReader {
 public:
  static constexpr size_t kWindow = 2 << 20;
  static constexpr uint8_t kAttempts = 4;
  // Fills a file's chunks, chunkOffset and extents from the previous backup when it has not changed since (it is then
  // not read) and says so; unset: every file is read.
  using Unchanged = std::function<bool(proto::Entry* file)>;

  // Reads the files of `*tree`, in order; updates their entries (stat fields, size, extents; chunks cleared when a
  // read starts again) and `tree->bytes`, and notes problems in `tree->problems`. `skipped(bytes)` is called for
  // each file `unchanged` vouched for.
  WindowReader(SourceTree* tree, Unchanged unchanged, std::function<void(uint64_t bytes)> skipped);
  ~WindowReader();
  WindowReader(const WindowReader&) = delete;
  WindowReader& operator=(const WindowReader&) = delete;

  // The next window, of the current file or of the next one to be read; false when every file was read.
  bool Next(Window* w);

  // Whether chunks of this attempt at `entry` are still wanted (the file was not dropped or read again since).
  bool Current(size_t entry, uint8_t attempt) const { return !dropped_[entry] && attempts_[entry] == attempt; }
  // Files left out (by index in the tree's entries): vanished or unreadable.
  const std::vector<bool>& dropped() const { return dropped_; }

 private:
  bool OpenNextFile();
  bool BeginAttempt(proto::Entry& entry);
  bool Fill(Window* w, const proto::Entry& entry);
  void Finish(const Window& w, size_t index);
  static void TrimExtents(proto::Entry* e);
  void CloseFile();
  void Drop(size_t index);
  void Note(const char* kind, const std::string& detail);

  SourceTree* tree_;
  Unchanged unchanged_;
  std::function<void(uint64_t)> skipped_;
  concurrent::BufferPool buffers_;  // window buffers, reused
  OwnerNames owner_names_;
  std::vector<uint8_t> attempts_;
  std::vector<bool> dropped_;
  size_t next_file_ = 0;
  int fd_ = -1;
  std::string fd_path_;
  struct stat opened_ = {};     // as the current attempt began
  struct timespec begun_ = {};  // the kernel's coarse clock when it began (what file times are stamped with)
  uint64_t offset_ = 0;         // in the file's stored stream
  uint64_t pos_ = 0;            // in the file
  size_t extent_ = 0;
  uint64_t cut_at_ = UINT64_MAX;       // where a sparse file turned out to end (cut short while it was read)
  std::shared_ptr<std::string> prev_;  // the previous window of this file (its last bytes warm the next scan up)
  size_t prev_end_ = 0;                // where its bytes end in its buffer
};

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_WINDOW_READER_H_
