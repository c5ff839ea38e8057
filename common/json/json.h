// JSON <-> protobuf messages via protobuf's own JSON support, with the options this project always wants:
// unknown fields ignored on input (newer agents add fields), field names verbatim and defaults printed on output.
#ifndef VMBACKUP_COMMON_JSON_JSON_H_
#define VMBACKUP_COMMON_JSON_JSON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace vmb::json {

// kInvalidArgument with protobuf's description of the problem, prefixed by `what` (e.g. the file name).
absl::Status Parse(absl::string_view text, google::protobuf::Message* message, absl::string_view what);

// Parse for documents other programs write (the guest agent, the backup service, an admin's editor), read the way
// they are written rather than the way we would write them: on top of Parse's rules, a JSON number or boolean given
// for a string field becomes its text ("version": 1.0 -> "1"; integral numbers print without a fraction), "true" /
// "false" / 0 / 1 are accepted for a boolean field, and a null anywhere is the field's default. Anything else that
// does not fit the message's shape is still kInvalidArgument. Meant for small files (the text is parsed twice).
absl::Status ParseLenient(absl::string_view text, google::protobuf::Message* message, absl::string_view what);

// ParseArray's lenient twin: a top-level JSON array into the `items` of `list`, read as ParseLenient reads.
absl::Status ParseArrayLenient(absl::string_view text, google::protobuf::Message* list, absl::string_view what);

// Parses a top-level JSON array into `list`, a message whose field `items` is a repeated message.
absl::Status ParseArray(absl::string_view text, google::protobuf::Message* list, absl::string_view what);

std::string ToJson(const google::protobuf::Message& message, bool pretty = false);

// Only the fields that are set (proto3: non-default), for request bodies where an unset field must not be sent
// (an empty string or a false would overwrite what the service holds).
std::string ToJsonCompact(const google::protobuf::Message& message);

// The `items` of `list` as a top-level JSON array.
std::string ToJsonArray(const google::protobuf::Message& list, bool pretty = false);

}  // namespace vmb::json

#endif  // VMBACKUP_COMMON_JSON_JSON_H_
