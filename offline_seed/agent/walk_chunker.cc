#include "offline_seed/agent/walk_chunker.h"

#include <algorithm>
#include <mutex>
#include <unordered_set>
#include <utility>

#include "common/status/status_macros.h"

namespace vmb::offline {
namespace {

// Gathers the walk's entries into batches and chunks each (see WalkAndChunk).
class BatchChunker {
 public:
  BatchChunker(const ChunkOptions& options, uint64_t total, index::DigestSet& stored, const ChunkSink& sink,
               const EntryOut& out, size_t batch_entries)
      : options_(options),
        total_(total),
        stored_(stored),
        sink_(sink),
        out_(out),
        batch_entries_(std::max<size_t>(1, batch_entries)) {}

  // The walk's sink: false (stop the walk) once a batch failed.
  bool Add(proto::Entry e, const std::string& full) {
    if (e.type() == "hardlink" && dropped_.count(e.target())) return true;  // its file was left out earlier
    if (e.type() == "file") {
      batch_.files.emplace_back(full, batch_.entries.size());
      batch_.bytes += e.size();
    }
    batch_.entries.push_back(std::move(e));
    // A batch ends where segments may (tree.h): after about one in 64 entries once it holds batch_entries, so a
    // tree walked again is cut into the same batches, and into the same ones again soon after a change.
    const size_t n = batch_.entries.size();
    if (n >= batch_entries_ && (n >= 8 * batch_entries_ || CutAfter(batch_.entries.back().path(), 1, 64))) {
      status_ = Flush();
    }
    return status_.ok();
  }

  const absl::Status& status() const { return status_; }

  // Chunks the batch and hands its entries on.
  absl::Status Flush() {
    if (batch_.entries.empty()) return absl::OkStatus();
    std::vector<std::string> files;  // the batch's files, to find those ChunkTree left out
    for (const auto& [full, index] : batch_.files) files.push_back(batch_.entries[index].path());
    ChunkOptions co = options_;
    std::mutex lookup_mu;
    absl::Status lookup_error;  // the first failed lookup: the chunk is stored again at worst, then the batch fails
    co.known = [&](const std::string& h) {
      absl::StatusOr<bool> stored = stored_.Contains(h);
      if (!stored.ok()) {
        std::lock_guard<std::mutex> l(lookup_mu);
        if (lookup_error.ok()) lookup_error = stored.status();
      }
      return (stored.ok() && *stored) || (options_.known && options_.known(h));
    };
    co.progress = [this](uint64_t done, uint64_t) {
      if (options_.progress) options_.progress(std::min(done_ + done, total_), total_);
    };
    std::vector<std::string> fresh;  // added to the stored set once the batch is done
    absl::StatusOr<ChunkStats> s =
        ChunkTree(batch_, co, [&](const std::string& hash, uint32_t length, const std::string& frame) {
          fresh.push_back(hash);
          return sink_(hash, length, frame);
        });
    RETURN_IF_ERROR(s.status());
    RETURN_IF_ERROR(lookup_error);
    RETURN_IF_ERROR(stored_.Insert(std::move(fresh)).status());
    result_.stats.chunks += s->chunks;
    result_.stats.new_chunks += s->new_chunks;
    result_.stats.new_bytes += s->new_bytes;
    result_.stats.files_unchanged += s->files_unchanged;
    result_.stats.files_same_bytes += s->files_same_bytes;
    result_.bytes += batch_.bytes;
    done_ += batch_.bytes;
    for (proto::Problem& p : batch_.problems) result_.problems.push_back(std::move(p));
    NoteDropped(files);
    for (proto::Entry& e : batch_.entries) RETURN_IF_ERROR(out_(std::move(e)));
    batch_ = SourceTree();
    return absl::OkStatus();
  }

  WalkedTree& result() { return result_; }

 private:
  // Files of `files` no longer in the batch (in order, so one pass) were left out: later hard links go too.
  void NoteDropped(const std::vector<std::string>& files) {
    size_t f = 0;
    for (const proto::Entry& e : batch_.entries) {
      if (e.type() != "file") continue;
      while (f < files.size() && files[f] != e.path()) dropped_.insert(files[f++]);
      if (f < files.size()) ++f;
    }
    while (f < files.size()) dropped_.insert(files[f++]);
  }

  const ChunkOptions& options_;
  const uint64_t total_;
  index::DigestSet& stored_;
  const ChunkSink& sink_;
  const EntryOut& out_;
  const size_t batch_entries_;
  SourceTree batch_;
  std::unordered_set<std::string> dropped_;  // paths of files left out (few)
  uint64_t done_ = 0;
  WalkedTree result_;
  absl::Status status_;
};

}  // namespace

absl::StatusOr<WalkedTree> WalkAndChunk(const std::vector<std::string>& sources, const std::string& exclude,
                                        const ChunkOptions& options, uint64_t total_bytes, index::DigestSet& stored,
                                        const ChunkSink& sink, const EntryOut& out, size_t batch_entries) {
  BatchChunker chunker(options, total_bytes, stored, sink, out, batch_entries);
  ASSIGN_OR_RETURN(SourceTree walked,
                   WalkSources(sources, exclude, [&chunker](proto::Entry e, const std::string& full) {
                     return chunker.Add(std::move(e), full);
                   }));
  RETURN_IF_ERROR(chunker.status());
  RETURN_IF_ERROR(chunker.Flush());
  WalkedTree& result = chunker.result();
  result.roots = std::move(walked.roots);
  // The walk's problems first (it noted them before the reads of the files it reached later).
  walked.problems.insert(walked.problems.end(), std::make_move_iterator(result.problems.begin()),
                         std::make_move_iterator(result.problems.end()));
  result.problems = std::move(walked.problems);
  if (options.progress) options.progress(result.bytes, result.bytes);
  return std::move(result);
}

}  // namespace vmb::offline
