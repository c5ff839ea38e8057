#include "offline_seed/vault/vault.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/concurrent/bounded_pool.h"
#include "common/status/status_macros.h"
#include "offline_seed/agent/catalogue_file.h"
#include "offline_seed/agent/walk_chunker.h"
#include "offline_seed/vault/pack_writer.h"
#include "offline_seed/vault/range_restore.h"
#include "offline_seed/vault/restore_plan.h"
#include "offline_seed/vault/seed_copy.h"
#include "offline_seed/vault/staged_blocks.h"
#include "offline_seed/vault/unchanged_files.h"
#include "offline_seed/vault/writer_lease.h"

namespace vmb::vault {

Vault::Vault(VaultOptions options) : o_(std::move(options)), points_(o_.client, o_.container, o_.item) {}

void Vault::Progress(const std::string& phase, uint64_t done, uint64_t total) {
  if (!o_.progress) return;
  std::lock_guard<std::mutex> lock(progress_mu_);
  o_.progress(phase, done, total);
}

absl::StatusOr<std::vector<proto::RecoveryPoint>> Vault::List() { return points_.List(); }

absl::StatusOr<proto::RecoveryPoint> Vault::Get(int number) { return points_.Get(number); }

absl::StatusOr<std::unique_ptr<WriterLease>> Vault::Lock() {
  return WriterLease::Acquire(o_.client, o_.container.WithBlob(o_.item + "/writer.lock"), o_.item, *o_.clock);
}

absl::Status Vault::Finish(WriterLease& lease, proto::RecoveryPoint point, PointStreams streams, BackupOutcome* out) {
  point.set_createdat(FormatUtc(o_.clock->Now()));
  RETURN_IF_ERROR(lease.Check());
  return points_.Commit(std::move(point), std::move(streams), &out->point);
}

namespace {

// Adds a catalogue record's entries and chunks to recovery point 1's figures.
void CountSeeded(const offline::proto::Catalogue& r, proto::RecoveryPoint* rp) {
  for (const std::string& root : r.roots()) rp->add_roots(root);
  for (const offline::proto::Entry& e : r.entries()) {
    if (e.type() != "file") continue;
    rp->set_files(rp->files() + 1);
    rp->set_sourcebytes(rp->sourcebytes() + e.size());
    rp->set_chunks(rp->chunks() + static_cast<uint64_t>(e.chunks_size()));
  }
  for (const offline::proto::Chunk& c : r.chunks()) {
    rp->set_newchunks(rp->newchunks() + 1);
    rp->set_newbytes(rp->newbytes() + c.length());
  }
}

}  // namespace

absl::StatusOr<BackupOutcome> Vault::Seed(const std::vector<blob::BlobUri>& images, const std::string& catalogue,
                                          uint64_t staged_bytes) {
  RETURN_IF_ERROR(o_.client->CreateContainer(o_.container));
  ASSIGN_OR_RETURN(std::unique_ptr<WriterLease> lease, Lock());
  ASSIGN_OR_RETURN(std::vector<proto::RecoveryPoint> existing, List());
  if (!existing.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(o_.item, " already has ", existing.size(),
                                                      " recovery point(s); the offline seed is copied only once"));
  }
  proto::RecoveryPoint rp;
  rp.set_number(1);
  rp.set_kind("Seeded");
  std::atomic<uint64_t> done{0};
  SeedCopyOptions so;
  so.client = o_.client;
  so.images = images;
  so.container = o_.container;
  so.item = o_.item;
  so.block_bytes = o_.block_bytes;
  so.parallelism = o_.parallelism;
  so.done = [&](uint64_t bytes, bool sent) {
    uint64_t now = done += bytes;
    if (sent) Progress("vault copy", now, std::max(now, staged_bytes));
  };
  so.before_commit = [&lease] { return lease->Check(); };
  ASSIGN_OR_RETURN(PointStreams streams, PointStreams::Create());
  SeedCopier copier(std::move(so));
  RETURN_IF_ERROR(offline::ForEachCatalogueRecord(catalogue, [&](offline::proto::Catalogue& r) -> absl::Status {
    CountSeeded(r, &rp);
    for (const offline::proto::Chunk& c : r.chunks()) {
      ASSIGN_OR_RETURN(offline::proto::Chunk located, copier.Add(c));
      RETURN_IF_ERROR(streams.chunks->records().AddChunk(std::move(located)));
    }
    for (offline::proto::Entry& e : *r.mutable_entries()) {
      RETURN_IF_ERROR(streams.tree->records().AddEntry(std::move(e)));
    }
    return absl::OkStatus();
  }));
  RETURN_IF_ERROR(copier.Finish());
  BackupOutcome out;
  out.blocks_uploaded = copier.counts().blocks_uploaded;
  out.blocks_reused = copier.counts().blocks_reused;
  RETURN_IF_ERROR(Finish(*lease, std::move(rp), std::move(streams), &out));
  return out;
}

absl::StatusOr<proto::RecoveryPoint> Vault::BeginIncremental(std::unique_ptr<WriterLease>* lease) {
  ASSIGN_OR_RETURN(std::vector<proto::RecoveryPoint> existing, List());
  if (!existing.empty()) {
    // The lease, then the points again: the recovery point number and the pack's name are this writer's until it
    // commits.
    ASSIGN_OR_RETURN(*lease, Lock());
    ASSIGN_OR_RETURN(existing, List());
  }
  if (existing.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(o_.item,
                     " has no recovery point yet: the initial backup is still on its way (offline seeding). Check "
                     "`seedagent status`; the first backup after the import completes copies it into the vault"));
  }
  return existing.back();
}

absl::StatusOr<std::unique_ptr<UnchangedFiles>> Vault::LoadUnchanged(const proto::RecoveryPoint& previous) {
  ASSIGN_OR_RETURN(std::unique_ptr<UnchangedFiles> unchanged, UnchangedFiles::Open());
  // List gives the summary; a point written before the streams holds its tree in its JSON.
  proto::RecoveryPoint whole = previous;
  if (previous.tree().empty()) {
    ASSIGN_OR_RETURN(whole, Get(previous.number()));
  }
  std::vector<offline::proto::Entry> batch;
  auto flush = [&]() {
    absl::Status added = unchanged->Add(batch);
    batch.clear();
    return added;
  };
  RETURN_IF_ERROR(points_.ForEachEntry(whole, [&](offline::proto::Entry e) {
    batch.push_back(std::move(e));
    return batch.size() < 4096 ? absl::OkStatus() : flush();
  }));
  RETURN_IF_ERROR(flush());
  return unchanged;
}

namespace {

// The chunks the vault holds already, read into a set on disk on a thread of its own while the tree is walked: a
// backup in which no file changed never asks and never waits (a million chunks take seconds to read in).
class KnownChunks {
 public:
  KnownChunks(RecoveryPoints& points, int upto)
      : thread_([this, &points, upto] {
          absl::StatusOr<std::unique_ptr<index::DigestSet>> set = points.KnownChunks(upto, &stop_);
          std::lock_guard<std::mutex> lock(mu_);
          if (set.ok()) set_ = *std::move(set);
          status_ = set.status();
          done_ = true;
          loaded_.notify_all();
        }) {}
  ~KnownChunks() { (void)Finish(); }

  // Whether the vault holds `hash` (waits for the set; false when it could not be read: see Finish). Thread-safe.
  bool Contains(const std::string& hash) {
    std::unique_lock<std::mutex> lock(mu_);
    asked_ = true;
    loaded_.wait(lock, [this] { return done_; });
    if (set_ == nullptr) return false;
    lock.unlock();
    absl::StatusOr<bool> known = set_->Contains(hash);
    if (known.ok()) return *known;
    lock.lock();
    if (lookup_error_.ok()) lookup_error_ = known.status();
    return false;
  }
  // Stops the reading if nothing asked; if something did, the reading's or a lookup's error (the chunks asked about
  // were then sent again: the backup fails rather than pass that by).
  absl::Status Finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    if (!asked_) return absl::OkStatus();
    return status_.ok() ? lookup_error_ : status_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable loaded_;
  bool done_ = false, asked_ = false;
  absl::Status status_, lookup_error_;
  std::unique_ptr<index::DigestSet> set_;
  std::thread thread_;  // last: started once the rest is ready
};

}  // namespace

absl::Status Vault::UploadNewChunks(WriterLease& lease, const std::vector<std::string>& sources,
                                    const offline::ChunkOptions& chunk_options, bool full_scan,
                                    const proto::RecoveryPoint& previous, PointStreams& streams,
                                    proto::RecoveryPoint* point, BackupOutcome* out) {
  const int number = point->number();
  KnownChunks known(points_, number - 1);
  // This run's new chunks (WalkAndChunk adds each once its batch is stored).
  ASSIGN_OR_RETURN(std::unique_ptr<index::DigestSet> stored, index::DigestSet::Open(""));
  PackWriterOptions po;
  po.client = o_.client;
  po.pack_name = points_.Name("packs", number);
  po.pack = o_.container.WithBlob(po.pack_name);
  ASSIGN_OR_RETURN(po.staged, GetStagedBlocks(*o_.client, po.pack));
  po.block_bytes = o_.block_bytes;
  po.parallelism = o_.parallelism;
  po.bytes_uploaded = &bytes_uploaded_;
  PackWriter writer(std::move(po));

  offline::ChunkOptions co = chunk_options;
  co.known = [&known](const std::string& hash) { return known.Contains(hash); };
  // Files unchanged since the previous point keep their chunks unread (not in a full scan); small files read again
  // whose bytes did not change keep their place in their old segments (always: that goes by their bytes).
  ASSIGN_OR_RETURN(std::unique_ptr<UnchangedFiles> unchanged, LoadUnchanged(previous));
  if (!full_scan) co.unchanged = [&unchanged](offline::proto::Entry* e) { return unchanged->Fill(e); };
  co.same_bytes = [&unchanged](offline::proto::Entry* e, absl::string_view bytes) {
    return unchanged->SameBytes(e, bytes);
  };
  uint64_t files = 0;
  absl::StatusOr<offline::WalkedTree> walked = offline::WalkAndChunk(
      sources, "", co, previous.sourcebytes(), *stored,
      [&writer](const std::string& hash, uint32_t length, const std::string& frame) {
        return writer.Add(hash, length, frame);
      },
      [&](offline::proto::Entry e) {
        if (e.type() == "file") ++files;
        return streams.tree->records().AddEntry(std::move(e));
      });
  RETURN_IF_ERROR(writer.Close(/*flush_last=*/walked.ok()));
  RETURN_IF_ERROR(walked.status());
  RETURN_IF_ERROR(known.Finish());
  out->blocks_uploaded = writer.blocks_uploaded();
  out->blocks_reused = writer.blocks_reused();
  out->files_unchanged = walked->stats.files_unchanged;
  out->files_same_bytes = walked->stats.files_same_bytes;
  for (const std::string& r : walked->roots) point->add_roots(r);
  point->set_files(files);
  point->set_sourcebytes(walked->bytes);
  for (const offline::proto::Problem& p : walked->problems) *point->add_problems() = p;
  point->set_chunks(walked->stats.chunks);
  point->set_newchunks(walked->stats.new_chunks);
  point->set_newbytes(walked->stats.new_bytes);
  // Committing the block list replaces the pack blob whole: a run that stalled past its lease while another took the
  // item over must not replace the pack that run committed under the same name.
  RETURN_IF_ERROR(lease.Check());
  ASSIGN_OR_RETURN(proto::PackIndex index, writer.Commit());
  for (offline::proto::Chunk& c : *index.mutable_chunks()) {
    RETURN_IF_ERROR(streams.chunks->records().AddChunk(std::move(c)));
  }
  return absl::OkStatus();
}

absl::StatusOr<BackupOutcome> Vault::Backup(const std::vector<std::string>& sources,
                                            const offline::ChunkOptions& chunk_options, bool full_scan) {
  std::unique_ptr<WriterLease> lease;
  ASSIGN_OR_RETURN(proto::RecoveryPoint previous, BeginIncremental(&lease));
  BackupOutcome out;
  proto::RecoveryPoint rp;
  rp.set_number(previous.number() + 1);
  rp.set_kind("Incremental");
  const uint64_t before = bytes_uploaded_.load();
  ASSIGN_OR_RETURN(PointStreams streams, PointStreams::Create());
  RETURN_IF_ERROR(UploadNewChunks(*lease, sources, chunk_options, full_scan, previous, streams, &rp, &out));
  rp.set_bytesuploaded(bytes_uploaded_.load() - before);
  RETURN_IF_ERROR(Finish(*lease, std::move(rp), std::move(streams), &out));
  return out;
}

absl::Status Vault::Restore(int number, const std::string& target, int threads, offline::RestoreReport* report) {
  RETURN_IF_ERROR(offline::CheckRestoreTarget(target));  // before anything is fetched
  ASSIGN_OR_RETURN(proto::RecoveryPoint rp, Get(number));
  ASSIGN_OR_RETURN(std::unique_ptr<ChunkLocations> index, points_.LoadChunks(number));
  std::atomic<uint64_t> done{0};
  // The tree is read as a stream, once per pass of the restore (offline::RestoreTreeFilled), never held whole.
  offline::EntrySource source = [this, &rp](const offline::EntryEach& each) { return points_.ForEachEntry(rp, each); };
  ChunkLookup find = [&index](const std::string& h) { return index->Find(h); };
  auto fill = [&](const std::vector<const offline::proto::Entry*>& files) -> absl::Status {
    ASSIGN_OR_RETURN(const RestorePlan plan, PlanRestore(files, find, target));
    RangeTarget out{&files, &target, [&](uint64_t bytes) { Progress("restore", done += bytes, rp.sourcebytes()); }};
    concurrent::BoundedPool pool(threads);
    for (const PackRange& r : plan.ranges) {
      pool.Submit([&, r] { return RestoreRange(*o_.client, o_.container, plan, r, out); });
    }
    return pool.Wait();
  };
  return offline::RestoreTreeFilled(source, target, fill, report);
}

}  // namespace vmb::vault
