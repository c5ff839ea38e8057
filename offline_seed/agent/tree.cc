#include "offline_seed/agent/tree.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <future>
#include <memory>
#include <unordered_set>

#include "common/concurrent/bounded_pool.h"
#include "common/crypto/digest.h"
#include "common/status/status_macros.h"
#include "offline_seed/agent/window_reader.h"

namespace vmb::offline {
namespace {

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

// Submits `job` to `pool` and gives its result's future.
template <typename T>
std::future<T> Async(concurrent::BoundedPool* pool, std::function<T()> job) {
  auto task = std::make_shared<std::packaged_task<T()>>(std::move(job));
  std::future<T> result = task->get_future();
  pool->Submit([task] {
    (*task)();
    return absl::OkStatus();
  });
  return result;
}

// ChunkTree's pipeline over a pool of workers: this thread reads each file a window at a time (WindowReader); a
// worker scans the window for candidate chunk ends (ScanCandidates); this thread picks the ends in order
// (BoundaryPicker) and hands the chunks, in groups, to a worker, which hashes them and (unless known) compresses
// them (SealChunks); this thread hands the results on to the sink in file order. Windows read ahead and results in
// flight are bounded, so memory does not grow with the data.
class ChunkPipeline {
 public:
  ChunkPipeline(SourceTree* tree, const ChunkOptions& options, const ChunkSink& sink)
      : tree_(tree),
        options_(options),
        sink_(sink),
        reader_(tree, options.unchanged, [this](uint64_t bytes) { Skipped(bytes); }),
        pool_(std::max(1, options.threads), 64) {}

  absl::StatusOr<ChunkStats> Run() {
    for (;;) {
      ReadAhead();
      if (windows_.empty()) break;
      RETURN_IF_ERROR(Cut(std::move(windows_.front())));
      windows_.pop_front();
    }
    SubmitSegment();
    SubmitGroup();
    RETURN_IF_ERROR(Drain(0));
    RETURN_IF_ERROR(pool_.Drain());
    RemoveDropped(reader_.dropped(), tree_);
    stats_.chunks = 0;
    for (const proto::Entry& e : tree_->entries) stats_.chunks += e.chunks_size();
    if (options_.progress) options_.progress(tree_->bytes, tree_->bytes);
    return stats_;
  }

 private:
  static constexpr size_t kReadAhead = 3;             // windows
  static constexpr size_t kInFlight = 16;             // groups of chunks ...
  static constexpr size_t kInFlightBytes = 16 << 20;  // ... and their bytes (a group may be one 4 MiB segment)
  // Chunks go to the workers in groups of about 1 MiB (one hand-over per chunk would cost more wake-ups than the
  // hashing saves).
  static constexpr size_t kGroupBytes = 1 << 20;

  // A file packed into a segment: the bytes [offset, offset + length) of it, from attempt `attempt` at `entry`.
  struct Packed {
    size_t entry;
    uint8_t attempt;
    uint64_t offset, length;
  };

  struct Scanned {
    Window window;
    std::future<std::vector<uint64_t>> candidates;
  };

  void Progress() {
    if (options_.progress) options_.progress(std::min(done_bytes_, tree_->bytes), tree_->bytes);
  }

  void Skipped(uint64_t bytes) {
    ++stats_.files_unchanged;
    done_bytes_ += bytes;
    Progress();
  }

  // Reads windows until kReadAhead wait, each handed to a worker to scan.
  void ReadAhead() {
    while (more_ && windows_.size() < kReadAhead) {
      Scanned s;
      more_ = reader_.Next(&s.window);
      if (!more_) break;
      s.candidates = Scan(s.window);
      windows_.push_back(std::move(s));
    }
  }

  std::future<std::vector<uint64_t>> Scan(const Window& w) {
    if (w.first && w.eof && w.size <= kPackMax) {  // a small file is packed whole: nothing to scan
      std::promise<std::vector<uint64_t>> none;
      none.set_value({});
      return none.get_future();
    }
    return Async<std::vector<uint64_t>>(&pool_, [buf = w.buf, warmup = w.warmup, size = w.size, start = w.start] {
      std::vector<uint64_t> c;
      ScanCandidates(reinterpret_cast<const unsigned char*>(buf->data()) + warmup, warmup, size, start, &c);
      return c;
    });
  }

  // Cuts the chunks that end in the window `s` (those begun in earlier windows from `carry_`) and keeps the rest
  // of its bytes for the next.
  absl::Status Cut(Scanned s) {
    const Window& w = s.window;
    if (w.first && w.eof && w.size > 0 && w.size <= kPackMax) return Pack(w);
    if (w.first) {
      picker_ = BoundaryPicker();
      chunk_start_ = 0;
      carry_.clear();
    }
    ends_.clear();
    picker_.Feed(s.candidates.get(), w.start + w.size, w.eof, &ends_);
    const char* own = w.buf->data() + w.warmup;
    for (uint64_t end : ends_) {
      const size_t length = end - chunk_start_;
      if (chunk_start_ >= w.start && w.size < WindowReader::kWindow / 8) {
        // A small file's window: its bytes are copied out, so the 2 MiB buffer goes back to the pool now (a group
        // of a thousand small files would otherwise hold a thousand window buffers, gigabytes, until it is hashed).
        auto copy = std::make_shared<const std::string>(own + (chunk_start_ - w.start), length);
        Submit({std::move(copy), 0, length, w.entry, w.attempt});
      } else if (chunk_start_ >= w.start) {
        Submit({w.buf, w.warmup + (chunk_start_ - w.start), length, w.entry, w.attempt});
      } else {
        carry_.append(own, end - w.start);
        Submit({std::make_shared<const std::string>(std::move(carry_)), 0, length, w.entry, w.attempt});
        carry_.clear();
      }
      chunk_start_ = end;
      RETURN_IF_ERROR(Drain(kInFlight));
    }
    uint64_t kept = std::max(chunk_start_, w.start);
    carry_.append(own + (kept - w.start), w.start + w.size - kept);
    return Drain(kInFlight);
  }

  // Appends a small file's bytes (its whole stored stream: one window) to the segment being filled, which is sealed
  // where tree.h says.
  absl::Status Pack(const Window& w) {
    // A read begun again since (the file changed while it was read: WindowReader checks at its last byte, before
    // the window is handed here) or dropped takes no room.
    if (!reader_.Current(w.entry, w.attempt)) return Drain(kInFlight);
    const absl::string_view bytes(w.buf->data() + w.warmup, w.size);
    if (options_.same_bytes && options_.same_bytes(&tree_->entries[w.entry], bytes)) {
      ++stats_.files_same_bytes;
      done_bytes_ += w.size;
      Progress();
      return Drain(kInFlight);
    }
    segment_files_.push_back({w.entry, w.attempt, segment_.size(), w.size});
    segment_.append(bytes.data(), bytes.size());
    if (segment_.size() >= kSegmentMaxBytes ||
        (segment_.size() >= kSegmentMinBytes &&
         CutAfter(tree_->entries[w.entry].path(), w.size, kSegmentAverageExtra))) {
      SubmitSegment();
    }
    return Drain(kInFlight);
  }

  void SubmitSegment() {
    if (segment_files_.empty()) return;
    auto holder = std::make_shared<const std::string>(std::move(segment_));
    auto ends = std::make_shared<std::vector<uint64_t>>();
    for (const Packed& f : segment_files_) ends->push_back(f.offset + f.length);
    sealing_.push_back(std::move(segment_files_));
    segment_files_.clear();
    segment_ = std::string();
    segment_.reserve(kSegmentMinBytes + kPackMax);  // most segments end below: no growing copies
    Submit({holder, 0, holder->size(), kSegmentEntry, 0, std::move(ends)});
  }

  void Submit(ChunkPiece piece) {
    group_bytes_ += piece.length;
    group_.push_back(std::move(piece));
    if (group_bytes_ >= kGroupBytes) SubmitGroup();
  }

  void SubmitGroup() {
    if (group_.empty()) return;
    in_flight_bytes_ += group_bytes_;
    results_.push_back({Async<std::vector<SealedChunk>>(&pool_,
                                                        [this, pieces = std::move(group_)] {
                                                          return SealChunks(pieces, options_.known, options_.zstd_level,
                                                                            &frames_);
                                                        }),
                        group_bytes_});
    group_.clear();
    group_bytes_ = 0;
  }

  // Hands on the finished results, in order, until at most `keep` are in flight.
  absl::Status Drain(size_t keep) {
    while (!results_.empty() &&
           (results_.size() > keep || (keep > 0 && in_flight_bytes_ > kInFlightBytes) ||
            results_.front().sealed.wait_for(std::chrono::seconds(0)) == std::future_status::ready)) {
      for (SealedChunk& c : results_.front().sealed.get()) RETURN_IF_ERROR(HandOn(std::move(c)));
      in_flight_bytes_ -= results_.front().bytes;
      results_.pop_front();
    }
    return absl::OkStatus();
  }

  // Records a chunk in its file's entry and gives it to the sink unless it is known or was seen in this run.
  absl::Status HandOn(SealedChunk c) {
    if (c.entry == kSegmentEntry) {
      if (!HandOnSegment(c.hash, c.file_digests)) return absl::OkStatus();
    } else {
      if (!reader_.Current(c.entry, c.attempt)) return absl::OkStatus();  // from a dropped read
      tree_->entries[c.entry].add_chunks(c.hash);
      done_bytes_ += c.length;
    }
    Progress();
    if (c.known || !seen_.insert(c.hash).second) return absl::OkStatus();
    if (c.frame.empty()) return absl::InternalError("zstd compression failed");
    RETURN_IF_ERROR(sink_(c.hash, c.length, c.frame));
    frames_.Give(std::move(c.frame));
    ++stats_.new_chunks;
    stats_.new_bytes += c.length;
    return absl::OkStatus();
  }

  // Records the segment `hash` (the next one sealed) in the entries of the files packed into it; false when none of
  // them is still wanted (each was dropped or read again), so it need not be stored.
  bool HandOnSegment(const std::string& hash, const std::vector<std::string>& digests) {
    std::vector<Packed> files = std::move(sealing_.front());
    sealing_.pop_front();
    bool wanted = false;
    for (size_t i = 0; i < files.size(); ++i) {
      const Packed& f = files[i];
      if (!reader_.Current(f.entry, f.attempt)) continue;
      proto::Entry& e = tree_->entries[f.entry];
      e.add_chunks(hash);
      e.set_chunkoffset(f.offset);
      if (i < digests.size()) e.set_digest(digests[i]);
      done_bytes_ += f.length;
      wanted = true;
    }
    return wanted;
  }

  SourceTree* tree_;
  const ChunkOptions& options_;
  const ChunkSink& sink_;
  ChunkStats stats_;
  uint64_t done_bytes_ = 0;
  std::unordered_set<std::string> seen_;
  FramePool frames_;
  WindowReader reader_;  // before every window buffer's holder below: its buffer pool outlives them
  bool more_ = true;
  std::deque<Scanned> windows_;
  BoundaryPicker picker_;
  uint64_t chunk_start_ = 0;
  std::string carry_;  // the current chunk's bytes from earlier windows
  std::vector<uint64_t> ends_;
  std::string segment_;                      // the segment being filled ...
  std::vector<Packed> segment_files_;        // ... and the files in it
  std::deque<std::vector<Packed>> sealing_;  // the files of each segment submitted and not yet handed on, in order
  std::vector<ChunkPiece> group_;
  size_t group_bytes_ = 0;
  struct Sealing {
    std::future<std::vector<SealedChunk>> sealed;
    size_t bytes;  // the group's bytes, counted in in_flight_bytes_ until handed on
  };
  std::deque<Sealing> results_;
  size_t in_flight_bytes_ = 0;
  concurrent::BoundedPool pool_;  // last: joined before what its jobs use goes away
};

}  // namespace

bool CutAfter(const std::string& path, uint64_t weight, uint64_t period) {
  const std::string digest = crypto::Sha256(path);
  uint64_t h = 0;
  std::memcpy(&h, digest.data(), sizeof(h));
  return h % period < weight;
}

absl::StatusOr<ChunkStats> ChunkTree(SourceTree& tree, const ChunkOptions& options, const ChunkSink& sink) {
  return ChunkPipeline(&tree, options, sink).Run();
}

}  // namespace vmb::offline
