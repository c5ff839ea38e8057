#include "offline_seed/vault/point_streams.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"

namespace vmb::vault {
namespace {

constexpr char kRecords[] = "/records.jsonl.zst";

}  // namespace

absl::StatusOr<std::unique_ptr<RecordUpload>> RecordUpload::Create() {
  std::string pattern = file::ScratchFolder() + "/vmbackup-point-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  if (::mkdtemp(name.data()) == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot make a scratch folder like ", pattern, ": ",
                                               std::strerror(errno),
                                               "; point $TMPDIR at a writable local folder with free space"));
  }
  std::string dir(name.data());
  absl::StatusOr<std::unique_ptr<offline::CatalogueWriter>> writer = offline::CatalogueWriter::Create(dir + kRecords);
  if (!writer.ok()) {
    ::rmdir(dir.c_str());
    return writer.status();
  }
  return std::unique_ptr<RecordUpload>(new RecordUpload(std::move(dir), *std::move(writer)));
}

RecordUpload::~RecordUpload() {
  writer_.reset();  // removes its unfinished file
  ::unlink((dir_ + kRecords).c_str());
  ::rmdir(dir_.c_str());
}

absl::Status RecordUpload::Upload(blob::BlobClient& client, const blob::BlobUri& blob, uint64_t block_bytes) {
  RETURN_IF_ERROR(writer_->Finish());
  const std::string path = dir_ + kRecords;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return file::ErrnoStatus(errno, "cannot open", path);
  std::vector<std::string> ids;
  std::string block(block_bytes, '\0');
  absl::Status status;
  for (;;) {
    size_t filled = 0;
    while (filled < block.size()) {
      ssize_t n = ::read(fd, block.data() + filled, block.size() - filled);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) status = file::ErrnoStatus(errno, "cannot read", path);
      if (n <= 0) break;
      filled += static_cast<size_t>(n);
    }
    if (!status.ok() || (filled == 0 && !ids.empty())) break;
    ids.push_back(blob::BlockId(ids.size()));
    status = client.PutBlock(blob, ids.back(), absl::string_view(block.data(), filled));
    if (!status.ok() || filled < block.size()) break;
  }
  ::close(fd);
  RETURN_IF_ERROR(status);
  return client.PutBlockList(blob, ids);
}

absl::Status ForEachRecord(blob::BlobClient& client, const blob::BlobUri& blob, const offline::RecordVisitor& fn,
                           uint64_t window) {
  ASSIGN_OR_RETURN(blob::BlobProperties props, client.GetProperties(blob));
  const uint64_t size = props.content_length;
  uint64_t at = 0;
  std::string buffered;
  size_t used = 0;
  offline::CatalogueReader reader(
      [&](char* buf, size_t n) -> absl::StatusOr<size_t> {
        if (used == buffered.size()) {
          if (at >= size) return 0;
          const uint64_t length = std::min<uint64_t>(window, size - at);
          ASSIGN_OR_RETURN(buffered, client.GetBlob(blob, blob::ByteRange{at, length}));
          if (buffered.empty()) return absl::DataLossError(absl::StrCat(blob.blob(), " ends before its size"));
          at += buffered.size();
          used = 0;
        }
        size_t take = std::min(n, buffered.size() - used);
        std::memcpy(buf, buffered.data() + used, take);
        used += take;
        return take;
      },
      blob.blob());
  offline::proto::Catalogue record;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&record));
    if (!more) return absl::OkStatus();
    RETURN_IF_ERROR(fn(record));
  }
}

}  // namespace vmb::vault
