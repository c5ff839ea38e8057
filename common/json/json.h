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

// Parses a top-level JSON array into `list`, a message whose field `items` is a repeated message.
absl::Status ParseArray(absl::string_view text, google::protobuf::Message* list, absl::string_view what);

std::string ToJson(const google::protobuf::Message& message, bool pretty = false);

// The `items` of `list` as a top-level JSON array.
std::string ToJsonArray(const google::protobuf::Message& list, bool pretty = false);

}  // namespace vmb::json

#endif  // VMBACKUP_COMMON_JSON_JSON_H_
