// Which files an incremental backup need not read again: those whose size, mtime, ctime, inode and mode match the
// previous recovery point's entry (the ctime catches a rewrite that put the old mtime back). Their chunks are taken
// from that entry.
#ifndef VMBACKUP_OFFLINE_SEED_VAULT_UNCHANGED_FILES_H_
#define VMBACKUP_OFFLINE_SEED_VAULT_UNCHANGED_FILES_H_

#include <string>
#include <unordered_map>

#include "offline_seed/agent/staging.pb.h"
#include "offline_seed/vault/vault.pb.h"

namespace vmb::vault {

class UnchangedFiles {
 public:
  // Keeps the file entries of `previous` that carry an inode and a ctime (older points may lack them: those files
  // are read again).
  explicit UnchangedFiles(proto::RecoveryPoint previous);

  // The previous entry for `file` when it has not changed, else null. Thread-safe (read only).
  const offline::proto::Entry* Find(const offline::proto::Entry& file) const;

 private:
  std::unordered_map<std::string, offline::proto::Entry> previous_;  // by path
};

}  // namespace vmb::vault

#endif  // VMBACKUP_OFFLINE_SEED_VAULT_UNCHANGED_FILES_H_
