#include "snapshot/status_report.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"
#include "snapshot/error_codes.h"
#include "snapshot/proto/handler.pb.h"
#include "snapshot/settings.h"

namespace vmb::snapshot {
namespace {

constexpr char kDatePlaceholder[] = "@@VMSNAPSHOT_TIMESTAMP@@";

// What both documents carry; the caller sets status.status (the file's top level may differ) and the timestamp.
proto::StatusDocument::Status* AddDocument(const JobStatus& s, proto::StatusList* list) {
  proto::JobMessage message;
  message.set_messagestr(s.message_str);
  message.set_snapshotconsistency(s.consistency);
  message.set_jobmessage(s.job_message);
  proto::StatusDocument* doc = list->add_items();
  doc->set_version(kExtensionVersion);
  proto::StatusDocument::Status* st = doc->mutable_status();
  st->set_name(s.handler_name.empty() ? kExtensionName : s.handler_name);
  st->set_operation(s.operation);
  st->set_code(s.code);
  st->mutable_formattedmessage()->set_lang(LangTag(s.locale));
  st->mutable_formattedmessage()->set_message(json::ToJson(message));
  st->set_taskid(s.task_id);
  st->set_commandstarttimeutcticks(s.ticks);
  return st;
}

std::string RenderBlobDocument(const JobStatus& s, absl::Time now) {
  proto::StatusList list;
  proto::StatusDocument::Status* st = AddDocument(s, &list);
  list.mutable_items(0)->set_timestamputc(kDatePlaceholder);
  st->set_status(s.status);
  for (const SnapshotInfo& info : s.snapshots) {
    proto::StatusDocument::SnapshotInfo* p = st->add_snapshotinfo();
    p->set_issuccessful(info.is_successful);
    p->set_snapshoturi(info.snapshot_uri);
    p->set_errormessage(info.error_message);
    p->set_bloburi(info.blob_uri);
  }
  for (const auto& [k, v] : s.telemetry) {
    proto::KeyValue* kv = st->add_telemetrydata();
    kv->set_key(k);
    kv->set_value(v);
  }
  // The .NET JSON date form, with its escaped slashes in the raw text, as the real extension writes it.
  return absl::StrReplaceAll(json::ToJsonArray(list),
                             {{kDatePlaceholder, absl::StrCat("\\/Date(", absl::ToUnixMillis(now), ")\\/")}});
}

}  // namespace

std::string RenderStatus(const JobStatus& s, absl::Time now, StatusForm form) {
  std::string blob = RenderBlobDocument(s, now);
  if (form == StatusForm::kBlob) return blob;
  proto::StatusList list;
  proto::StatusDocument::Status* st = AddDocument(s, &list);
  list.mutable_items(0)->set_timestamputc(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone()));
  const bool terminal = s.status == "success" || s.status == "error";
  st->set_status(terminal && absl::EqualsIgnoreCase(s.vm_type, kVmTypeArm) ? "success" : s.status);
  proto::StatusDocument::SubStatus* sub = st->add_substatus();
  sub->set_code("0");
  sub->set_name(blob);
  sub->set_status("success");
  std::string out = json::ToJsonArray(list);
  // HandlerUtil writes the substatus's formattedMessage as null; protobuf's printer omits unset messages. substatus
  // is the last field printed, and the inner document's quotes are escaped, so this is the substatus's own end.
  const std::string kEnd = R"("status":"success"}])";
  if (size_t at = out.rfind(kEnd); at != std::string::npos) {
    out.insert(at + kEnd.size() - 2, R"(,"formattedMessage":null)");
  }
  return out;
}

absl::Status WriteStatusFile(const std::string& folder, int seq, const std::string& json) {
  RETURN_IF_ERROR(file::MakeDirs(folder));
  return file::WriteFileAtomic(absl::StrCat(folder, "/", seq, ".status"), json, 0644);
}

absl::Status UploadReportBlob(blob::BlobClient& client, const blob::BlobUri& uri, const std::string& data,
                              std::optional<blob::BlobProperties>* known) {
  absl::StatusOr<blob::BlobProperties> props = known != nullptr && known->has_value()
                                                   ? absl::StatusOr<blob::BlobProperties>(**known)
                                                   : client.GetProperties(uri);
  if (known != nullptr && props.ok()) *known = *props;
  if (props.ok() && props->blob_type == "PageBlob") {
    uint64_t padded = (data.size() + blob::kPageSize - 1) / blob::kPageSize * blob::kPageSize;
    if (padded > props->content_length) {
      return absl::OutOfRangeError(absl::StrCat("report of ", data.size(), " bytes does not fit the ",
                                                props->content_length, "-byte page blob ", uri.Redacted()));
    }
    RETURN_IF_ERROR(client.ClearPages(uri, 0, props->content_length));
    std::string page_data = data;
    page_data.resize(padded, '\0');
    for (uint64_t off = 0; off < padded; off += blob::kMaxPutPageBytes) {
      RETURN_IF_ERROR(client.PutPages(uri, off, absl::string_view(page_data).substr(off, blob::kMaxPutPageBytes)));
    }
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(client.PutBlockBlob(uri, data, {}, "application/json"));
  if (known != nullptr && !known->has_value()) {
    blob::BlobProperties block;
    block.blob_type = "BlockBlob";
    *known = block;
  }
  return absl::OkStatus();
}

absl::StatusOr<proto::StatusDocument> ParseStatus(absl::string_view text, absl::string_view what) {
  proto::StatusList list;
  RETURN_IF_ERROR(json::ParseArray(text, &list, what));
  if (list.items_size() != 1) {
    return absl::DataLossError(absl::StrCat(what, " holds ", list.items_size(), " status entries, not exactly one"));
  }
  const proto::StatusDocument::Status& st = list.items(0).status();
  if (st.substatus_size() > 0 && absl::StartsWith(st.substatus(0).name(), "[")) {
    return ParseStatus(st.substatus(0).name(), absl::StrCat(what, " substatus[0]"));
  }
  return list.items(0);
}

}  // namespace vmb::snapshot
