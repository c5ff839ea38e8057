// Replays captured handler-settings fixtures (testdata/protected_settings/<name>/) against a real blob endpoint:
// every blob URI of the fixture is mapped onto the endpoint (container and page blob created when absent, fresh SAS
// signed with the account key), a throw-away handler folder and certificate folder are built, the whole enable flow
// runs, and the outcome is compared with fixture.json.
//
// A fixture directory holds:
//   settings.json    the <N>.settings file as captured (protectedSettings may be CMS base64, or garbage on purpose)
//   protected.json   optional: the plaintext protected settings; replay maps its URIs and encrypts it to the test
//                    certificate, replacing protectedSettings
//   fixture.json     the expectation (see Fixture in snapshot/proto/handler.proto)
// and the directory's parent holds test_cert/<THUMBPRINT>.crt/.prv, the certificate fixtures are encrypted to.
#ifndef VMBACKUP_SNAPSHOT_REPLAY_H_
#define VMBACKUP_SNAPSHOT_REPLAY_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "common/http/http_transport.h"

namespace vmb::snapshot {

struct ReplayOptions {
  std::string blob_endpoint;  // e.g. http://127.0.0.1:10000/devstoreaccount1
  std::string account_key;    // base64; Azurite's development key when empty
  std::string work_dir;       // scratch space (a folder per fixture is created inside)
  http::HttpTransport* transport = nullptr;
};

struct ReplayOutcome {
  bool passed = false;
  std::string report;  // one line per check, "ok ..." or "FAIL ..."
  int code = -1;
};

// Re-issues `ticks` in the textual form of `original` (what rebaseTicks writes): integer ticks, or the scientific
// display form with as many decimals and the same text between the mantissa and the exponent's digits, so the seeds'
// "6.36458E+17" stays "6.3xxxxE+17" and their sv/fr "6.36458E + 17" keeps its blanks.
std::string FormatTicksLike(const std::string& original, int64_t ticks);

ReplayOutcome ReplayFixture(const std::string& fixture_dir, const ReplayOptions& options);

}  // namespace vmb::snapshot

#endif  // VMBACKUP_SNAPSHOT_REPLAY_H_
