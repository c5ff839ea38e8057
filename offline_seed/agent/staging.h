// The backup agent's initial backup to a staging location (seed 004, "Initiate offline backup"): the source trees
// are cut into content-defined chunks (a gear rolling hash picks boundaries, 16 KiB / 64 KiB / 256 KiB min / avg /
// max, so an insertion shifts only nearby chunks), small files are packed whole into segments (tree.h), each unique
// chunk (SHA-256) is compressed with zstd on several threads and packed back to back into page-blob images of a fixed
// size (each padded to 512 bytes as a whole); a
// catalogue records every entry (raw names, sizes, modes, times, targets) and the chunk index, streamed to disk
// compressed (catalogue_file.h); offline-job.json records the job.
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_STAGING_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_STAGING_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "offline_seed/agent/staging.pb.h"
#include "offline_seed/agent/tree.h"

namespace vmb::offline {

struct InitiateOptions {
  std::vector<std::string> sources;
  std::string staging;
  proto::ImportJobRecord job;  // jobName, subscriptionId, storageAccount, container, publishSettingsPath
  int threads = 2;
  int zstd_level = 1;
  uint64_t image_size = 1ull << 30;  // each page-blob image
  std::function<void(uint64_t done, uint64_t total)> progress;
  // Free bytes at the staging location (statvfs when unset).
  std::function<uint64_t(const std::string& staging)> free_space;
};

// Errors: kInvalidArgument (a source that is not a folder, staging inside a source), kAlreadyExists (the staging
// location already holds a job), kResourceExhausted (not enough free space: the message says how much is needed),
// and I/O errors naming the path. Nothing is written before the checks pass.
absl::StatusOr<proto::ImportJobRecord> InitiateOfflineBackup(const InitiateOptions& options);

// A new protected item's identity (a random UUID), made once at initiate and kept in offline-job.json as itemId.
std::string NewItemId();

// The import job's tag that ties it to the staging location it was prepared from (its itemId): diskprep sets it
// when it creates the job; a job without it, or with another, is another server's.
inline constexpr char kItemTag[] = "vmbackupItem";

// Reads offline-job.json; kNotFound with a clear message when `staging` is not a staging location.
absl::StatusOr<proto::ImportJobRecord> ReadStagedJob(const std::string& staging);

// The source computer's record of the staging location whose import job it waits for (<agent_dir>/pending-import,
// the absolute path, 0600): written by `seedagent initiate` on the source computer and by `diskprep s:` where it
// runs, so that `diskprep u:` with no arguments finds "the import job the source computer waits for" (seed 004).
// agent_dir: $VMBACKUP_AGENT_DIR, else /var/lib/vmbackup (AgentDir()).
std::string AgentDir();
absl::Status RecordWaitingImport(const std::string& agent_dir, const std::string& staging);
// The staging location recorded there; kNotFound when none is.
absl::StatusOr<std::string> WaitingImport(const std::string& agent_dir);

// The staging location's catalogue: written record by record at initiate (CatalogueWriter on CataloguePath), read
// whole by ReadCatalogue (or record by record with a CatalogueReader). kNotFound when there is none; kDataLoss when
// it is damaged or cut short.
std::string CataloguePath(const std::string& staging);
absl::StatusOr<proto::Catalogue> ReadCatalogue(const std::string& staging);

// Rebuilds the source trees under `output` (root i as output/i) from the staging location, verifying every chunk's
// SHA-256, with owners (as root), xattrs, hard links, holes and times (see RestoreTree; what could not be put back
// goes into `report`). kDataLoss naming the chunk when staging data is damaged.
absl::Status RestoreFromStaging(const std::string& staging, const std::string& output, RestoreReport* report = nullptr);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_STAGING_H_
