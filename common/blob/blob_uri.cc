#include "common/blob/blob_uri.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/log/redact.h"

namespace vmb::blob {
namespace {

bool IsIpOrLocalHost(absl::string_view host) {
  if (host == "localhost" || absl::StrContains(host, ':')) return true;
  for (char c : host) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '.') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<BlobUri> BlobUri::Parse(absl::string_view uri) {
  absl::StatusOr<http::Url> url = http::ParseUrl(absl::StripAsciiWhitespace(uri));
  if (!url.ok()) return absl::InvalidArgumentError(absl::StrCat("invalid blob URI: ", url.status().message()));
  BlobUri out;
  out.url_ = *url;
  out.path_style_ = IsIpOrLocalHost(url->host);
  std::vector<std::string> segments = absl::StrSplit(url->path, '/', absl::SkipEmpty());
  size_t next = 0;
  if (out.path_style_) {
    if (segments.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid blob URI for host ", url->host, ": path-style URIs start with the account name"));
    }
    out.account_ = segments[next++];
  } else {
    out.account_ = std::string(url->host.substr(0, url->host.find('.')));
  }
  if (out.account_.empty()) return absl::InvalidArgumentError("invalid blob URI: no account name");
  if (next < segments.size()) {
    absl::StatusOr<std::string> c = http::PercentDecode(segments[next++]);
    if (!c.ok()) return absl::InvalidArgumentError(absl::StrCat("invalid container name: ", c.status().message()));
    out.container_ = *c;
  }
  if (next < segments.size()) {
    std::vector<absl::string_view> rest(segments.begin() + next, segments.end());
    absl::StatusOr<std::string> b = http::PercentDecode(absl::StrJoin(rest, "/"));
    if (!b.ok()) return absl::InvalidArgumentError(absl::StrCat("invalid blob name: ", b.status().message()));
    out.blob_ = *b;
  }
  std::vector<std::string> kept;
  for (absl::string_view part : absl::StrSplit(url->query, '&', absl::SkipEmpty())) {
    if (absl::StartsWithIgnoreCase(part, "snapshot=")) {
      absl::StatusOr<std::string> s = http::PercentDecode(part.substr(9));
      if (!s.ok()) return absl::InvalidArgumentError("invalid snapshot parameter in blob URI");
      out.snapshot_ = *s;
    } else {
      kept.emplace_back(part);
    }
  }
  out.sas_ = absl::StrJoin(kept, "&");
  if (!http::ParseQuery(out.sas_).ok()) {
    return absl::InvalidArgumentError("invalid blob URI: bad percent-encoding in the SAS query");
  }
  return out;
}

absl::StatusOr<BlobUri> BlobUri::ForAccount(absl::string_view endpoint) {
  absl::StatusOr<BlobUri> uri = Parse(endpoint);
  if (!uri.ok()) return uri.status();
  if (!uri->container_.empty()) {
    return absl::InvalidArgumentError("account endpoint must not name a container");
  }
  return uri;
}

bool BlobUri::has_signature() const { return SasParam("sig").has_value(); }

std::optional<std::string> BlobUri::SasParam(absl::string_view name) const {
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> params = http::ParseQuery(sas_);
  if (!params.ok()) return std::nullopt;
  for (const auto& [k, v] : *params) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::optional<absl::Time> BlobUri::SasExpiry() const {
  std::optional<std::string> se = SasParam("se");
  if (!se) return std::nullopt;
  absl::Time t;
  std::string err;
  for (const char* format : {"%Y-%m-%dT%H:%M:%E*SZ", "%Y-%m-%dT%H:%MZ", "%Y-%m-%d"}) {
    if (absl::ParseTime(format, *se, absl::UTCTimeZone(), &t, &err)) return t;
  }
  return std::nullopt;
}

absl::Status BlobUri::CheckSasUsable(absl::Time now) const {
  if (!has_signature()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "blob URI ", Redacted(), " has no SAS signature (sig=); the backup service must send a signed URI"));
  }
  std::optional<std::string> se = SasParam("se");
  if (!se) return absl::OkStatus();  // tied to a stored access policy; the server decides
  std::optional<absl::Time> expiry = SasExpiry();
  if (!expiry) {
    return absl::InvalidArgumentError(absl::StrCat("blob URI ", Redacted(), " has an unreadable SAS expiry se=", *se));
  }
  if (*expiry <= now) {
    return absl::PermissionDeniedError(absl::StrCat(
        "SAS of ", Redacted(), " expired at ", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", *expiry, absl::UTCTimeZone()),
        " (now ", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone()),
        "); the next backup job brings fresh URIs, or check the VM's clock"));
  }
  return absl::OkStatus();
}

std::string BlobUri::ResourceUrl() const {
  std::string out = url_.Origin();
  if (path_style_) absl::StrAppend(&out, "/", account_);
  if (!container_.empty()) absl::StrAppend(&out, "/", http::PercentEncode(container_));
  if (!blob_.empty()) absl::StrAppend(&out, "/", http::PercentEncode(blob_, /*keep_slash=*/true));
  return out;
}

std::string BlobUri::RequestUrl(const std::vector<std::pair<std::string, std::string>>& params,
                                bool include_snapshot) const {
  std::vector<std::string> parts;
  for (const auto& [k, v] : params) parts.push_back(absl::StrCat(http::PercentEncode(k), "=", http::PercentEncode(v)));
  if (include_snapshot && !snapshot_.empty())
    parts.push_back(absl::StrCat("snapshot=", http::PercentEncode(snapshot_)));
  if (!sas_.empty()) parts.push_back(sas_);
  std::string url = ResourceUrl();
  if (!parts.empty()) absl::StrAppend(&url, "?", absl::StrJoin(parts, "&"));
  return url;
}

BlobUri BlobUri::WithContainer(absl::string_view container) const {
  BlobUri out = *this;
  out.container_ = std::string(container);
  out.blob_.clear();
  out.snapshot_.clear();
  return out;
}

BlobUri BlobUri::WithBlob(absl::string_view blob) const {
  BlobUri out = *this;
  out.blob_ = std::string(blob);
  out.snapshot_.clear();
  return out;
}

BlobUri BlobUri::WithSnapshot(absl::string_view snapshot) const {
  BlobUri out = *this;
  out.snapshot_ = std::string(snapshot);
  return out;
}

BlobUri BlobUri::WithSas(absl::string_view sas) const {
  BlobUri out = *this;
  out.sas_ = std::string(absl::StripPrefix(sas, "?"));
  return out;
}

std::string BlobUri::ToString() const { return RequestUrl(); }

std::string BlobUri::Redacted() const { return RedactSecrets(ToString()); }

bool IsValidMetadataName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace vmb::blob
