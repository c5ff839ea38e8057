#include "common/http/url.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace vmb::http {

std::string Url::Origin() const {
  std::string h = absl::StrContains(host, ':') ? absl::StrCat("[", host, "]") : host;
  return explicit_port ? absl::StrCat(scheme, "://", h, ":", port) : absl::StrCat(scheme, "://", h);
}

absl::StatusOr<Url> ParseUrl(absl::string_view url) {
  Url out;
  size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) {
    return absl::InvalidArgumentError("not an absolute URL (expected http:// or https://)");
  }
  out.scheme = absl::AsciiStrToLower(url.substr(0, scheme_end));
  if (out.scheme != "http" && out.scheme != "https") {
    return absl::InvalidArgumentError(absl::StrCat("unsupported URL scheme \"", out.scheme, "\" (use https)"));
  }
  absl::string_view rest = url.substr(scheme_end + 3);
  size_t authority_end = rest.find_first_of("/?#");
  absl::string_view authority = rest.substr(0, authority_end);
  rest = authority_end == absl::string_view::npos ? absl::string_view() : rest.substr(authority_end);
  if (absl::StrContains(authority, '@')) return absl::InvalidArgumentError("URLs with user info are not accepted");
  absl::string_view host = authority;
  absl::string_view port;
  if (absl::StartsWith(authority, "[")) {
    size_t close = authority.find(']');
    if (close == absl::string_view::npos) return absl::InvalidArgumentError("unterminated IPv6 host in URL");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return absl::InvalidArgumentError("bad characters after IPv6 host in URL");
      port = authority.substr(close + 2);
    }
  } else if (size_t colon = authority.rfind(':'); colon != absl::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return absl::InvalidArgumentError("URL has no host");
  out.host = absl::AsciiStrToLower(host);
  out.port = out.scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    if (!absl::SimpleAtoi(port, &out.port) || out.port <= 0 || out.port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("bad port \"", port, "\" in URL"));
    }
    out.explicit_port = true;
  }
  size_t hash = rest.find('#');
  if (hash != absl::string_view::npos) rest = rest.substr(0, hash);
  size_t q = rest.find('?');
  out.path = std::string(rest.substr(0, q));
  if (q != absl::string_view::npos) out.query = std::string(rest.substr(q + 1));
  return out;
}

bool IsLoopbackHost(absl::string_view host) {
  if (host == "localhost") return true;
  // An address literal only: "127.0.0.1.nip.io" or "127.example.com" are names anyone can point anywhere.
  std::string literal(host);
  in_addr v4;
  if (::inet_pton(AF_INET, literal.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (::inet_pton(AF_INET6, literal.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

std::string PercentEncode(absl::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

absl::StatusOr<std::string> PercentDecode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size() || !absl::ascii_isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !absl::ascii_isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      return absl::InvalidArgumentError(absl::StrCat("bad percent-encoding at offset ", i));
    }
    int v = 0;
    absl::SimpleHexAtoi(s.substr(i + 1, 2), &v);
    out.push_back(static_cast<char>(v));
    i += 2;
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQuery(absl::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  for (absl::string_view part : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    absl::StatusOr<std::string> k = PercentDecode(kv.first);
    absl::StatusOr<std::string> v = PercentDecode(kv.second);
    if (!k.ok()) return k.status();
    if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat("query parameter ", *k, ": ", v.status().message()));
    out.emplace_back(*std::move(k), *std::move(v));
  }
  return out;
}

}  // namespace vmb::http
