// How the control-plane simulator answers: JSON bodies as ARM and Graph print them, and their error body
// {"error": {"code", "message"}}. Shared by its ARM routes (control_plane.cc) and Graph routes (directory_routes.cc).
#ifndef VMBACKUP_SIMULATORS_IMPORT_EXPORT_REPLIES_H_
#define VMBACKUP_SIMULATORS_IMPORT_EXPORT_REPLIES_H_

#include <string>

#include "google/protobuf/message.h"

namespace httplib {
struct Response;
}

namespace vmb::ie {

// `body` with only its set fields; a list with nothing in it still says so ({"value": []}).
void Reply(httplib::Response& res, int status, const google::protobuf::Message& body);
void Error(httplib::Response& res, int status, const std::string& code, const std::string& message);

}  // namespace vmb::ie

#endif  // VMBACKUP_SIMULATORS_IMPORT_EXPORT_REPLIES_H_
