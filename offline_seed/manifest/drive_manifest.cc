#include "offline_seed/manifest/drive_manifest.h"

#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pugixml.hpp"

namespace vmb::offline::manifest {
namespace {

bool IsHex32(absl::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

absl::Status Validate(const DriveManifest& m) {
  if (m.drive_id.empty()) return absl::InvalidArgumentError("manifest has no DriveId");
  std::set<std::string> paths;
  for (const BlobEntry& b : m.blobs) {
    if (b.blob_path.empty() || b.blob_path.find('/') == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("BlobPath \"", b.blob_path, "\" must be container/blob"));
    }
    if (!paths.insert(b.blob_path).second) {
      return absl::InvalidArgumentError(absl::StrCat("blob ", b.blob_path, " is listed twice"));
    }
    if (b.file_path.empty()) return absl::InvalidArgumentError(absl::StrCat("blob ", b.blob_path, " has no FilePath"));
    if (b.length % 512) {
      return absl::InvalidArgumentError(
          absl::StrCat("blob ", b.blob_path, ": page blob length ", b.length, " is not a multiple of 512"));
    }
    if (b.import_disposition != "rename" && b.import_disposition != "no-overwrite" &&
        b.import_disposition != "overwrite") {
      return absl::InvalidArgumentError(absl::StrCat("blob ", b.blob_path, ": ImportDisposition \"",
                                                     b.import_disposition,
                                                     "\" is not rename, no-overwrite or overwrite"));
    }
    uint64_t end = 0;
    for (size_t i = 0; i < b.ranges.size(); ++i) {
      const PageRange& r = b.ranges[i];
      std::string where = absl::StrCat("blob ", b.blob_path, " range ", i, " (offset ", r.offset, ")");
      if (r.offset % 512 || r.length % 512 || r.length == 0) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": offset and length must be non-zero multiples of 512"));
      }
      if (r.length > kMaxRange) return absl::InvalidArgumentError(absl::StrCat(where, ": longer than 4 MiB"));
      if (r.offset < end)
        return absl::InvalidArgumentError(absl::StrCat(where, ": not sorted or overlaps the previous range"));
      if (r.offset + r.length > b.length)
        return absl::InvalidArgumentError(absl::StrCat(where, ": beyond the blob's length"));
      if (!IsHex32(r.md5_hex)) return absl::InvalidArgumentError(absl::StrCat(where, ": Hash is not 32 hex digits"));
      end = r.offset + r.length;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Serialize(const DriveManifest& m) {
  absl::Status valid = Validate(m);
  if (!valid.ok()) return valid;
  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  pugi::xml_node root = doc.append_child("DriveManifest");
  root.append_attribute("Version") = kManifestVersion;
  pugi::xml_node drive = root.append_child("Drive");
  drive.append_child("DriveId").text().set(m.drive_id.c_str());
  pugi::xml_node list = drive.append_child("BlobList");
  for (const BlobEntry& b : m.blobs) {
    pugi::xml_node blob = list.append_child("Blob");
    blob.append_child("BlobPath").text().set(b.blob_path.c_str());
    blob.append_child("FilePath").text().set(b.file_path.c_str());
    blob.append_child("Length").text().set(absl::StrCat(b.length).c_str());
    blob.append_child("ImportDisposition").text().set(b.import_disposition.c_str());
    pugi::xml_node ranges = blob.append_child("PageRangeList");
    for (const PageRange& r : b.ranges) {
      pugi::xml_node pr = ranges.append_child("PageRange");
      pr.append_attribute("Offset") = absl::StrCat(r.offset).c_str();
      pr.append_attribute("Length") = absl::StrCat(r.length).c_str();
      pr.append_attribute("Hash") = absl::AsciiStrToUpper(r.md5_hex).c_str();
    }
  }
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_indent, pugi::encoding_utf8);
  return out.str();
}

absl::StatusOr<DriveManifest> Parse(absl::string_view xml) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) {
    return absl::DataLossError(
        absl::StrCat("drive manifest is not XML: ", parsed.description(), " at offset ", parsed.offset));
  }
  pugi::xml_node root = doc.child("DriveManifest");
  if (!root) return absl::DataLossError("drive manifest has no <DriveManifest> root");
  std::string version = root.attribute("Version").value();
  if (version != kManifestVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("drive manifest version \"", version, "\" is not ", kManifestVersion));
  }
  pugi::xml_node drive = root.child("Drive");
  DriveManifest m;
  m.drive_id = drive.child_value("DriveId");
  for (pugi::xml_node list : drive.children("BlobList")) {
    for (pugi::xml_node blob : list.children("Blob")) {
      BlobEntry b;
      b.blob_path = blob.child_value("BlobPath");
      b.file_path = blob.child_value("FilePath");
      if (!absl::SimpleAtoi(blob.child_value("Length"), &b.length)) {
        return absl::InvalidArgumentError(absl::StrCat("blob ", b.blob_path, ": Length is not a number"));
      }
      if (blob.child("ImportDisposition")) b.import_disposition = blob.child_value("ImportDisposition");
      for (pugi::xml_node pr : blob.child("PageRangeList").children("PageRange")) {
        PageRange r;
        if (!absl::SimpleAtoi(pr.attribute("Offset").value(), &r.offset) ||
            !absl::SimpleAtoi(pr.attribute("Length").value(), &r.length)) {
          return absl::InvalidArgumentError(
              absl::StrCat("blob ", b.blob_path, ": a PageRange has a bad Offset or Length"));
        }
        r.md5_hex = absl::AsciiStrToUpper(pr.attribute("Hash").value());
        b.ranges.push_back(std::move(r));
      }
      m.blobs.push_back(std::move(b));
    }
  }
  absl::Status valid = Validate(m);
  if (!valid.ok()) return valid;
  return m;
}

}  // namespace vmb::offline::manifest
