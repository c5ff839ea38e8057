#include "offline_seed/vault/unchanged_files.h"

#include <optional>
#include <string>
#include <utility>

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
    if (e.type() != "file" || e.inode() == 0 || e.ctimens() == 0) continue;
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
    *kept.mutable_extents() = e.extents();
    rows.emplace_back(e.path(), kept.SerializeAsString());
  }
  return table_->Put(std::move(rows)).status();
}

bool UnchangedFiles::Fill(offline::proto::Entry* e) {
  absl::StatusOr<std::optional<std::string>> found = table_->Get(e->path());
  if (!found.ok() || !found->has_value()) return false;
  offline::proto::Entry p;
  if (!p.ParseFromString(**found)) return false;
  bool same = p.size() == e->size() && p.mtimesec() == e->mtimesec() && p.mtimensec() == e->mtimensec() &&
              p.ctimens() == e->ctimens() && p.inode() == e->inode() && p.mode() == e->mode();
  if (!same) return false;
  *e->mutable_chunks() = std::move(*p.mutable_chunks());
  e->set_chunkoffset(p.chunkoffset());
  *e->mutable_extents() = std::move(*p.mutable_extents());
  return true;
}

}  // namespace vmb::vault
