// Minimal absolute-URL splitting for http(s) URLs (scheme, host, port, path, query), percent-encoding and
// query-string parsing. Used by the transport's loopback check and by the blob URI parser.
#ifndef VMBACKUP_COMMON_HTTP_URL_H_
#define VMBACKUP_COMMON_HTTP_URL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmb::http {

struct Url {
  std::string scheme;  // "http" or "https", lower-case
  std::string host;    // lower-case; IPv6 without brackets
  int port = 0;        // explicit port, or 80/443 from the scheme
  bool explicit_port = false;
  std::string path;   // percent-encoded, starts with "/" (or empty)
  std::string query;  // percent-encoded, without "?"

  // scheme://host[:port]
  std::string Origin() const;
};

// kInvalidArgument for anything that is not an absolute http(s) URL with a host.
absl::StatusOr<Url> ParseUrl(absl::string_view url);

// True for localhost, 127.0.0.0/8 and ::1.
bool IsLoopbackHost(absl::string_view host);

// RFC 3986 percent-encoding of everything but unreserved characters; `keep_slash` leaves '/' as is (for paths).
std::string PercentEncode(absl::string_view s, bool keep_slash = false);
// Decodes %XX and (in query strings) nothing else: '+' stays '+' as Azure SAS values require.
absl::StatusOr<std::string> PercentDecode(absl::string_view s);

// Splits "a=1&b=%2F" into decoded pairs, in order.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQuery(absl::string_view query);

}  // namespace vmb::http

#endif  // VMBACKUP_COMMON_HTTP_URL_H_
