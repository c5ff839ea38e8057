#include "offline_seed/vault/vault.h"

#include <atomic>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "common/concurrent/bounded_pool.h"
#include "common/status/status_macros.h"
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

absl::Status Vault::Finish(WriterLease& lease, proto::RecoveryPoint point, const proto::PackIndex& index,
                           BackupOutcome* out) {
  point.set_createdat(FormatUtc(o_.clock->Now()));
  RETURN_IF_ERROR(lease.Check());
  RETURN_IF_ERROR(points_.Commit(point, index));
  point.clear_entries();
  out->point = std::move(point);
  return absl::OkStatus();
}

absl::StatusOr<BackupOutcome> Vault::Seed(const std::vector<blob::BlobUri>& images, offline::proto::Catalogue cat) {
  RETURN_IF_ERROR(o_.client->CreateContainer(o_.container));
  ASSIGN_OR_RETURN(std::unique_ptr<WriterLease> lease, Lock());
  ASSIGN_OR_RETURN(std::vector<proto::RecoveryPoint> existing, List());
  if (!existing.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(o_.item, " already has ", existing.size(),
                                                      " recovery point(s); the offline seed is copied only once"));
  }
  proto::PackIndex index;
  ASSIGN_OR_RETURN(std::vector<SeedPack> packs, PlanSeedPacks(cat, images.size(), o_.item, o_.block_bytes, &index));
  const uint64_t total = SeedBytes(cat);
  std::atomic<uint64_t> done{0};
  SeedDone on_done = [&](uint64_t bytes, bool sent) {
    uint64_t now = done += bytes;
    if (sent) Progress("vault copy", now, total);
  };
  BackupOutcome out;
  SeedCopyCounts counts;
  for (size_t i = 0; i < images.size(); ++i) {
    RETURN_IF_ERROR(lease->Check());  // each pack is committed whole: only while this run still holds the item
    RETURN_IF_ERROR(CopySeedPack(*o_.client, images[i], o_.container.WithBlob(packs[i].name), packs[i], o_.parallelism,
                                 on_done, &counts));
  }
  out.blocks_uploaded = counts.blocks_uploaded;
  out.blocks_reused = counts.blocks_reused;
  RETURN_IF_ERROR(Finish(*lease, SeededPoint(&cat), index, &out));
  return out;
}

absl::StatusOr<int> Vault::BeginIncremental(std::unique_ptr<WriterLease>* lease) {
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
  return existing.back().number() + 1;
}

absl::StatusOr<proto::PackIndex> Vault::UploadNewChunks(WriterLease& lease, offline::SourceTree& tree,
                                                        const offline::ChunkOptions& chunk_options, bool full_scan,
                                                        int number, offline::ChunkStats* stats, BackupOutcome* out) {
  ASSIGN_OR_RETURN(ChunkIndex known, points_.LoadChunks(number - 1));
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
  co.known = [&known](const std::string& hash) { return known.count(hash) > 0; };
  // Files unchanged since the previous point keep their chunks unread.
  std::unique_ptr<UnchangedFiles> unchanged;
  if (!full_scan) {
    ASSIGN_OR_RETURN(proto::RecoveryPoint last, Get(number - 1));
    unchanged = std::make_unique<UnchangedFiles>(std::move(last));
    co.unchanged = [&unchanged](const offline::proto::Entry& e) { return unchanged->Find(e); };
  }
  absl::StatusOr<offline::ChunkStats> chunked =
      offline::ChunkTree(tree, co, [&writer](const std::string& hash, uint32_t length, const std::string& frame) {
        return writer.Add(hash, length, frame);
      });
  RETURN_IF_ERROR(writer.Close(/*flush_last=*/chunked.ok()));
  RETURN_IF_ERROR(chunked.status());
  *stats = *chunked;
  out->blocks_uploaded = writer.blocks_uploaded();
  out->blocks_reused = writer.blocks_reused();
  // Committing the block list replaces the pack blob whole: a run that stalled past its lease while another took the
  // item over must not replace the pack that run committed under the same name.
  RETURN_IF_ERROR(lease.Check());
  return writer.Commit();
}

namespace {

// Incremental point `number` of `tree` (no creation time, no upload figure yet).
// The point of `tree` once chunked; its entries are moved into the point, not copied.
proto::RecoveryPoint IncrementalPoint(int number, offline::SourceTree& tree, const offline::ChunkStats& stats) {
  proto::RecoveryPoint rp;
  rp.set_number(number);
  rp.set_kind("Incremental");
  for (const std::string& r : tree.roots) rp.add_roots(r);
  rp.mutable_entries()->Reserve(static_cast<int>(tree.entries.size()));
  for (auto& e : tree.entries) {
    if (e.type() == "file") rp.set_files(rp.files() + 1);
    *rp.add_entries() = std::move(e);
  }
  std::vector<offline::proto::Entry>().swap(tree.entries);
  rp.set_sourcebytes(tree.bytes);
  for (const offline::proto::Problem& p : tree.problems) *rp.add_problems() = p;
  rp.set_chunks(stats.chunks);
  rp.set_newchunks(stats.new_chunks);
  rp.set_newbytes(stats.new_bytes);
  return rp;
}

}  // namespace

absl::StatusOr<BackupOutcome> Vault::Backup(offline::SourceTree& tree, const offline::ChunkOptions& chunk_options,
                                            bool full_scan) {
  std::unique_ptr<WriterLease> lease;
  ASSIGN_OR_RETURN(int number, BeginIncremental(&lease));
  BackupOutcome out;
  offline::ChunkStats stats;
  const uint64_t before = bytes_uploaded_.load();
  ASSIGN_OR_RETURN(proto::PackIndex index,
                   UploadNewChunks(*lease, tree, chunk_options, full_scan, number, &stats, &out));
  proto::RecoveryPoint rp = IncrementalPoint(number, tree, stats);
  rp.set_bytesuploaded(bytes_uploaded_.load() - before);
  out.files_unchanged = stats.files_unchanged;
  RETURN_IF_ERROR(Finish(*lease, std::move(rp), index, &out));
  return out;
}

absl::Status Vault::Restore(int number, const std::string& target, int threads, offline::RestoreReport* report) {
  RETURN_IF_ERROR(offline::CheckRestoreTarget(target));  // before anything is fetched
  ASSIGN_OR_RETURN(proto::RecoveryPoint rp, Get(number));
  ASSIGN_OR_RETURN(const ChunkIndex index, points_.LoadChunks(number));
  std::atomic<uint64_t> done{0};
  const std::vector<offline::proto::Entry> entries = offline::TakeEntries(rp.mutable_entries());
  auto fill = [&](const std::vector<const offline::proto::Entry*>& files) -> absl::Status {
    ASSIGN_OR_RETURN(const RestorePlan plan, PlanRestore(files, index, target));
    RangeTarget out{&files, &target, [&](uint64_t bytes) { Progress("restore", done += bytes, rp.sourcebytes()); }};
    concurrent::BoundedPool pool(threads);
    for (const PackRange& r : plan.ranges) {
      pool.Submit([&, r] { return RestoreRange(*o_.client, o_.container, plan, r, out); });
    }
    return pool.Wait();
  };
  return offline::RestoreTreeFilled(entries, target, fill, report);
}

}  // namespace vmb::vault
