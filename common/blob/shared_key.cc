#include "common/blob/shared_key.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/http/url.h"

namespace vmb::blob {
namespace {

// Azure sorts canonicalized headers the way .NET's en-US culture compares strings: hyphens are ignored at the
// first level and '_' sorts before digits and letters. Header names here are lower-case ASCII.
std::string CultureSortKey(absl::string_view name) {
  std::string key;
  for (char c : name) {
    if (c == '-') continue;
    key.push_back(c == '_' ? '\x01' : c);
  }
  return key;
}

bool CultureLess(const std::string& a, const std::string& b) {
  std::string ka = CultureSortKey(a), kb = CultureSortKey(b);
  if (ka != kb) return ka < kb;
  return a < b;
}

std::string Iso8601(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

}  // namespace

absl::StatusOr<SharedKeyCredential> SharedKeyCredential::Create(absl::string_view account,
                                                                absl::string_view key_base64) {
  if (account.empty()) return absl::InvalidArgumentError("storage account name is empty");
  absl::StatusOr<std::string> key = crypto::Base64Decode(key_base64);
  if (!key.ok() || key->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the account key for ", account, " is not valid base64; copy it again from the portal"));
  }
  return SharedKeyCredential(std::string(account), *std::move(key));
}

std::string HttpDate(absl::Time t) { return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", t, absl::UTCTimeZone()); }

std::string SharedKeyCredential::StringToSign(const http::HttpRequest& request) const {
  auto header = [&](absl::string_view name) { return request.Header(name); };
  std::string content_length = header("Content-Length");
  if (content_length == "0") content_length.clear();
  std::vector<std::string> lines = {
      absl::AsciiStrToUpper(request.method),
      header("Content-Encoding"),
      header("Content-Language"),
      content_length,
      header("Content-MD5"),
      header("Content-Type"),
      header("Date"),
      header("If-Modified-Since"),
      header("If-Match"),
      header("If-None-Match"),
      header("If-Unmodified-Since"),
      header("Range"),
  };
  std::string out = absl::StrJoin(lines, "\n");
  out.push_back('\n');

  std::map<std::string, std::string, decltype(&CultureLess)> ms_headers(&CultureLess);
  for (const auto& [k, v] : request.headers) {
    std::string name = absl::AsciiStrToLower(k);
    if (absl::StartsWith(name, "x-ms-") && !ms_headers.count(name)) {
      ms_headers[name] = std::string(absl::StripLeadingAsciiWhitespace(v));
    }
  }
  for (const auto& [k, v] : ms_headers) absl::StrAppend(&out, k, ":", v, "\n");

  absl::StatusOr<http::Url> url = http::ParseUrl(request.url);
  std::string path = url.ok() && !url->path.empty() ? url->path : "/";
  absl::StrAppend(&out, "/", account_, path);
  if (url.ok()) {
    std::map<std::string, std::vector<std::string>> params;
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> query = http::ParseQuery(url->query);
    if (query.ok()) {
      for (const auto& [k, v] : *query) params[absl::AsciiStrToLower(k)].push_back(v);
    }
    for (const auto& [k, values] : params) absl::StrAppend(&out, "\n", k, ":", absl::StrJoin(values, ","));
  }
  return out;
}

std::string SharedKeyCredential::Hmac(absl::string_view string_to_sign) const {
  return crypto::Base64Encode(crypto::HmacSha256(key_, string_to_sign));
}

void SharedKeyCredential::Sign(http::HttpRequest* request) const {
  request->headers.emplace_back("Authorization",
                                absl::StrCat("SharedKey ", account_, ":", Hmac(StringToSign(*request))));
}

absl::StatusOr<SasToken> MakeServiceSas(const SharedKeyCredential& credential, const SasOptions& options) {
  if (options.container.empty()) return absl::InvalidArgumentError("SAS needs a container");
  if (options.permissions.empty()) return absl::InvalidArgumentError("SAS needs permissions");
  if (!options.snapshot.empty() && options.blob.empty()) {
    return absl::InvalidArgumentError("a snapshot SAS needs a blob name");
  }
  std::string resource = options.blob.empty() ? "c" : (options.snapshot.empty() ? "b" : "bs");
  std::string canonical = absl::StrCat("/blob/", credential.account(), "/", options.container);
  if (!options.blob.empty()) absl::StrAppend(&canonical, "/", options.blob);
  std::string start = options.start ? Iso8601(*options.start) : "";
  std::string expiry = Iso8601(options.expiry);
  std::vector<std::string> fields = {
      options.permissions,
      start,
      expiry,
      canonical,
      "",  // signed identifier
      "",  // IP range
      "",  // protocol
      std::string(kStorageVersion),
      resource,
      options.snapshot,
      "",  // encryption scope
      "",
      "",
      "",
      "",
      "",  // rscc, rscd, rsce, rscl, rsct
  };
  SasToken token;
  token.string_to_sign = absl::StrJoin(fields, "\n");
  std::string sig = credential.Hmac(token.string_to_sign);
  std::vector<std::string> query = {absl::StrCat("sv=", kStorageVersion)};
  if (options.start) query.push_back(absl::StrCat("st=", http::PercentEncode(start)));
  query.push_back(absl::StrCat("se=", http::PercentEncode(expiry)));
  query.push_back(absl::StrCat("sr=", resource));
  query.push_back(absl::StrCat("sp=", options.permissions));
  query.push_back(absl::StrCat("sig=", http::PercentEncode(sig)));
  token.query = absl::StrJoin(query, "&");
  return token;
}

}  // namespace vmb::blob
