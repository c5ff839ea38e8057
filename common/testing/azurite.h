// Starts a real Azurite blob server (the open-source Azure Storage emulator) for a test, on a free loopback port
// chosen by Azurite itself, with in-memory storage. The server is killed (SIGKILL, as Azurite ignores SIGTERM for a
// while) when the object is destroyed, and also if the test process dies first (PR_SET_PDEATHSIG).
//
// The binary comes from $AZURITE_BLOB, which tools/test.sh passes with --test_env; under `bazel run` it is found in
// the workspace's tools/node/node_modules (installed by tools/setup.sh).
#ifndef VMBACKUP_COMMON_TESTING_AZURITE_H_
#define VMBACKUP_COMMON_TESTING_AZURITE_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/blob/dev_account.h"

namespace vmb::testing {

class Azurite {
 public:
  // Azurite's published development account (documented, not a secret).
  static constexpr absl::string_view kAccount = "devstoreaccount1";
  static constexpr const char* kKey = blob::kDevAccountKey;

  // kFailedPrecondition when $AZURITE_BLOB is unset or not runnable (the message says how to fix it);
  // kDeadlineExceeded when it does not come up within 60 s.
  static absl::StatusOr<std::unique_ptr<Azurite>> Start();
  ~Azurite();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }  // the server's process (benchmarks read its CPU time)
  // "http://127.0.0.1:<port>/devstoreaccount1"
  std::string endpoint() const;

 private:
  Azurite(pid_t pid, int port, int out_fd);
  pid_t pid_;
  int port_;
  std::thread drain_;
};

}  // namespace vmb::testing

#endif  // VMBACKUP_COMMON_TESTING_AZURITE_H_
