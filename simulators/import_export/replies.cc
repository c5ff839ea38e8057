#include "simulators/import_export/replies.h"

#include "absl/strings/str_cat.h"
#include "common/json/json.h"
#include "httplib.h"
#include "offline_seed/import_job/model.pb.h"

namespace vmb::ie {

void Reply(httplib::Response& res, int status, const google::protobuf::Message& body) {
  res.status = status;
  std::string text = json::ToJsonCompact(body);
  // A list with nothing in it still says so: {"value": []}, as ARM and Graph answer (the compact printer omits it).
  const google::protobuf::FieldDescriptor* value = body.GetDescriptor()->FindFieldByName("value");
  if (value != nullptr && value->is_repeated() && body.GetReflection()->FieldSize(body, value) == 0) {
    text = text == "{}" ? R"({"value":[]})" : absl::StrCat(R"({"value":[],)", text.substr(1));
  }
  res.set_content(text, "application/json");
}

void Error(httplib::Response& res, int status, const std::string& code, const std::string& message) {
  proto::ErrorBody e;
  e.mutable_error()->set_code(code);
  e.mutable_error()->set_message(message);
  Reply(res, status, e);
}

}  // namespace vmb::ie
