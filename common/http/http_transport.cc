#include "common/http/http_transport.h"

#include "absl/strings/match.h"

namespace vmb::http {
namespace {

std::string Find(const Headers& headers, absl::string_view name) {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

}  // namespace

std::string HttpRequest::Header(absl::string_view name) const { return Find(headers, name); }
std::string HttpResponse::Header(absl::string_view name) const { return Find(headers, name); }

}  // namespace vmb::http
