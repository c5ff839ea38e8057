#include "offline_seed/vault/vault.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <chrono>
#include <condition_variable>
#include <map>
#include <set>
#include <signal.h>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/concurrent/bounded_pool.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "absl/strings/numbers.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/status/http_status.h"
#include "common/status/status_macros.h"

namespace vmb::vault {
namespace {

using offline::proto::Chunk;

uint64_t Padded(uint64_t n) { return (n + 511) / 512 * 512; }

// The blocks a service holds uncommitted for `blob` (none when the blob does not exist yet).
absl::StatusOr<std::map<std::string, uint64_t>> Staged(blob::BlobClient& client, const blob::BlobUri& blob) {
  absl::StatusOr<std::vector<std::pair<std::string, uint64_t>>> staged = client.GetUncommittedBlocks(blob);
  if (absl::IsNotFound(staged.status())) return std::map<std::string, uint64_t>();
  RETURN_IF_ERROR(staged.status());
  return std::map<std::string, uint64_t>(staged->begin(), staged->end());
}

std::string Now() { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()); }

}  // namespace

// One writer per protected item: a 60 s lease on "<item>/writer.lock", renewed every 15 s by a thread while the
// backup runs and released at the end. A run that dies leaves a lease that expires within 60 s. The holder's host,
// process and start time are the lock's metadata, for the message the next writer gets.
class WriterLease {
 public:
  static absl::StatusOr<std::unique_ptr<WriterLease>> Acquire(blob::BlobClient* client, const blob::BlobUri& lock,
                                                              const std::string& item) {
    // The lock blob is made once; a put that loses to a holder's lease (412) is fine, the acquire below decides.
    if (absl::IsNotFound(client->GetProperties(lock).status())) (void)client->PutBlockBlob(lock, "");
    char host[256] = {0};
    ::gethostname(host, sizeof(host) - 1);
    absl::StatusOr<std::string> id = client->AcquireLease(lock, kSeconds);
    if (AzureErrorCodeOf(id.status()) == "LeaseAlreadyPresent") {
      absl::StatusOr<blob::BlobProperties> p = client->GetProperties(lock);
      auto meta = [&](const char* k) -> std::string {
        if (!p.ok()) return "?";
        auto it = p->metadata.find(k);
        return it == p->metadata.end() ? "?" : it->second;
      };
      if (Stale(host, meta("host"), meta("pid"), meta("token"))) {
        // The record names a run on this computer that is gone (killed, or failed before it could let go). A run
        // that has just taken the lease writes its own record at once: the record is read again a moment later,
        // and only if it still names the gone run is the lease broken rather than waited out (restic's rule for
        // stale locks).
        const std::string token = meta("token");
        std::this_thread::sleep_for(std::chrono::seconds(2));
        p = client->GetProperties(lock);
        if (meta("token") == token && Stale(host, meta("host"), meta("pid"), meta("token"))) {
          RETURN_IF_ERROR(client->BreakLease(lock));
          id = client->AcquireLease(lock, kSeconds);
        }
      }
      if (AzureErrorCodeOf(id.status()) == "LeaseAlreadyPresent") {
        std::string holder = meta("since") == "?" ? std::string(" (it has just started)")
                                                  : absl::StrCat(" since ", meta("since"), " (host ", meta("host"),
                                                                 ", process ", meta("pid"), ")");
        return absl::FailedPreconditionError(absl::StrCat(
            "another backup of ", item, " is running", holder, "; this run stopped before writing anything. Wait "
            "for it to finish (a run that died on another computer frees the item within ", kSeconds, " s)"));
      }
    }
    RETURN_IF_ERROR(id.status());
    std::string token = crypto::Base16Encode(crypto::SecureRandom().Bytes(16));
    auto lease = std::unique_ptr<WriterLease>(new WriterLease(client, lock, *id, token));
    RETURN_IF_ERROR(client->SetMetadata(
        lock, {{"host", host}, {"pid", absl::StrCat(::getpid())}, {"since", Now()}, {"token", token}}, {*id, false}));
    return lease;
  }

  ~WriterLease() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    renewer_.join();
    // The record goes with the lease: a record left behind names a run that did not end cleanly.
    (void)client_->SetMetadata(lock_, {}, {id_, false});
    (void)client_->ReleaseLease(lock_, id_);
    std::lock_guard<std::mutex> lock(LiveMu());
    Live().erase(token_);
  }

  // Renews now: an error when the lease was lost (the run stalled past its expiry and another writer took over).
  absl::Status Check() {
    absl::Status s = client_->RenewLease(lock_, id_);
    if (s.ok()) return s;
    return absl::AbortedError(absl::StrCat("this backup lost its lock on the protected item (", s.message(),
                                           "); nothing was committed. Run the backup again"));
  }

 private:
  static constexpr int kSeconds = 60;
  WriterLease(blob::BlobClient* client, blob::BlobUri lock, std::string id, std::string token)
      : client_(client), lock_(std::move(lock)), id_(std::move(id)), token_(std::move(token)),
        renewer_([this] { Renew(); }) {
    std::lock_guard<std::mutex> guard(LiveMu());
    Live().insert(token_);
  }
  // The tokens of the leases this process holds now.
  static std::set<std::string>& Live() {
    static auto* live = new std::set<std::string>();
    return *live;
  }
  static std::mutex& LiveMu() {
    static auto* mu = new std::mutex();
    return *mu;
  }
  // A holder on this computer whose process is gone, or this process when it no longer holds that lease.
  static bool Stale(const std::string& host, const std::string& holder_host, const std::string& pid_text,
                    const std::string& token) {
    int pid = 0;
    if (holder_host != host || !absl::SimpleAtoi(pid_text, &pid) || pid <= 0) return false;
    if (pid == ::getpid()) {
      std::lock_guard<std::mutex> lock(LiveMu());
      return Live().count(token) == 0;
    }
    return ::kill(pid, 0) != 0 && errno == ESRCH;
  }
  void Renew() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(15), [this] { return stop_; })) {
      lock.unlock();
      (void)client_->RenewLease(lock_, id_);  // a failure shows in Check before the commit
      lock.lock();
    }
  }
  blob::BlobClient* client_;
  blob::BlobUri lock_;
  std::string id_, token_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread renewer_;
};

Vault::Vault(VaultOptions options) : o_(std::move(options)) {}

void Vault::Progress(const std::string& phase, uint64_t done, uint64_t total) {
  if (!o_.progress) return;
  std::lock_guard<std::mutex> lock(progress_mu_);
  o_.progress(phase, done, total);
}

namespace {
constexpr char kSummaryKey[] = "vmbsummary";
}  // namespace

std::string Vault::Name(const std::string& kind, int number, const std::string& suffix) const {
  return absl::StrFormat("%s/%s/rp-%04d%s", o_.item, kind, number, suffix);
}

absl::StatusOr<std::vector<proto::RecoveryPoint>> Vault::List() {
  blob::ListOptions lo;
  lo.prefix = o_.item + "/recovery-points/";
  lo.include_metadata = true;
  absl::StatusOr<std::vector<blob::BlobItem>> items = o_.client->ListBlobs(o_.container, lo);
  if (absl::IsNotFound(items.status())) return std::vector<proto::RecoveryPoint>();  // no vault container yet
  RETURN_IF_ERROR(items.status());
  std::vector<proto::RecoveryPoint> out;
  for (const blob::BlobItem& item : *items) {
    // The figures travel as the blob's metadata (one listing for all points); a point written without them is read.
    proto::RecoveryPoint rp;
    auto summary = item.properties.metadata.find(kSummaryKey);
    absl::StatusOr<std::string> decoded =
        summary == item.properties.metadata.end() ? absl::NotFoundError("") : crypto::Base64Decode(summary->second);
    if (!decoded.ok() || !json::Parse(*decoded, &rp, item.name).ok()) {
      ASSIGN_OR_RETURN(std::string text, o_.client->GetBlob(o_.container.WithBlob(item.name)));
      rp = proto::RecoveryPoint();
      RETURN_IF_ERROR(json::Parse(text, &rp, item.name));
    }
    rp.clear_entries();
    out.push_back(std::move(rp));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.number() < b.number(); });
  return out;
}

absl::StatusOr<proto::RecoveryPoint> Vault::Get(int number) {
  absl::StatusOr<std::string> text = o_.client->GetBlob(o_.container.WithBlob(Name("recovery-points", number, ".json")));
  if (absl::IsNotFound(text.status())) {
    ASSIGN_OR_RETURN(std::vector<proto::RecoveryPoint> all, List());
    std::vector<int> numbers;
    for (const auto& rp : all) numbers.push_back(rp.number());
    return absl::NotFoundError(absl::StrCat(
        "recovery point ", number, " does not exist for ", o_.item, "; ",
        numbers.empty() ? std::string("there are none yet") : absl::StrCat("there are: ", absl::StrJoin(numbers, ", "))));
  }
  RETURN_IF_ERROR(text.status());
  proto::RecoveryPoint rp;
  RETURN_IF_ERROR(json::Parse(*text, &rp, "recovery point"));
  return rp;
}

absl::Status Vault::LoadIndex(int upto) {
  index_.clear();
  for (int n = 1; n <= upto; ++n) {
    ASSIGN_OR_RETURN(std::string text, o_.client->GetBlob(o_.container.WithBlob(Name("index", n, ".json"))));
    proto::PackIndex index;
    RETURN_IF_ERROR(json::Parse(text, &index, "vault index"));
    for (const Chunk& c : index.chunks()) index_.emplace(c.sha256(), c);
  }
  return absl::OkStatus();
}

absl::Status Vault::Commit(proto::RecoveryPoint point, const proto::PackIndex& index) {
  RETURN_IF_ERROR(o_.client->PutBlockBlob(o_.container.WithBlob(Name("index", point.number(), ".json")),
                                          json::ToJsonCompact(index), {}, "application/json"));
  // Last: its presence commits the recovery point. Its figures (everything but the entries) also go into the
  // blob's metadata, base64 JSON, so listing the points is one request however many there are and however big
  // their trees (left out when too big for metadata's 8 KiB; List then reads the blob).
  proto::RecoveryPoint summary = point;
  summary.clear_entries();
  std::string encoded = crypto::Base64Encode(json::ToJson(summary));
  blob::Metadata metadata;
  if (encoded.size() < 7000) metadata[kSummaryKey] = encoded;
  // Only if absent: a recovery point, once committed, is never replaced (even by a writer that lost its lease).
  blob::WriteConditions only_new;
  only_new.if_none_match_any = true;
  absl::Status put = o_.client->PutBlockBlob(o_.container.WithBlob(Name("recovery-points", point.number(), ".json")),
                                             json::ToJsonCompact(point), metadata, "application/json", only_new);
  if (absl::IsAlreadyExists(put)) {
    return absl::AbortedError(absl::StrCat("recovery point ", point.number(), " of ", o_.item,
                                           " was committed by another backup meanwhile; run the backup again"));
  }
  return put;
}

absl::StatusOr<std::unique_ptr<WriterLease>> Vault::Lock() {
  return WriterLease::Acquire(o_.client, o_.container.WithBlob(o_.item + "/writer.lock"), o_.item);
}

absl::StatusOr<BackupOutcome> Vault::Seed(const std::vector<blob::BlobUri>& images, const offline::proto::Catalogue& cat) {
  RETURN_IF_ERROR(o_.client->CreateContainer(o_.container));
  ASSIGN_OR_RETURN(std::unique_ptr<WriterLease> lease, Lock());
  ASSIGN_OR_RETURN(std::vector<proto::RecoveryPoint> existing, List());
  if (!existing.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(o_.item, " already has ", existing.size(),
                                                      " recovery point(s); the offline seed is copied only once"));
  }
  std::vector<std::vector<const Chunk*>> by_image(images.size());
  uint64_t total = 0;
  for (const Chunk& c : cat.chunks()) {
    if (c.image() >= images.size()) {
      return absl::InvalidArgumentError(absl::StrCat("the catalogue names image ", c.image(), " but only ",
                                                     images.size(), " imported image(s) were given"));
    }
    by_image[c.image()].push_back(&c);
    total += Padded(c.compressedlength());
  }
  BackupOutcome out;
  proto::PackIndex index;
  std::atomic<uint64_t> done{0};
  for (size_t i = 0; i < images.size(); ++i) {
    auto& chunks = by_image[i];
    std::sort(chunks.begin(), chunks.end(), [](const Chunk* a, const Chunk* b) { return a->offset() < b->offset(); });
    std::string pack_name = absl::StrFormat("%s/packs/seed-%04u", o_.item, i);
    blob::BlobUri pack = o_.container.WithBlob(pack_name);
    // Blocks end on chunk boundaries, so each block is checked on its own before it is put.
    struct Block {
      uint64_t begin, end;
      std::vector<const Chunk*> chunks;
    };
    std::vector<Block> blocks;
    for (const Chunk* c : chunks) {
      if (blocks.empty() || blocks.back().end - blocks.back().begin >= o_.block_bytes) {
        uint64_t begin = blocks.empty() ? 0 : blocks.back().end;
        blocks.push_back({begin, begin, {}});
      }
      blocks.back().chunks.push_back(c);
      blocks.back().end = std::max(blocks.back().end, c->offset() + Padded(c->compressedlength()));
      Chunk located = *c;
      located.clear_image();
      located.set_pack(pack_name);
      *index.add_chunks() = located;
    }
    uint64_t pack_size = blocks.empty() ? 0 : blocks.back().end;
    absl::StatusOr<blob::BlobProperties> committed = o_.client->GetProperties(pack);
    if (committed.ok() && committed->blob_type == "BlockBlob" && committed->content_length == pack_size) {
      done += pack_size;
      out.blocks_reused += blocks.size();
      continue;  // copied by an earlier run
    }
    ASSIGN_OR_RETURN(auto staged, Staged(*o_.client, pack));
    std::vector<std::string> ids;
    concurrent::BoundedPool pool(o_.parallelism);
    for (size_t k = 0; k < blocks.size(); ++k) {
      std::string id = blob::BlockId(k);
      ids.push_back(id);
      const Block& b = blocks[k];
      auto it = staged.find(id);
      if (it != staged.end() && it->second == b.end - b.begin) {
        ++out.blocks_reused;
        done += b.end - b.begin;
        continue;
      }
      ++out.blocks_uploaded;
      const blob::BlobUri& image = images[i];
      pool.Submit([this, &image, &pack, &done, b, id, i, total]() -> absl::Status {
        ASSIGN_OR_RETURN(std::string data, o_.client->GetBlob(image, blob::ByteRange{b.begin, b.end - b.begin}));
        for (const Chunk* c : b.chunks) {
          RETURN_IF_ERROR(offline::OpenChunk(data.substr(c->offset() - b.begin, c->compressedlength()), c->length(),
                                             c->sha256(),
                                             absl::StrCat("in the imported blob ", image.blob(), " at offset ", c->offset(),
                                                          " (run `seedagent repair` to re-send the ranges the import "
                                                          "reported, then back up again)"))
                              .status());
        }
        RETURN_IF_ERROR(o_.client->PutBlock(pack, id, data));
        uint64_t now = done += data.size();
        Progress("vault copy", now, total);
        return absl::OkStatus();
      });
    }
    RETURN_IF_ERROR(pool.Wait());
    RETURN_IF_ERROR(o_.client->PutBlockList(pack, ids));
  }
  proto::RecoveryPoint rp;
  rp.set_number(1);
  rp.set_createdat(Now());
  rp.set_kind("Seeded");
  for (const std::string& r : cat.roots()) rp.add_roots(r);
  uint64_t source_bytes = 0, files = 0, chunk_refs = 0, new_bytes = 0;
  for (const auto& e : cat.entries()) {
    *rp.add_entries() = e;
    if (e.type() == "file") {
      ++files;
      source_bytes += e.size();
      chunk_refs += e.chunks_size();
    }
  }
  for (const Chunk& c : cat.chunks()) new_bytes += c.length();
  rp.set_files(files);
  rp.set_sourcebytes(source_bytes);
  rp.set_chunks(chunk_refs);
  rp.set_newchunks(cat.chunks_size());
  rp.set_newbytes(new_bytes);
  RETURN_IF_ERROR(lease->Check());
  RETURN_IF_ERROR(Commit(rp, index));
  rp.clear_entries();
  out.point = rp;
  return out;
}

absl::StatusOr<BackupOutcome> Vault::Backup(offline::SourceTree& tree, const offline::ChunkOptions& chunk_options,
                                            bool full_scan) {
  std::unique_ptr<WriterLease> lease;
  ASSIGN_OR_RETURN(std::vector<proto::RecoveryPoint> existing, List());
  if (!existing.empty()) {
    // The lease, then the points again: the recovery point number and the pack's name are this writer's until it
    // commits.
    ASSIGN_OR_RETURN(lease, Lock());
    ASSIGN_OR_RETURN(existing, List());
  }
  if (existing.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        o_.item, " has no recovery point yet: the initial backup is still on its way (offline seeding). Check "
                 "`seedagent status`; the first backup after the import completes copies it into the vault"));
  }
  int number = existing.back().number() + 1;
  RETURN_IF_ERROR(LoadIndex(number - 1));
  std::string pack_name = absl::StrFormat("%s/packs/rp-%04d", o_.item, number);
  blob::BlobUri pack = o_.container.WithBlob(pack_name);
  ASSIGN_OR_RETURN(auto staged, Staged(*o_.client, pack));

  BackupOutcome out;
  struct Block {
    std::string id;
    std::string data;
    uint64_t raw = 0;
    std::vector<Chunk> chunks;  // offsets within the block for now
    std::string hashes;
  };
  std::vector<Block> blocks(1);
  std::vector<std::pair<std::string, uint64_t>> sizes;  // id, size, in order
  concurrent::BoundedPool pool(o_.parallelism);
  auto flush = [&]() {
    Block& b = blocks.back();
    if (b.chunks.empty()) return;
    b.id = crypto::Base64Encode(crypto::Sha256(b.hashes));
    sizes.emplace_back(b.id, b.data.size());
    auto it = staged.find(b.id);
    if (it != staged.end() && it->second == b.data.size()) {
      ++out.blocks_reused;  // sent by an interrupted run
    } else {
      ++out.blocks_uploaded;
      pool.Submit([this, &pack, id = b.id, data = std::move(b.data)]() -> absl::Status {
        RETURN_IF_ERROR(o_.client->PutBlock(pack, id, data));
        bytes_uploaded_ += data.size();
        return absl::OkStatus();
      });
    }
    b.data.clear();
    blocks.emplace_back();
  };
  offline::ChunkOptions co = chunk_options;
  co.known = [this](const std::string& hash) { return index_.count(hash) > 0; };
  // Files unchanged since the previous point (same size, mtime, ctime and inode) keep their chunks unread.
  std::unordered_map<std::string, offline::proto::Entry> previous;
  if (!full_scan) {
    ASSIGN_OR_RETURN(proto::RecoveryPoint last, Get(number - 1));
    for (auto& e : *last.mutable_entries()) {
      if (e.type() == "file" && e.inode() != 0 && e.ctimens() != 0) previous.emplace(e.path(), std::move(e));
    }
    co.unchanged = [&previous](const offline::proto::Entry& e) -> const offline::proto::Entry* {
      auto it = previous.find(e.path());
      if (it == previous.end()) return nullptr;
      const offline::proto::Entry& p = it->second;
      bool same = p.size() == e.size() && p.mtimesec() == e.mtimesec() && p.mtimensec() == e.mtimensec() && p.ctimens() == e.ctimens() &&
                  p.inode() == e.inode() && p.mode() == e.mode();
      return same ? &p : nullptr;
    };
  }
  uint64_t before = bytes_uploaded_.load();
  absl::StatusOr<offline::ChunkStats> stats =
      offline::ChunkTree(tree, co, [&](const std::string& hash, uint32_t length, const std::string& frame) -> absl::Status {
        if (pool.failed()) return absl::UnavailableError("an upload failed");
        Block& b = blocks.back();
        Chunk c;
        c.set_sha256(hash);
        c.set_length(length);
        c.set_compressedlength(static_cast<uint32_t>(frame.size()));
        c.set_offset(b.data.size());
        b.data += frame;
        b.raw += length;
        b.hashes += hash;
        b.chunks.push_back(c);
        if (b.raw >= o_.block_bytes) flush();
        return absl::OkStatus();
      });
  if (stats.ok()) flush();
  absl::Status uploads = pool.Wait();
  RETURN_IF_ERROR(uploads);
  RETURN_IF_ERROR(stats.status());
  proto::PackIndex index;
  std::vector<std::string> ids;
  uint64_t base = 0;
  for (size_t k = 0; k < sizes.size(); ++k) {
    ids.push_back(sizes[k].first);
    for (Chunk c : blocks[k].chunks) {
      c.set_offset(base + c.offset());
      c.set_pack(pack_name);
      *index.add_chunks() = c;
    }
    base += sizes[k].second;
  }
  if (!ids.empty()) RETURN_IF_ERROR(o_.client->PutBlockList(pack, ids));
  proto::RecoveryPoint rp;
  rp.set_number(number);
  rp.set_createdat(Now());
  rp.set_kind("Incremental");
  for (const std::string& r : tree.roots) rp.add_roots(r);
  for (const auto& e : tree.entries) {
    *rp.add_entries() = e;
    if (e.type() == "file") rp.set_files(rp.files() + 1);
  }
  rp.set_sourcebytes(tree.bytes);
  for (const offline::proto::Problem& p : tree.problems) *rp.add_problems() = p;
  rp.set_chunks(stats->chunks);
  rp.set_newchunks(stats->new_chunks);
  rp.set_newbytes(stats->new_bytes);
  rp.set_bytesuploaded(bytes_uploaded_.load() - before);
  out.files_unchanged = stats->files_unchanged;
  RETURN_IF_ERROR(lease->Check());
  RETURN_IF_ERROR(Commit(rp, index));
  rp.clear_entries();
  out.point = rp;
  return out;
}

absl::Status Vault::Restore(int number, const std::string& target, int threads, offline::RestoreReport* report) {
  RETURN_IF_ERROR(offline::CheckRestoreTarget(target));  // before anything is fetched
  ASSIGN_OR_RETURN(proto::RecoveryPoint rp, Get(number));
  RETURN_IF_ERROR(LoadIndex(number));
  std::atomic<uint64_t> done{0};
  std::vector<offline::proto::Entry> entries(rp.entries().begin(), rp.entries().end());
  return offline::RestoreTreeFilled(entries, target, [&](const std::vector<const offline::proto::Entry*>& files) -> absl::Status {
    // Every use of each distinct chunk: which file, where in it. Each chunk is fetched and checked once.
    struct Use {
      size_t file;
      uint64_t at;
    };
    struct Piece {
      const Chunk* chunk = nullptr;
      std::vector<Use> uses;
    };
    std::map<absl::string_view, Piece> pieces;
    std::vector<offline::StoredLayout> layouts;  // where each file's stored bytes go (holes stay holes)
    layouts.reserve(files.size());
    for (size_t f = 0; f < files.size(); ++f) {
      layouts.emplace_back(*files[f]);
      uint64_t at = 0;
      for (const std::string& h : files[f]->chunks()) {
        auto it = index_.find(h);
        if (it == index_.end()) {
          return absl::DataLossError(absl::StrCat("chunk ", h, " of ", target, "/", files[f]->path(),
                                                  " is missing from the vault's index"));
        }
        Piece& p = pieces[h];
        p.chunk = &it->second;
        p.uses.push_back({f, at});
        at += it->second.length();
      }
    }
    // The chunks in pack order, read in ranges of up to 8 MiB that span files: Azurite spends about as much on a
    // request as on 4 MiB of data, so a file at a time (a request per small file) would halve the throughput. A
    // gap of up to 1 MiB between needed chunks is read and skipped rather than costing another request.
    std::vector<const Piece*> order;
    for (const auto& [hash, p] : pieces) order.push_back(&p);
    std::sort(order.begin(), order.end(), [](const Piece* a, const Piece* b) {
      int by_pack = a->chunk->pack().compare(b->chunk->pack());
      return by_pack != 0 ? by_pack < 0 : a->chunk->offset() < b->chunk->offset();
    });
    struct Range {
      size_t first, last;  // order[first, last)
      uint64_t begin, end;
    };
    std::vector<Range> ranges;
    for (size_t i = 0; i < order.size();) {
      const Chunk& c = *order[i]->chunk;
      Range r{i, i + 1, c.offset(), c.offset() + c.compressedlength()};
      while (r.last < order.size()) {
        const Chunk& n = *order[r.last]->chunk;
        if (n.pack() != c.pack() || n.offset() < r.end || n.offset() > r.end + (1u << 20) ||
            n.offset() + n.compressedlength() - r.begin > (8u << 20)) {
          break;
        }
        r.end = n.offset() + n.compressedlength();
        ++r.last;
      }
      ranges.push_back(r);
      i = r.last;
    }
    concurrent::BoundedPool pool(threads);
    for (const Range& r : ranges) {
      pool.Submit([&, r]() -> absl::Status {
        const std::string& pack = order[r.first]->chunk->pack();
        ASSIGN_OR_RETURN(std::string data, o_.client->GetBlob(o_.container.WithBlob(pack), blob::ByteRange{r.begin, r.end - r.begin}));
        thread_local std::string scratch;  // each chunk's bytes, in memory reused chunk to chunk
        struct OpenFile {
          size_t file = SIZE_MAX;
          int fd = -1;
          ~OpenFile() {
            if (fd >= 0) ::close(fd);
          }
        } open;
        for (size_t k = r.first; k < r.last; ++k) {
          const Chunk& c = *order[k]->chunk;
          ASSIGN_OR_RETURN(absl::string_view raw,
                           offline::OpenChunkInto(absl::string_view(data).substr(c.offset() - r.begin, c.compressedlength()),
                                                  c.length(), c.sha256(),
                                                  absl::StrCat("in vault pack ", pack, " at offset ", c.offset()), &scratch));
          for (const Use& u : order[k]->uses) {
            std::string path = target + "/" + files[u.file]->path();
            if (u.file != open.file) {
              if (open.fd >= 0) ::close(open.fd);
              open.file = u.file;
              open.fd = ::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
              if (open.fd < 0) return file::ErrnoStatus(errno, "cannot open", path);
            }
            RETURN_IF_ERROR(layouts[u.file].Write(open.fd, u.at, raw, path));
            // Write-back starts now, while other ranges are still coming in; the flush at the end then has
            // little left to wait for.
            ::sync_file_range(open.fd, static_cast<off_t>(u.at), static_cast<off_t>(raw.size()), SYNC_FILE_RANGE_WRITE);
            uint64_t now = done += raw.size();
            Progress("restore", now, rp.sourcebytes());
          }
        }
        return absl::OkStatus();
      });
    }
    return pool.Wait();
  }, report);
}

}  // namespace vmb::vault
