#include "common/json/json.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace vmb::json {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Value;

std::string NumberText(double d) {
  // Integral values print as integers (tick counts, "1.0" -> "1"); others in their shortest round-trip form.
  if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.2e18) return absl::StrCat(static_cast<int64_t>(d));
  return absl::StrCat(d);
}

void CoerceObject(google::protobuf::Struct* object, const Descriptor* type);

// Rewrites `v`, the JSON value of `field`, into the form protobuf's JSON parser accepts for that field.
void CoerceValue(Value* v, const FieldDescriptor* field, bool element) {
  if (field->is_repeated() && !element) {
    if (v->has_list_value() && !field->is_map()) {
      for (Value& e : *v->mutable_list_value()->mutable_values()) CoerceValue(&e, field, true);
    }
    return;
  }
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      if (v->kind_case() == Value::kNumberValue) {
        v->set_string_value(NumberText(v->number_value()));
      } else if (v->kind_case() == Value::kBoolValue) {
        v->set_string_value(v->bool_value() ? "true" : "false");
      }
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      if (v->kind_case() == Value::kStringValue) {
        if (absl::EqualsIgnoreCase(v->string_value(), "true"))
          v->set_bool_value(true);
        else if (absl::EqualsIgnoreCase(v->string_value(), "false"))
          v->set_bool_value(false);
      } else if (v->kind_case() == Value::kNumberValue && (v->number_value() == 0 || v->number_value() == 1)) {
        v->set_bool_value(v->number_value() == 1);
      }
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (v->has_struct_value() && !absl::StartsWith(field->message_type()->full_name(), "google.protobuf.")) {
        CoerceObject(v->mutable_struct_value(), field->message_type());
      }
      break;
    default:
      break;
  }
}

void CoerceObject(google::protobuf::Struct* object, const Descriptor* type) {
  auto* fields = object->mutable_fields();
  for (auto it = fields->begin(); it != fields->end();) {
    if (it->second.kind_case() == Value::kNullValue) {
      it = fields->erase(it);
      continue;
    }
    const FieldDescriptor* field = type->FindFieldByName(it->first);
    for (int i = 0; field == nullptr && i < type->field_count(); ++i) {
      if (type->field(i)->json_name() == it->first) field = type->field(i);
    }
    if (field != nullptr) CoerceValue(&it->second, field, false);
    ++it;
  }
}

// Tolerates a UTF-8 byte-order mark, which Windows tools like to write.
absl::string_view WithoutBom(absl::string_view text) {
  absl::string_view out = text;
  absl::ConsumePrefix(&out, "\xEF\xBB\xBF");
  return out;
}

// A top-level JSON array as {"items": [...]}, the shape of the list messages; kInvalidArgument naming `what` when the
// text is not an array.
absl::StatusOr<std::string> AsItems(absl::string_view text, absl::string_view what) {
  absl::string_view trimmed = absl::StripAsciiWhitespace(WithoutBom(absl::StripAsciiWhitespace(text)));
  if (!absl::StartsWith(trimmed, "[")) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be a JSON array"));
  }
  return absl::StrCat("{\"items\":", trimmed, "}");
}

}  // namespace

absl::Status Parse(absl::string_view text, google::protobuf::Message* message, absl::string_view what) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(std::string(WithoutBom(text)), message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is not valid JSON of the expected shape: ", std::string(status.message())));
  }
  return absl::OkStatus();
}

absl::Status ParseArray(absl::string_view text, google::protobuf::Message* list, absl::string_view what) {
  absl::StatusOr<std::string> wrapped = AsItems(text, what);
  return wrapped.ok() ? Parse(*wrapped, list, what) : wrapped.status();
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

std::string ToJsonCompact(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
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

absl::Status ParseLenient(absl::string_view text, google::protobuf::Message* message, absl::string_view what) {
  std::string input(WithoutBom(text));
  Value value;
  auto status = google::protobuf::util::JsonStringToMessage(input, &value);
  // What a generic JSON value cannot hold (a key given twice, which Python and protobuf read as "the last one wins")
  // is read by the strict parser, which names the problem if it too refuses.
  if (!status.ok()) return Parse(input, message, what);
  if (!value.has_struct_value()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be a JSON object"));
  }
  CoerceObject(value.mutable_struct_value(), message->GetDescriptor());
  std::string normalized;
  (void)google::protobuf::util::MessageToJsonString(value.struct_value(), &normalized);
  return Parse(normalized, message, what);
}

absl::Status ParseArrayLenient(absl::string_view text, google::protobuf::Message* list, absl::string_view what) {
  absl::StatusOr<std::string> wrapped = AsItems(text, what);
  return wrapped.ok() ? ParseLenient(*wrapped, list, what) : wrapped.status();
}

}  // namespace vmb::json
