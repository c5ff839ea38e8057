// The backup agent's vault engine: the recovery points of a protected item kept in the Recovery Services vault,
// which is a blob container to this agent (Azurite in the tests). Each protected item (keyed by the id made at
// initiate) keeps under "<item>/":
//   packs/seed-NNNN      block blobs: the seeded images copied from the import's storage account (verbatim frames)
//   packs/rp-NNNN        block blobs: the chunks recovery point NNNN added (zstd frames, back to back)
//   trees/rp-NNNN-<writer>.jsonl.zst   the point's tree: its catalogue entries, a stream (point_streams.h)
//   index/rp-NNNN-<writer>.jsonl.zst   where each chunk the point added lives (pack, offset, lengths, SHA-256)
//   recovery-points/rp-NNNN.json   the point's figures and the names of its tree and index; written last (only if
//                  absent: a point is never replaced), it commits the point
//   writer.lock    leased (60 s, renewed) by the one backup that may write the item; its metadata names the holder
//
// Every copy and upload is resumable: packs are staged as blocks whose ids name their content (the seed: the image
// range; incremental: SHA-256 of the chunk hashes), so a run that was interrupted sends only the blocks the service
// does not hold uncommitted already. Every chunk is checked (zstd + SHA-256) before it is put into the vault.
//
// Memory does not grow with the item: trees are written and read as streams, and the chunks already stored, where
// they live and the previous point's files are looked up in tables on disk (temporary files, index::Table).
//
// Vault ties together one part per job: recovery_points.h (the index of committed points and their chunks),
// writer_lease.h (one writer per item), seed_copy.h (point 1 from the import), pack_writer.h and unchanged_files.h
// (incremental points), restore_plan.h and range_restore.h (restores).
#ifndef VMBACKUP_OFFLINE_SEED_VAULT_VAULT_H_
#define VMBACKUP_OFFLINE_SEED_VAULT_VAULT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/blob/blob_client.h"
#include "common/time/clock.h"
#include "offline_seed/agent/tree.h"
#include "offline_seed/vault/recovery_points.h"
#include "offline_seed/vault/vault.pb.h"

namespace vmb::vault {

struct VaultOptions {
  blob::BlobClient* client = nullptr;
  blob::BlobUri container;  // the vault's container
  std::string item;         // the protected item: a name prefix (the offline job's name)
  int parallelism = 4;      // concurrent block uploads / downloads
  uint64_t block_bytes = 4u << 20;
  // Called one at a time (the vault serializes the calls from its worker threads).
  std::function<void(const std::string& phase, uint64_t done, uint64_t total)> progress;
  // Stamps recovery points and the writer lock's record, and times the wait before a stale lock is broken.
  Clock* clock = &RealClock();
};

struct BackupOutcome {
  proto::RecoveryPoint point;  // without entries
  uint64_t blocks_uploaded = 0;
  uint64_t files_unchanged = 0;   // not read again
  uint64_t files_same_bytes = 0;  // read again, same bytes: kept their place in their segments
  uint64_t blocks_reused = 0;     // found staged (or committed) by an earlier, interrupted run
};

class WriterLease;
class UnchangedFiles;

class Vault {
 public:
  explicit Vault(VaultOptions options);

  // Committed recovery points, oldest first, without their entries.
  absl::StatusOr<std::vector<proto::RecoveryPoint>> List();
  // kNotFound naming the points that exist.
  absl::StatusOr<proto::RecoveryPoint> Get(int number);

  // Seed and Backup hold the item's writer lease from start to commit: a second writer fails at once with
  // kFailedPrecondition ("another backup of <item> is running since ..."), before writing anything.
  //
  // Recovery point 1 from an offline import: copies the imported page blobs `images` (image i at index i) into the
  // vault, checking every chunk of the staging location's catalogue file `catalogue` on the way, and commits the
  // catalogue's tree. The catalogue is read once, as a stream. `staged_bytes` (the job record's stagedBytes: every
  // chunk's frame) is the progress total. kFailedPrecondition if the item already has recovery points;
  // kInvalidArgument when the catalogue names an image not given; kDataLoss naming the image, offset and chunk when
  // an imported range is damaged or missing (repair the import, then run again: the blocks already copied are kept).
  // Nothing is committed on any error.
  absl::StatusOr<BackupOutcome> Seed(const std::vector<blob::BlobUri>& images, const std::string& catalogue,
                                     uint64_t staged_bytes = 0);

  // The next recovery point, incremental: walks and chunks `sources` a batch at a time (offline::WalkAndChunk; files
  // whose size, mtime, ctime, inode and mode match the previous point are not read again, unless `full_scan`),
  // uploads only the chunks the vault lacks (in blocks, `parallelism` at a time), and commits.
  // kFailedPrecondition when the item has no recovery point yet.
  absl::StatusOr<BackupOutcome> Backup(const std::vector<std::string>& sources,
                                       const offline::ChunkOptions& chunk_options, bool full_scan = false);

  // Restores recovery point `number` into `target` (which must be empty or absent), byte for byte, checking every
  // chunk. Roots come back as target/0, target/1, ...
  // Owners (as root), xattrs, hard links, holes and times come back (see offline::RestoreTree); what could not be
  // put back goes into `report`.
  absl::Status Restore(int number, const std::string& target, int threads = 4,
                       offline::RestoreReport* report = nullptr);

  uint64_t bytes_uploaded() const { return bytes_uploaded_.load(); }

 private:
  absl::StatusOr<std::unique_ptr<WriterLease>> Lock();  // one writer per item (kFailedPrecondition naming the other)
  // The last point, under `*lease` (taken here): the next incremental point follows it. kFailedPrecondition when
  // there is no point yet.
  absl::StatusOr<proto::RecoveryPoint> BeginIncremental(std::unique_ptr<WriterLease>* lease);
  // Walks and chunks `sources` into the pack of point `number` (after `previous`), sending only chunks the vault
  // lacks; the tree and the pack's index go to `streams`, the figures to `*point`.
  absl::Status UploadNewChunks(WriterLease& lease, const std::vector<std::string>& sources,
                               const offline::ChunkOptions& chunk_options, bool full_scan,
                               const proto::RecoveryPoint& previous, PointStreams& streams, proto::RecoveryPoint* point,
                               BackupOutcome* out);
  // The previous point's files that a backup need not read again.
  absl::StatusOr<std::unique_ptr<UnchangedFiles>> LoadUnchanged(const proto::RecoveryPoint& previous);
  // Stamps `point`, checks the lease is still held and commits it with `streams`.
  absl::Status Finish(WriterLease& lease, proto::RecoveryPoint point, PointStreams streams, BackupOutcome* out);
  void Progress(const std::string& phase, uint64_t done, uint64_t total);

  VaultOptions o_;
  RecoveryPoints points_;
  std::atomic<uint64_t> bytes_uploaded_{0};
  std::mutex progress_mu_;
};

}  // namespace vmb::vault

#endif  // VMBACKUP_OFFLINE_SEED_VAULT_VAULT_H_
