// Entries spooled to a scratch file on this computer, to be read again and again: a restore checks a tree once as it
// comes (from a catalogue or a vault, where each reading parses JSON or downloads) and then reads it three more times
// from here. The file holds the entries as length-delimited binary protobuf (protobuf's delimited_message_util,
// about 40 times faster to read than the JSON), is made in $TMPDIR (else /var/tmp) and unlinked at once, so nothing
// is left behind, even by a crash.
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_ENTRY_SPOOL_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_ENTRY_SPOOL_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "offline_seed/agent/staging.pb.h"

namespace google::protobuf::io {
class FileOutputStream;
}

namespace vmb::offline {

class EntrySpool {
 public:
  // Errors name the folder and the way out.
  static absl::StatusOr<std::unique_ptr<EntrySpool>> Create();
  ~EntrySpool();
  EntrySpool(const EntrySpool&) = delete;
  EntrySpool& operator=(const EntrySpool&) = delete;

  absl::Status Add(const proto::Entry& entry);
  // After the last Add.
  absl::Status Finish();
  // Each entry, in the order added; as many times as needed (after Finish). `each`'s error stops the reading.
  absl::Status ForEach(const std::function<absl::Status(proto::Entry entry)>& each);

 private:
  EntrySpool(int fd, std::string dir);
  int fd_;
  std::string dir_;  // for messages
  std::unique_ptr<google::protobuf::io::FileOutputStream> out_;
};

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_ENTRY_SPOOL_H_
