#include "common/blob/blob_client.h"

#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/status/http_status.h"
#include "common/status/status_macros.h"
#include "pugixml.hpp"

namespace vmb::blob {
namespace {

absl::Status CheckAligned(const char* what, uint64_t value) {
  if (value % kPageSize != 0) {
    return absl::InvalidArgumentError(absl::StrCat("page blob ", what, " ", value, " is not a multiple of 512"));
  }
  return absl::OkStatus();
}

std::string RangeHeader(uint64_t offset, uint64_t length) {
  return absl::StrCat("bytes=", offset, "-", offset + length - 1);
}

absl::Time ParseHttpDate(absl::string_view s) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(s), absl::UTCTimeZone(), &t, &err)) return t;
  return absl::InfinitePast();
}

uint64_t ToU64(absl::string_view s) {
  uint64_t v = 0;
  return absl::SimpleAtoi(s, &v) ? v : 0;
}

BlobProperties PropertiesFromHeaders(const http::HttpResponse& r) {
  BlobProperties p;
  p.content_length = ToU64(r.Header("content-length"));
  p.blob_type = r.Header("x-ms-blob-type");
  p.etag = r.Header("etag");
  p.content_md5 = r.Header("content-md5");
  p.last_modified = ParseHttpDate(r.Header("last-modified"));
  for (const auto& [k, v] : r.headers) {
    if (absl::StartsWith(k, "x-ms-meta-")) p.metadata[k.substr(10)] = v;
  }
  return p;
}

absl::StatusOr<pugi::xml_document*> ParseXml(pugi::xml_document* doc, const std::string& body, const char* what) {
  pugi::xml_parse_result r = doc->load_buffer(body.data(), body.size());
  if (!r) return absl::DataLossError(absl::StrCat(what, ": response is not XML: ", r.description()));
  return doc;
}

}  // namespace

std::string BlockId(uint64_t index) { return crypto::Base64Encode(absl::StrFormat("block-%012d", index)); }

BlobClient::BlobClient(http::HttpTransport* transport, std::optional<SharedKeyCredential> credential,
                       BlobClientOptions options)
    : transport_(transport),
      credential_(std::move(credential)),
      options_(options),
      clock_(options.clock ? options.clock : &RealClock()) {}

absl::Status BlobClient::AddMetadata(const Metadata& metadata, http::Headers* headers) {
  for (const auto& [k, v] : metadata) {
    if (!IsValidMetadataName(k)) {
      return absl::InvalidArgumentError(absl::StrCat("metadata name \"", k,
                                                     "\" is not valid: use letters, digits and '_', not starting "
                                                     "with a digit"));
    }
    headers->emplace_back(absl::StrCat("x-ms-meta-", k), v);
  }
  return absl::OkStatus();
}

absl::StatusOr<http::HttpResponse> BlobClient::Execute(const Call& call) {
  http::HttpRequest request;
  request.method = call.method;
  request.url = call.uri->RequestUrl(call.params, call.include_snapshot);
  request.timeout = options_.request_timeout;
  request.headers = call.headers;
  request.headers.emplace_back("x-ms-version", std::string(kStorageVersion));
  request.headers.emplace_back("x-ms-date", HttpDate(clock_->Now()));
  if (call.method == "PUT" || call.method == "POST") {
    request.headers.emplace_back("Content-Length", absl::StrCat(call.body.size()));
  }
  request.body = std::string(call.body);
  if (credential_) credential_->Sign(&request);
  absl::StatusOr<http::HttpResponse> response = http::SendWithRetry(*transport_, request, options_.retry, *clock_);
  std::string what = absl::StrCat(call.operation, " ", call.uri->Redacted());
  if (!response.ok())
    return absl::Status(response.status().code(), absl::StrCat(what, ": ", response.status().message()));
  if (response->status < 200 || response->status >= 300) {
    return StatusFromHttpResponse(what, response->status, call.method == "HEAD" ? "" : response->body,
                                  response->Header("x-ms-error-code"));
  }
  return response;
}

absl::Status BlobClient::CreateContainer(const BlobUri& container) {
  absl::StatusOr<http::HttpResponse> r =
      Execute({"Create Container", &container, "PUT", {{"restype", "container"}}, {}, {}});
  if (!r.ok() && AzureErrorCodeOf(r.status()) == "ContainerAlreadyExists") return absl::OkStatus();
  return r.status();
}

absl::Status BlobClient::DeleteContainer(const BlobUri& container) {
  return Execute({"Delete Container", &container, "DELETE", {{"restype", "container"}}, {}, {}}).status();
}

namespace {

void AddConditions(const WriteConditions& c, http::Headers* headers) {
  if (!c.lease_id.empty()) headers->emplace_back("x-ms-lease-id", c.lease_id);
  if (c.if_none_match_any) headers->emplace_back("If-None-Match", "*");
}

// A write refused because its If-None-Match: * found the blob: Azure answers 409 BlobAlreadyExists (412 from some
// services).
absl::Status ExistsAsAlreadyExists(absl::Status s, const WriteConditions& c) {
  if (s.ok() || !c.if_none_match_any) return s;
  std::optional<int> code = HttpStatusOf(s);
  if (code == 409 || code == 412) return absl::AlreadyExistsError(s.message());
  return s;
}

}  // namespace

absl::Status BlobClient::PutBlockBlob(const BlobUri& blob, absl::string_view data, const Metadata& metadata,
                                      absl::string_view content_type, const WriteConditions& conditions) {
  http::Headers headers = {{"x-ms-blob-type", "BlockBlob"},
                           {"Content-Type", std::string(content_type)},
                           {"Content-MD5", crypto::Base64Encode(crypto::Md5(data))}};
  RETURN_IF_ERROR(AddMetadata(metadata, &headers));
  AddConditions(conditions, &headers);
  return ExistsAsAlreadyExists(Execute({"Put Blob", &blob, "PUT", {}, headers, data}).status(), conditions);
}

absl::Status BlobClient::PutBlock(const BlobUri& blob, absl::string_view block_id, absl::string_view data) {
  http::Headers headers = {{"Content-MD5", crypto::Base64Encode(crypto::Md5(data))}};
  return Execute({"Put Block", &blob, "PUT", {{"comp", "block"}, {"blockid", std::string(block_id)}}, headers, data})
      .status();
}

absl::Status BlobClient::PutBlockList(const BlobUri& blob, const std::vector<std::string>& block_ids,
                                      const Metadata& metadata, absl::string_view content_type) {
  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "utf-8";
  pugi::xml_node list = doc.append_child("BlockList");
  for (const std::string& id : block_ids) list.append_child("Latest").text().set(id.c_str());
  std::ostringstream xml;
  doc.save(xml, "", pugi::format_raw);
  std::string body = xml.str();
  http::Headers headers = {{"Content-Type", "application/xml"}, {"x-ms-blob-content-type", std::string(content_type)}};
  RETURN_IF_ERROR(AddMetadata(metadata, &headers));
  return Execute({"Put Block List", &blob, "PUT", {{"comp", "blocklist"}}, headers, body}).status();
}

absl::StatusOr<std::vector<std::pair<std::string, uint64_t>>> BlobClient::GetBlockList(const BlobUri& blob,
                                                                                       const char* type) {
  ASSIGN_OR_RETURN(http::HttpResponse r,
                   Execute({"Get Block List", &blob, "GET", {{"comp", "blocklist"}, {"blocklisttype", type}}, {}, {}}));
  pugi::xml_document doc;
  RETURN_IF_ERROR(ParseXml(&doc, r.body, "Get Block List").status());
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const char* list : {"CommittedBlocks", "UncommittedBlocks"}) {
    for (pugi::xml_node b : doc.child("BlockList").child(list).children("Block")) {
      out.emplace_back(b.child_value("Name"), ToU64(b.child_value("Size")));
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, uint64_t>>> BlobClient::GetUncommittedBlocks(const BlobUri& blob) {
  return GetBlockList(blob, "uncommitted");
}

absl::StatusOr<std::vector<std::pair<std::string, uint64_t>>> BlobClient::GetAllBlocks(const BlobUri& blob) {
  return GetBlockList(blob, "all");
}

absl::Status BlobClient::UploadBlockBlob(const BlobUri& blob, absl::string_view data, const UploadOptions& options) {
  if (options.block_size == 0) return absl::InvalidArgumentError("block size must be > 0");
  uint64_t blocks = data.empty() ? 0 : (data.size() + options.block_size - 1) / options.block_size;
  if (blocks <= 1) return PutBlockBlob(blob, data, options.metadata, options.content_type);
  if (blocks > 50000) return absl::InvalidArgumentError("more than 50000 blocks: use a larger block size");
  std::atomic<uint64_t> next{0};
  std::mutex mu;
  absl::Status first_error;
  auto worker = [&] {
    for (;;) {
      uint64_t i = next.fetch_add(1);
      if (i >= blocks) return;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!first_error.ok()) return;
      }
      absl::Status s = PutBlock(blob, BlockId(i), data.substr(i * options.block_size, options.block_size));
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) first_error = s;
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, options.parallelism); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  RETURN_IF_ERROR(first_error);
  std::vector<std::string> ids;
  for (uint64_t i = 0; i < blocks; ++i) ids.push_back(BlockId(i));
  return PutBlockList(blob, ids, options.metadata, options.content_type);
}

absl::Status BlobClient::CreatePageBlob(const BlobUri& blob, uint64_t size, const Metadata& metadata) {
  RETURN_IF_ERROR(CheckAligned("size", size));
  http::Headers headers = {{"x-ms-blob-type", "PageBlob"}, {"x-ms-blob-content-length", absl::StrCat(size)}};
  RETURN_IF_ERROR(AddMetadata(metadata, &headers));
  return Execute({"Create Page Blob", &blob, "PUT", {}, headers, {}}).status();
}

absl::Status BlobClient::PutPages(const BlobUri& blob, uint64_t offset, absl::string_view data) {
  RETURN_IF_ERROR(CheckAligned("offset", offset));
  RETURN_IF_ERROR(CheckAligned("write length", data.size()));
  if (data.empty()) return absl::OkStatus();
  if (data.size() > kMaxPutPageBytes) {
    return absl::InvalidArgumentError(absl::StrCat("Put Page of ", data.size(), " bytes exceeds 4 MiB"));
  }
  http::Headers headers = {{"x-ms-page-write", "update"},
                           {"x-ms-range", RangeHeader(offset, data.size())},
                           {"Content-MD5", crypto::Base64Encode(crypto::Md5(data))}};
  return Execute({"Put Page", &blob, "PUT", {{"comp", "page"}}, headers, data}).status();
}

absl::Status BlobClient::ClearPages(const BlobUri& blob, uint64_t offset, uint64_t length) {
  RETURN_IF_ERROR(CheckAligned("offset", offset));
  RETURN_IF_ERROR(CheckAligned("clear length", length));
  if (length == 0) return absl::OkStatus();
  http::Headers headers = {{"x-ms-page-write", "clear"}, {"x-ms-range", RangeHeader(offset, length)}};
  return Execute({"Clear Pages", &blob, "PUT", {{"comp", "page"}}, headers, {}}).status();
}

absl::StatusOr<std::vector<ByteRange>> BlobClient::GetPageRanges(const BlobUri& blob) {
  ASSIGN_OR_RETURN(http::HttpResponse r, Execute({"Get Page Ranges", &blob, "GET", {{"comp", "pagelist"}}, {}, {}}));
  pugi::xml_document doc;
  RETURN_IF_ERROR(ParseXml(&doc, r.body, "Get Page Ranges").status());
  std::vector<ByteRange> out;
  for (pugi::xml_node range : doc.child("PageList").children("PageRange")) {
    uint64_t start = ToU64(range.child_value("Start")), end = ToU64(range.child_value("End"));
    if (end < start) return absl::DataLossError("Get Page Ranges: a range ends before it starts");
    out.push_back({start, end - start + 1});
  }
  return out;
}

absl::StatusOr<std::string> BlobClient::GetBlob(const BlobUri& blob, std::optional<ByteRange> range) {
  http::Headers headers;
  if (range) {
    if (range->length == 0) return std::string();
    headers.emplace_back("x-ms-range", RangeHeader(range->offset, range->length));
  }
  ASSIGN_OR_RETURN(http::HttpResponse r, Execute({"Get Blob", &blob, "GET", {}, headers, {}}));
  if (range && r.body.size() != range->length) {
    return absl::DataLossError(absl::StrCat("Get Blob ", blob.Redacted(), ": asked for ", range->length, " bytes at ",
                                            range->offset, ", got ", r.body.size()));
  }
  return std::move(r.body);
}

absl::StatusOr<BlobProperties> BlobClient::GetProperties(const BlobUri& blob) {
  ASSIGN_OR_RETURN(http::HttpResponse r, Execute({"Get Blob Properties", &blob, "HEAD", {}, {}, {}}));
  return PropertiesFromHeaders(r);
}

absl::Status BlobClient::SetMetadata(const BlobUri& blob, const Metadata& metadata, const WriteConditions& conditions) {
  http::Headers headers;
  RETURN_IF_ERROR(AddMetadata(metadata, &headers));
  AddConditions(conditions, &headers);
  return Execute({"Set Blob Metadata", &blob, "PUT", {{"comp", "metadata"}}, headers, {}}).status();
}

absl::StatusOr<std::string> BlobClient::AcquireLease(const BlobUri& blob, int seconds) {
  http::Headers headers = {{"x-ms-lease-action", "acquire"}, {"x-ms-lease-duration", absl::StrCat(seconds)}};
  ASSIGN_OR_RETURN(http::HttpResponse r,
                   Execute({"Lease Blob (acquire)", &blob, "PUT", {{"comp", "lease"}}, headers, {}}));
  std::string id = r.Header("x-ms-lease-id");
  if (id.empty()) return absl::DataLossError("Lease Blob (acquire): the answer has no x-ms-lease-id");
  return id;
}

absl::Status BlobClient::RenewLease(const BlobUri& blob, const std::string& lease_id) {
  http::Headers headers = {{"x-ms-lease-action", "renew"}, {"x-ms-lease-id", lease_id}};
  return Execute({"Lease Blob (renew)", &blob, "PUT", {{"comp", "lease"}}, headers, {}}).status();
}

absl::Status BlobClient::BreakLease(const BlobUri& blob) {
  http::Headers headers = {{"x-ms-lease-action", "break"}, {"x-ms-lease-break-period", "0"}};
  return Execute({"Lease Blob (break)", &blob, "PUT", {{"comp", "lease"}}, headers, {}}).status();
}

absl::Status BlobClient::ReleaseLease(const BlobUri& blob, const std::string& lease_id) {
  http::Headers headers = {{"x-ms-lease-action", "release"}, {"x-ms-lease-id", lease_id}};
  return Execute({"Lease Blob (release)", &blob, "PUT", {{"comp", "lease"}}, headers, {}}).status();
}

absl::StatusOr<std::vector<BlobItem>> BlobClient::ListBlobs(const BlobUri& container, const ListOptions& options) {
  std::vector<BlobItem> out;
  std::string marker;
  BlobUri c = container.WithContainer(container.container());
  do {
    std::vector<std::pair<std::string, std::string>> params = {{"restype", "container"}, {"comp", "list"}};
    if (!options.prefix.empty()) params.emplace_back("prefix", options.prefix);
    std::string include;
    if (options.include_snapshots) include = "snapshots";
    if (options.include_metadata) include = include.empty() ? "metadata" : include + ",metadata";
    if (!include.empty()) params.emplace_back("include", include);
    if (options.page_size > 0) params.emplace_back("maxresults", absl::StrCat(options.page_size));
    if (!marker.empty()) params.emplace_back("marker", marker);
    ASSIGN_OR_RETURN(http::HttpResponse r, Execute({"List Blobs", &c, "GET", params, {}, {}}));
    pugi::xml_document doc;
    RETURN_IF_ERROR(ParseXml(&doc, r.body, "List Blobs").status());
    pugi::xml_node root = doc.child("EnumerationResults");
    if (!root) return absl::DataLossError("List Blobs: response has no EnumerationResults");
    for (pugi::xml_node b : root.child("Blobs").children("Blob")) {
      BlobItem item;
      item.name = b.child_value("Name");
      item.snapshot = b.child_value("Snapshot");
      pugi::xml_node p = b.child("Properties");
      item.properties.content_length = ToU64(p.child_value("Content-Length"));
      item.properties.blob_type = p.child_value("BlobType");
      item.properties.etag = p.child_value("Etag");
      item.properties.content_md5 = p.child_value("Content-MD5");
      item.properties.last_modified = ParseHttpDate(p.child_value("Last-Modified"));
      for (pugi::xml_node m : b.child("Metadata").children()) item.properties.metadata[m.name()] = m.child_value();
      out.push_back(std::move(item));
    }
    marker = root.child_value("NextMarker");
  } while (!marker.empty());
  return out;
}

absl::StatusOr<BlobUri> BlobClient::SnapshotBlob(const BlobUri& blob, const Metadata& metadata) {
  http::Headers headers;
  RETURN_IF_ERROR(AddMetadata(metadata, &headers));
  ASSIGN_OR_RETURN(http::HttpResponse r,
                   Execute({"Snapshot Blob", &blob, "PUT", {{"comp", "snapshot"}}, headers, {}, false}));
  std::string id = r.Header("x-ms-snapshot");
  if (id.empty()) return absl::DataLossError(absl::StrCat("Snapshot Blob ", blob.Redacted(), ": no x-ms-snapshot"));
  return blob.WithSnapshot(id);
}

absl::Status BlobClient::DeleteBlob(const BlobUri& blob, bool include_snapshots) {
  http::Headers headers;
  if (include_snapshots && blob.snapshot().empty()) headers.emplace_back("x-ms-delete-snapshots", "include");
  return Execute({"Delete Blob", &blob, "DELETE", {}, headers, {}}).status();
}

}  // namespace vmb::blob
