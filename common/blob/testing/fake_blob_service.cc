#include "common/blob/testing/fake_blob_service.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/blob/blob_uri.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/http/url.h"
#include "pugixml.hpp"

namespace vmb::blob::testing {
namespace {

http::HttpResponse Error(int status, absl::string_view code, absl::string_view message = "") {
  http::HttpResponse r;
  r.status = status;
  r.headers.emplace_back("x-ms-error-code", std::string(code));
  r.body = absl::StrCat("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>", code, "</Code><Message>",
                        message.empty() ? code : message, "\nRequestId:fake\nTime:now</Message></Error>");
  return r;
}

http::HttpResponse Ok(int status = 200) {
  http::HttpResponse r;
  r.status = status;
  return r;
}

bool ParseRange(absl::string_view header, uint64_t* start, uint64_t* end) {
  if (!absl::ConsumePrefix(&header, "bytes=")) return false;
  std::pair<absl::string_view, absl::string_view> p = absl::StrSplit(header, absl::MaxSplits('-', 1));
  return absl::SimpleAtoi(p.first, start) && absl::SimpleAtoi(p.second, end) && *end >= *start;
}

std::string Escape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

void FakeBlobService::FailNext(int count, int http_status, std::string code) {
  MutexLock lock(&mu_);
  fail_count_ = count;
  fail_status_ = http_status;
  fail_code_ = std::move(code);
}

std::vector<http::HttpRequest> FakeBlobService::requests() {
  MutexLock lock(&mu_);
  return requests_;
}

int FakeBlobService::request_count() {
  MutexLock lock(&mu_);
  return static_cast<int>(requests_.size());
}

std::string FakeBlobService::NextEtag() { return absl::StrCat("\"0x8D", ++counter_, "\""); }

std::string FakeBlobService::NextSnapshotId() {
  ++counter_;
  return absl::StrFormat("2026-11-22T00:00:%02d.%07dZ", (counter_ / 10000000) % 60, counter_ % 10000000);
}

std::string FakeBlobService::Content(const Blob& blob) {
  if (blob.type != "PageBlob") return blob.data;
  std::string out(blob.size, '\0');
  for (const auto& [off, page] : blob.pages) out.replace(off, page.size(), page);
  return out;
}

absl::StatusOr<http::HttpResponse> FakeBlobService::Send(const http::HttpRequest& request) {
  MutexLock lock(&mu_);
  requests_.push_back(request);
  if (fail_count_ > 0) {
    --fail_count_;
    if (fail_status_ == 0) return absl::UnavailableError("fake: connection reset by peer");
    http::HttpResponse r = Error(fail_status_, fail_code_);
    if (fail_status_ == 503) r.headers.emplace_back("retry-after", "1");
    return r;
  }
  http::HttpResponse response = Handle(request);
  // The transport contract: response header names arrive lower-cased, as the curl transport delivers them.
  for (auto& header : response.headers) absl::AsciiStrToLower(&header.first);
  return response;
}

http::HttpResponse FakeBlobService::Handle(const http::HttpRequest& req) {
  absl::StatusOr<BlobUri> uri = BlobUri::Parse(req.url);
  if (!uri.ok()) return Error(400, "InvalidUri", uri.status().message());
  if (!uri->has_signature() && req.Header("Authorization").empty()) {
    return Error(403, "AuthenticationFailed", "Server failed to authenticate the request.");
  }
  std::map<std::string, std::string> q;
  absl::StatusOr<http::Url> url = http::ParseUrl(req.url);
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> query = http::ParseQuery(url->query);
  if (!query.ok()) return Error(400, "InvalidQueryParameterValue");
  for (const auto& [k, v] : *query) q[k] = v;
  const std::string comp = q["comp"];
  const std::string key = absl::StrCat(uri->account(), "/", uri->container());
  const std::string& m = req.method;
  std::string md5 = req.Header("Content-MD5");
  if (!md5.empty() && md5 != crypto::Base64Encode(crypto::Md5(req.body))) {
    return Error(400, "Md5Mismatch", "The MD5 value specified in the request did not match the content.");
  }

  // Container operations.
  if (!uri->is_blob()) {
    if (q["restype"] != "container") return Error(400, "InvalidQueryParameterValue");
    if (m == "PUT") {
      if (containers_.count(key))
        return Error(409, "ContainerAlreadyExists", "The specified container already exists.");
      containers_[key];
      return Ok(201);
    }
    auto it = containers_.find(key);
    if (it == containers_.end()) return Error(404, "ContainerNotFound", "The specified container does not exist.");
    if (m == "DELETE") {
      containers_.erase(it);
      return Ok(202);
    }
    if (m == "GET" && comp == "list") {
      std::string prefix = q["prefix"], marker = q["marker"];
      bool snaps = absl::StrContains(q["include"], "snapshots");
      bool meta = absl::StrContains(q["include"], "metadata");
      int max = 5000;
      if (!q["maxresults"].empty()) absl::SimpleAtoi(q["maxresults"], &max);
      struct Entry {
        std::string name, snapshot;
        const Blob* blob;
      };
      std::vector<Entry> entries;
      for (const auto& [name, blob] : it->second.blobs) {
        if (!absl::StartsWith(name, prefix)) continue;
        if (snaps) {
          for (const auto& [id, s] : it->second.snapshots[name]) entries.push_back({name, id, &s});
        }
        entries.push_back({name, "", &blob});
      }
      std::string body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults><Blobs>";
      size_t start = 0;
      if (!marker.empty()) absl::SimpleAtoi(marker, &start);
      size_t end = std::min(entries.size(), start + static_cast<size_t>(max));
      for (size_t i = start; i < end; ++i) {
        const Entry& e = entries[i];
        absl::StrAppend(&body, "<Blob><Name>", Escape(e.name), "</Name>");
        if (!e.snapshot.empty()) absl::StrAppend(&body, "<Snapshot>", e.snapshot, "</Snapshot>");
        absl::StrAppend(&body, "<Properties><Content-Length>",
                        e.blob->type == "PageBlob" ? e.blob->size : e.blob->data.size(), "</Content-Length><BlobType>",
                        e.blob->type, "</BlobType><Etag>", e.blob->etag, "</Etag><Content-MD5>", e.blob->content_md5,
                        "</Content-MD5></Properties>");
        if (meta) {
          absl::StrAppend(&body, "<Metadata>");
          for (const auto& [k, v] : e.blob->metadata) absl::StrAppend(&body, "<", k, ">", Escape(v), "</", k, ">");
          absl::StrAppend(&body, "</Metadata>");
        }
        absl::StrAppend(&body, "</Blob>");
      }
      absl::StrAppend(&body, "</Blobs><NextMarker>", end < entries.size() ? absl::StrCat(end) : "",
                      "</NextMarker></EnumerationResults>");
      http::HttpResponse r = Ok(200);
      r.body = body;
      return r;
    }
    return Error(400, "UnsupportedHttpVerb");
  }

  auto cit = containers_.find(key);
  if (cit == containers_.end()) return Error(404, "ContainerNotFound", "The specified container does not exist.");
  Container& container = cit->second;
  const std::string& name = uri->blob();
  std::map<std::string, std::string> meta;
  for (const auto& [k, v] : req.headers) {
    std::string lower = absl::AsciiStrToLower(k);
    if (absl::StartsWith(lower, "x-ms-meta-")) meta[k.substr(10)] = v;
  }

  if (m == "PUT" && comp.empty()) {
    Blob b;
    b.type = req.Header("x-ms-blob-type");
    b.metadata = meta;
    b.etag = NextEtag();
    if (b.type == "BlockBlob") {
      b.data = req.body;
      b.content_md5 = crypto::Base64Encode(crypto::Md5(b.data));
    } else if (b.type == "PageBlob") {
      if (!absl::SimpleAtoi(req.Header("x-ms-blob-content-length"), &b.size) || b.size % 512 != 0) {
        return Error(400, "InvalidHeaderValue", "x-ms-blob-content-length must be a multiple of 512");
      }
    } else {
      return Error(400, "InvalidHeaderValue", "x-ms-blob-type");
    }
    container.blobs[name] = std::move(b);
    return Ok(201);
  }
  if (m == "PUT" && comp == "block") {
    container.blobs.try_emplace(name, Blob{"BlockBlob"});  // uncommitted blobs are invisible in real Azure; fine here
    container.blobs[name].staged[q["blockid"]] = req.body;
    return Ok(201);
  }
  if (m == "GET" && comp == "blocklist") {
    auto it = container.blobs.find(name);
    if (it == container.blobs.end()) return Error(404, "BlobNotFound", "The specified blob does not exist.");
    const std::string type = q["blocklisttype"].empty() ? "committed" : q["blocklisttype"];
    auto list = [&](const char* name, const std::map<std::string, std::string>& blocks, bool wanted) {
      std::string out = absl::StrCat("<", name, ">");
      for (const auto& [id, data] : blocks) {
        if (wanted) out += absl::StrCat("<Block><Name>", id, "</Name><Size>", data.size(), "</Size></Block>");
      }
      return absl::StrCat(out, "</", name, ">");
    };
    std::string xml = absl::StrCat("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>",
                                   list("CommittedBlocks", it->second.committed, type != "uncommitted"),
                                   list("UncommittedBlocks", it->second.staged, type != "committed"), "</BlockList>");
    http::HttpResponse r = Ok(200);
    r.body = xml;
    return r;
  }
  if (m == "PUT" && comp == "blocklist") {
    pugi::xml_document doc;
    if (!doc.load_buffer(req.body.data(), req.body.size())) return Error(400, "InvalidXmlDocument");
    Blob& b = container.blobs[name];
    std::string data;
    std::map<std::string, std::string> committed;
    for (pugi::xml_node n : doc.child("BlockList").children()) {  // Latest: uncommitted first, then committed
      const std::string id = n.child_value();
      auto staged = b.staged.find(id);
      auto kept = b.committed.find(id);
      const std::string* block = staged != b.staged.end()    ? &staged->second
                                 : kept != b.committed.end() ? &kept->second
                                                             : nullptr;
      if (block == nullptr) return Error(400, "InvalidBlockList", "The specified block list is invalid.");
      data += *block;
      committed[id] = *block;
    }
    b.type = "BlockBlob";
    b.data = std::move(data);
    b.staged.clear();
    b.committed = std::move(committed);
    b.metadata = meta;
    b.etag = NextEtag();
    b.content_md5 = "";
    return Ok(201);
  }

  auto bit = container.blobs.find(name);
  if (bit == container.blobs.end()) return Error(404, "BlobNotFound", "The specified blob does not exist.");
  Blob* blob = &bit->second;
  if (!uri->snapshot().empty()) {
    auto& snaps = container.snapshots[name];
    auto sit = snaps.find(uri->snapshot());
    if (sit == snaps.end()) return Error(404, "BlobNotFound", "The specified blob snapshot does not exist.");
    if (m == "PUT") return Error(400, "InvalidQueryParameterValue", "snapshots are read-only");
    blob = &sit->second;
  }

  if (m == "PUT" && comp == "page") {
    if (blob->type != "PageBlob") return Error(400, "InvalidBlobType");
    uint64_t start = 0, end = 0;
    if (!ParseRange(req.Header("x-ms-range"), &start, &end) || start % 512 || (end + 1) % 512 || end >= blob->size) {
      return Error(416, "InvalidPageRange", "The page range specified is invalid.");
    }
    bool clear = req.Header("x-ms-page-write") == "clear";
    if (!clear && req.body.size() != end - start + 1) return Error(400, "InvalidHeaderValue", "range/body mismatch");
    for (uint64_t off = start; off <= end; off += 512) {
      if (clear) {
        blob->pages.erase(off);
      } else {
        blob->pages[off] = req.body.substr(off - start, 512);
      }
    }
    blob->etag = NextEtag();
    return Ok(201);
  }
  if (m == "PUT" && comp == "metadata") {
    blob->metadata = meta;
    blob->etag = NextEtag();
    return Ok(200);
  }
  if (m == "PUT" && comp == "snapshot") {
    std::string id = NextSnapshotId();
    Blob copy = *blob;
    if (!meta.empty()) copy.metadata = meta;
    container.snapshots[name][id] = std::move(copy);
    http::HttpResponse r = Ok(201);
    r.headers.emplace_back("x-ms-snapshot", id);
    return r;
  }
  if (m == "GET" && comp == "pagelist") {
    std::string body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><PageList>";
    uint64_t run_start = 0, run_end = 0;
    bool in_run = false;
    auto flush = [&] {
      if (in_run)
        absl::StrAppend(&body, "<PageRange><Start>", run_start, "</Start><End>", run_end - 1, "</End></PageRange>");
    };
    for (const auto& [off, page] : blob->pages) {
      if (in_run && off == run_end) {
        run_end += 512;
      } else {
        flush();
        run_start = off;
        run_end = off + 512;
        in_run = true;
      }
    }
    flush();
    body += "</PageList>";
    http::HttpResponse r = Ok(200);
    r.body = body;
    return r;
  }
  if ((m == "GET" || m == "HEAD") && comp.empty()) {
    std::string content = Content(*blob);
    http::HttpResponse r = Ok(200);
    std::string range = req.Header("x-ms-range");
    if (!range.empty()) {
      uint64_t start = 0, end = 0;
      if (!ParseRange(range, &start, &end) || start >= content.size()) {
        return Error(416, "InvalidRange", "The range specified is invalid for the current size of the resource.");
      }
      content = content.substr(start, end - start + 1);
      r.status = 206;
    }
    r.headers.emplace_back("content-length", absl::StrCat(m == "HEAD" ? Content(*blob).size() : content.size()));
    r.headers.emplace_back("x-ms-blob-type", blob->type);
    r.headers.emplace_back("etag", blob->etag);
    r.headers.emplace_back("last-modified", "Sun, 22 Nov 2026 00:00:00 GMT");
    if (!blob->content_md5.empty()) r.headers.emplace_back("content-md5", blob->content_md5);
    for (const auto& [k, v] : blob->metadata) r.headers.emplace_back(absl::StrCat("x-ms-meta-", k), v);
    if (m == "GET") r.body = std::move(content);
    return r;
  }
  if (m == "DELETE") {
    if (!uri->snapshot().empty()) {
      container.snapshots[name].erase(uri->snapshot());
      return Ok(202);
    }
    if (!container.snapshots[name].empty() && req.Header("x-ms-delete-snapshots") != "include") {
      return Error(409, "SnapshotsPresent", "This operation is not permitted because the blob has snapshots.");
    }
    container.snapshots.erase(name);
    container.blobs.erase(bit);
    return Ok(202);
  }
  return Error(400, "UnsupportedHttpVerb");
}

}  // namespace vmb::blob::testing
