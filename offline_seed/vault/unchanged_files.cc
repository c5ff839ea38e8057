#include "offline_seed/vault/unchanged_files.h"

#include <utility>

namespace vmb::vault {

UnchangedFiles::UnchangedFiles(proto::RecoveryPoint previous) {
  for (auto& e : *previous.mutable_entries()) {
    if (e.type() == "file" && e.inode() != 0 && e.ctimens() != 0) previous_.emplace(e.path(), std::move(e));
  }
}

const offline::proto::Entry* UnchangedFiles::Find(const offline::proto::Entry& e) const {
  auto it = previous_.find(e.path());
  if (it == previous_.end()) return nullptr;
  const offline::proto::Entry& p = it->second;
  bool same = p.size() == e.size() && p.mtimesec() == e.mtimesec() && p.mtimensec() == e.mtimensec() &&
              p.ctimens() == e.ctimens() && p.inode() == e.inode() && p.mode() == e.mode();
  return same ? &p : nullptr;
}

}  // namespace vmb::vault
