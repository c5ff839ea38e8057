#include "offline_seed/vault/unchanged_files.h"

#include <optional>
#include <string>
#include <utility>

#include "offline_seed/agent/tree.h"

namespace vmb::vault {

absl::StatusOr<std::unique_ptr<UnchangedFiles>> UnchangedFiles::Open() {
  index::Table::Options o;
  o.what = "index of the previous backup's files";
  o.row_bytes = "150";
  absl::StatusOr<std::unique_ptr<index::Table>> table = index::Table::Open("", o);
  if (!table.ok()) return table.status();
  return std::unique_ptr<UnchangedFiles>(new UnchangedFiles(*std::move(table)));
}

absl::Status UnchangedFiles::Add(const std::vector<offline::proto::Entry>& previous) {
  std::vector<index::Table::Row> rows;
  for (const offline::proto::Entry& e : previous) {
    // A file without inode and ctime (from an older point) is never taken unread, but its digest still serves.
    if (e.type() != "file" || ((e.inode() == 0 || e.ctimens() == 0) && e.digest().empty())) continue;
    // What is compared and what is taken; the path is the key.
    offline::proto::Entry kept;
    kept.set_size(e.size());
    kept.set_mtimesec(e.mtimesec());
    kept.set_mtimensec(e.mtimensec());
    kept.set_ctimens(e.ctimens());
    kept.set_inode(e.inode());
    kept.set_mode(e.mode());
    *kept.mutable_chunks() = e.chunks();
    kept.set_chunkoffset(e.chunkoffset());
    kept.set_digest(e.digest());
    *kept.mutable_extents() = e.extents();
    rows.emplace_back(e.path(), kept.SerializeAsString());
  }
  return table_->Put(std::move(rows)).status();
}

namespace {

// Gives `e` the stored place of `previous`: its chunks, chunkOffset, digest and extents.
void TakeStored(offline::proto::Entry& previous, offline::proto::Entry* e) {
  *e->mutable_chunks() = std::move(*previous.mutable_chunks());
  e->set_chunkoffset(previous.chunkoffset());
  e->set_digest(std::move(*previous.mutable_digest()));
  *e->mutable_extents() = std::move(*previous.mutable_extents());
}

}  // namespace

std::optional<offline::proto::Entry> UnchangedFiles::Previous(const std::string& path) {
  absl::StatusOr<std::optional<std::string>> found = table_->Get(path);
  if (!found.ok() || !found->has_value()) return std::nullopt;
  offline::proto::Entry p;
  if (!p.ParseFromString(**found)) return std::nullopt;
  return p;
}

bool UnchangedFiles::Fill(offline::proto::Entry* e) {
  std::optional<offline::proto::Entry> p = Previous(e->path());
  if (!p.has_value()) return false;
  bool same = p->size() == e->size() && p->mtimesec() == e->mtimesec() && p->mtimensec() == e->mtimensec() &&
              p->ctimens() == e->ctimens() && p->inode() == e->inode() && p->mode() == e->mode();
  if (!same) return false;
  TakeStored(*p, e);
  return true;
}

bool UnchangedFiles::SameBytes(offline::proto::Entry* e, absl::string_view bytes) {
  if (e->extents_size() > 0) return false;
  std::optional<offline::proto::Entry> p = Previous(e->path());
  if (!p.has_value() || p->digest().empty() || p->extents_size() > 0 || p->chunks_size() != 1 ||
      p->size() != bytes.size() || p->size() != e->size() || offline::FileDigest(bytes) != p->digest()) {
    return false;
  }
  TakeStored(*p, e);
  return true;
}

}  // namespace vmb::vault
