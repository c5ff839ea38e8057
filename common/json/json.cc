#include "common/json/json.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"

namespace vmb::json {

absl::Status Parse(absl::string_view text, google::protobuf::Message* message, absl::string_view what) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  std::string input(text);
  // Tolerate a UTF-8 byte-order mark, which Windows tools like to write.
  if (absl::StartsWith(input, "\xEF\xBB\xBF")) input.erase(0, 3);
  auto status = google::protobuf::util::JsonStringToMessage(input, message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not valid JSON of the expected shape: ",
                                                   std::string(status.message())));
  }
  return absl::OkStatus();
}

absl::Status ParseArray(absl::string_view text, google::protobuf::Message* list, absl::string_view what) {
  absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  if (absl::StartsWith(trimmed, "\xEF\xBB\xBF")) trimmed.remove_prefix(3);
  if (!absl::StartsWith(trimmed, "[")) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be a JSON array"));
  }
  return Parse(absl::StrCat("{\"items\":", trimmed, "}"), list, what);
}

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  options.add_whitespace = pretty;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

std::string ToJsonArray(const google::protobuf::Message& list, bool pretty) {
  std::string object = ToJson(list, pretty);
  // {"items":[...]} -> [...]
  size_t open = object.find('[');
  size_t close = object.rfind(']');
  if (open == std::string::npos || close == std::string::npos) return "[]";
  return object.substr(open, close - open + 1);
}

}  // namespace vmb::json
