#include "common/status/http_status.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "pugixml.hpp"

namespace vmb {

absl::StatusCode HttpStatusToCode(int http_status) {
  if (http_status >= 200 && http_status < 300) return absl::StatusCode::kOk;
  switch (http_status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 408:
    case 504:
      return absl::StatusCode::kDeadlineExceeded;
    case 409:
      return absl::StatusCode::kAborted;
    case 412:
      return absl::StatusCode::kFailedPrecondition;
    case 413:
    case 416:
      return absl::StatusCode::kOutOfRange;
    case 429:
    case 500:
    case 502:
    case 503:
      return absl::StatusCode::kUnavailable;
    default:
      break;
  }
  if (http_status >= 400 && http_status < 500) return absl::StatusCode::kInvalidArgument;
  if (http_status >= 500 && http_status < 600) return absl::StatusCode::kUnavailable;
  return absl::StatusCode::kUnknown;
}

absl::StatusOr<AzureError> ParseAzureErrorXml(absl::string_view body) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(body.data(), body.size());
  if (!parsed) {
    return absl::InvalidArgumentError(
        absl::StrCat("Azure error body is not XML: ", parsed.description(), " at offset ", parsed.offset));
  }
  pugi::xml_node error = doc.child("Error");
  if (!error) return absl::InvalidArgumentError("Azure error body has no <Error> root element");
  AzureError out;
  out.code = std::string(absl::StripAsciiWhitespace(error.child_value("Code")));
  // Azure appends "\nRequestId:...\nTime:..." to the message; keep the human part.
  std::string message = error.child_value("Message");
  std::vector<std::string> lines = absl::StrSplit(message, '\n');
  out.message = lines.empty() ? "" : std::string(absl::StripAsciiWhitespace(lines[0]));
  out.authentication_error_detail =
      std::string(absl::StripAsciiWhitespace(error.child_value("AuthenticationErrorDetail")));
  return out;
}

absl::Status StatusFromHttpResponse(absl::string_view operation, int http_status, absl::string_view body,
                                    absl::string_view x_ms_error_code) {
  absl::StatusCode code = HttpStatusToCode(http_status);
  if (code == absl::StatusCode::kOk) return absl::OkStatus();
  std::string azure_code(x_ms_error_code);
  std::string detail;
  if (!body.empty()) {
    absl::StatusOr<AzureError> parsed = ParseAzureErrorXml(body);
    if (parsed.ok()) {
      if (azure_code.empty()) azure_code = parsed->code;
      detail = parsed->message;
      if (!parsed->authentication_error_detail.empty()) {
        absl::StrAppend(&detail, " (", parsed->authentication_error_detail, ")");
      }
    } else {
      constexpr size_t kMaxEcho = 200;
      std::string excerpt(body.substr(0, kMaxEcho));
      for (char& c : excerpt) {
        if (!absl::ascii_isprint(static_cast<unsigned char>(c))) c = '.';
      }
      detail = absl::StrCat("non-XML error body: \"", excerpt, body.size() > kMaxEcho ? "...\"" : "\"");
    }
  }
  std::string message = absl::StrCat(operation, ": HTTP ", http_status);
  if (!azure_code.empty()) absl::StrAppend(&message, " ", azure_code);
  if (!detail.empty()) absl::StrAppend(&message, ": ", detail);
  absl::Status status(code, message);
  status.SetPayload(kHttpStatusPayload, absl::Cord(absl::StrCat(http_status)));
  if (!azure_code.empty()) status.SetPayload(kAzureErrorCodePayload, absl::Cord(azure_code));
  return status;
}

std::optional<int> HttpStatusOf(const absl::Status& status) {
  auto payload = status.GetPayload(kHttpStatusPayload);
  int value = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &value)) return std::nullopt;
  return value;
}

std::string AzureErrorCodeOf(const absl::Status& status) {
  auto payload = status.GetPayload(kAzureErrorCodePayload);
  return payload ? std::string(*payload) : std::string();
}

}  // namespace vmb
