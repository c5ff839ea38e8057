#include "offline_seed/agent/catalogue_file.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"

namespace vmb::offline {
namespace {

constexpr char kZstdMagic[] = "\x28\xb5\x2f\xfd";
constexpr size_t kReadBytes = 128 << 10;

}  // namespace

struct CatalogueWriter::Stream {
  ~Stream() { ZSTD_freeCCtx(cctx); }
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
};

struct CatalogueReader::Stream {
  ~Stream() { ZSTD_freeDCtx(dctx); }
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
};

absl::StatusOr<std::unique_ptr<CatalogueWriter>> CatalogueWriter::Create(const std::string& path, int zstd_level) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return file::ErrnoStatus(errno, "cannot create", tmp);
  std::unique_ptr<CatalogueWriter> writer(new CatalogueWriter(path, fd, zstd_level));
  proto::Catalogue format;
  format.set_format(kCatalogueFormat);
  RETURN_IF_ERROR(writer->Add(format));
  return writer;
}

CatalogueWriter::CatalogueWriter(std::string path, int fd, int zstd_level)
    : path_(std::move(path)), fd_(fd), z_(std::make_unique<Stream>()) {
  ZSTD_CCtx_setParameter(z_->cctx, ZSTD_c_compressionLevel, zstd_level);
  ZSTD_CCtx_setParameter(z_->cctx, ZSTD_c_checksumFlag, 1);  // damage is found, not parsed
  out_.resize(ZSTD_CStreamOutSize());
}

CatalogueWriter::~CatalogueWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!finished_) ::unlink((path_ + ".tmp").c_str());
}

absl::Status CatalogueWriter::WriteOut(size_t n) {
  for (size_t done = 0; done < n;) {
    ssize_t w = ::write(fd_, out_.data() + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return file::ErrnoStatus(errno, "cannot write", path_ + ".tmp");
    done += static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

absl::Status CatalogueWriter::Compress(absl::string_view data, bool end) {
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  for (;;) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    size_t left = ZSTD_compressStream2(z_->cctx, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
    if (ZSTD_isError(left)) return absl::InternalError(absl::StrCat("zstd: ", ZSTD_getErrorName(left)));
    RETURN_IF_ERROR(WriteOut(out.pos));
    if (end ? left == 0 : in.pos == in.size) return absl::OkStatus();
  }
}

absl::Status CatalogueWriter::Write(const proto::Catalogue& record) {
  if (finished_ || fd_ < 0) return absl::FailedPreconditionError("the catalogue is closed");
  std::string line = json::ToJsonCompact(record);
  line += '\n';
  return Compress(line, false);
}

absl::Status CatalogueWriter::FlushPending() {
  if (pending_.entries_size() == 0 && pending_.chunks_size() == 0) return absl::OkStatus();
  absl::Status written = Write(pending_);
  pending_.Clear();
  return written;
}

absl::Status CatalogueWriter::Add(const proto::Catalogue& record) {
  RETURN_IF_ERROR(FlushPending());  // records stay in the order they were added
  return Write(record);
}

absl::Status CatalogueWriter::AddEntry(proto::Entry entry) {
  if (pending_.chunks_size() > 0) RETURN_IF_ERROR(FlushPending());
  *pending_.add_entries() = std::move(entry);
  return pending_.entries_size() < kRecordItems ? absl::OkStatus() : FlushPending();
}

absl::Status CatalogueWriter::AddChunk(proto::Chunk chunk) {
  if (pending_.entries_size() > 0) RETURN_IF_ERROR(FlushPending());
  *pending_.add_chunks() = std::move(chunk);
  return pending_.chunks_size() < kRecordItems ? absl::OkStatus() : FlushPending();
}

absl::Status CatalogueWriter::Finish() {
  if (finished_ || fd_ < 0) return absl::FailedPreconditionError("the catalogue is closed");
  RETURN_IF_ERROR(FlushPending());
  RETURN_IF_ERROR(Compress("", true));
  const std::string tmp = path_ + ".tmp";
  int rc = ::fsync(fd_);
  int err = errno;
  ::close(fd_);
  fd_ = -1;
  if (rc != 0) return file::ErrnoStatus(err, "cannot flush", tmp);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) return file::ErrnoStatus(errno, "cannot rename", tmp);
  finished_ = true;
  return absl::OkStatus();
}

CatalogueReader::CatalogueReader(Source read, std::string what)
    : read_(std::move(read)), what_(std::move(what)), z_(std::make_unique<Stream>()) {}

CatalogueReader::~CatalogueReader() = default;

// Decompresses more of the stream into text_ (reading more of the file when its bytes are used up); eof_ once the
// file is used up.
absl::Status CatalogueReader::Refill() {
  if (in_at_ == in_.size()) {
    in_.resize(kReadBytes);
    ASSIGN_OR_RETURN(size_t n, read_(in_.data(), in_.size()));
    in_.resize(n);
    in_at_ = 0;
    if (n == 0) {
      eof_ = true;
      return absl::OkStatus();
    }
  }
  if (text_at_ > 0) {
    text_.erase(0, text_at_);
    text_at_ = 0;
  }
  const size_t had = text_.size();
  text_.resize(had + ZSTD_DStreamOutSize());
  ZSTD_inBuffer in{in_.data(), in_.size(), in_at_};
  ZSTD_outBuffer out{text_.data() + had, text_.size() - had, 0};
  size_t r = ZSTD_decompressStream(z_->dctx, &out, &in);
  text_.resize(had + out.pos);
  in_at_ = in.pos;
  if (ZSTD_isError(r)) return absl::DataLossError(absl::StrCat(what_, " is damaged (", ZSTD_getErrorName(r), ")"));
  frame_done_ = r == 0;
  return absl::OkStatus();
}

absl::Status CatalogueReader::CheckFormat(const proto::Catalogue& record) const {
  if (record.format() <= kCatalogueFormat) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(what_, " was written by a newer seedagent (format ",
                                                    record.format(), "; this one reads up to ", kCatalogueFormat,
                                                    "): read it with that seedagent or a newer one"));
}

absl::StatusOr<bool> CatalogueReader::Next(proto::Catalogue* record) {
  record->Clear();
  if (!started_) {
    started_ = true;
    ASSIGN_OR_RETURN(size_t n, read_(in_.assign(kReadBytes, '\0').data(), kReadBytes));
    in_.resize(n);
    if (n < 4 || in_.compare(0, 4, kZstdMagic) != 0) {  // a catalogue from before it was compressed: one object
      for (size_t more = n; more > 0;) {
        const size_t had = in_.size();
        in_.resize(had + kReadBytes);
        ASSIGN_OR_RETURN(more, read_(in_.data() + had, kReadBytes));
        in_.resize(had + more);
      }
      plain_ = true;
      RETURN_IF_ERROR(json::Parse(in_, record, what_));
      in_.clear();
      return true;
    }
  }
  if (plain_) return false;
  for (;;) {
    size_t nl = text_.find('\n', text_at_);
    if (nl != std::string::npos) {
      absl::string_view line(text_.data() + text_at_, nl - text_at_);
      text_at_ = nl + 1;
      if (line.empty()) continue;
      RETURN_IF_ERROR(json::Parse(line, record, what_));
      RETURN_IF_ERROR(CheckFormat(*record));
      return true;
    }
    if (eof_) {
      if (!frame_done_ || text_at_ < text_.size()) return absl::DataLossError(absl::StrCat(what_, " is cut short"));
      return false;
    }
    RETURN_IF_ERROR(Refill());
  }
}

absl::StatusOr<proto::Catalogue> ParseCatalogue(absl::string_view bytes, const std::string& what) {
  CatalogueReader reader(
      [&bytes](char* buf, size_t n) -> absl::StatusOr<size_t> {
        size_t k = std::min(n, bytes.size());
        std::copy(bytes.begin(), bytes.begin() + k, buf);
        bytes.remove_prefix(k);
        return k;
      },
      what);
  proto::Catalogue all, record;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&record));
    if (!more) return all;
    all.MergeFrom(record);
  }
}

absl::Status ForEachCatalogueRecord(const std::string& path, const RecordVisitor& fn) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return file::ErrnoStatus(errno, "cannot open", path);
  CatalogueReader reader(
      [fd, &path](char* buf, size_t n) -> absl::StatusOr<size_t> {
        for (;;) {
          ssize_t r = ::read(fd, buf, n);
          if (r < 0 && errno == EINTR) continue;
          if (r < 0) return file::ErrnoStatus(errno, "cannot read", path);
          return static_cast<size_t>(r);
        }
      },
      path);
  proto::Catalogue record;
  absl::Status status;
  for (;;) {
    absl::StatusOr<bool> more = reader.Next(&record);
    if (!more.ok()) status = more.status();
    if (!more.ok() || !*more) break;
    status = fn(record);
    if (!status.ok()) break;
  }
  ::close(fd);
  return status;
}

absl::StatusOr<proto::Catalogue> ReadCatalogueFile(const std::string& path) {
  proto::Catalogue all;
  RETURN_IF_ERROR(ForEachCatalogueRecord(path, [&all](proto::Catalogue& record) {
    all.MergeFrom(record);
    return absl::OkStatus();
  }));
  return all;
}

}  // namespace vmb::offline
