// HttpTransport over libcurl. The only code in the tree that includes curl.
//
// - Connections are reused: finished requests return their easy handle (and its open connection) to a pool.
// - Any number of threads may Send at once; each in-flight request uses its own handle.
// - TLS peer and host verification are always on; `ca_file` adds trust (for a test CA), never removes it.
// - Plain http is refused unless the host is loopback (Azurite, local simulators).
#ifndef VMBACKUP_COMMON_HTTP_CURL_TRANSPORT_H_
#define VMBACKUP_COMMON_HTTP_CURL_TRANSPORT_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/http/http_transport.h"

namespace vmb::http {

struct CurlTransportOptions {
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration default_timeout = absl::Seconds(120);  // per request, when the request sets none
  std::string ca_file;                                  // extra CA bundle; empty = system store
  int max_idle_handles = 64;                            // pooled connections kept open
};

std::unique_ptr<HttpTransport> NewCurlTransport(const CurlTransportOptions& options = {});

}  // namespace vmb::http

#endif  // VMBACKUP_COMMON_HTTP_CURL_TRANSPORT_H_
