// The staging location's catalogue on disk (<staging>/catalogue.json): one zstd stream of JSON lines, each line a
// Catalogue message: first the roots and image size, then the chunks of the index and the entries (up to 256 of one
// kind a line, in the order they were stored), and last the image count. Reading merges the lines (repeated fields
// append), so the file as a whole is the Catalogue. It is written and read one record at a time: a tree of millions of
// files never has its catalogue in memory as text, and the text (hex hashes, base64 names) compresses about four to
// one. Catalogues written before it was compressed (one plain JSON object) are still read.
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_CATALOGUE_FILE_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_CATALOGUE_FILE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "offline_seed/agent/staging.pb.h"

namespace vmb::offline {

// The newest catalogue stream format this build writes and reads (proto Catalogue.format).
inline constexpr uint32_t kCatalogueFormat = 2;

// Writes a catalogue record by record to `path`.tmp, the first record its format; Finish() completes the stream,
// flushes it and renames it to `path` (so a catalogue is either whole or absent). Destroying an unfinished writer
// removes the temporary file.
class CatalogueWriter {
 public:
  // Errors name the path.
  static absl::StatusOr<std::unique_ptr<CatalogueWriter>> Create(const std::string& path, int zstd_level = 3);
  ~CatalogueWriter();
  CatalogueWriter(const CatalogueWriter&) = delete;
  CatalogueWriter& operator=(const CatalogueWriter&) = delete;

  // Appends one record (a line). The entry and chunk forms gather up to kRecordItems entries (or chunks) into one
  // line (a line is parsed at about a third of the cost of as many lines of one), in the order they came.
  static constexpr int kRecordItems = 256;
  absl::Status Add(const proto::Catalogue& record);
  absl::Status AddEntry(proto::Entry entry);
  absl::Status AddChunk(proto::Chunk chunk);
  absl::Status Finish();

 private:
  CatalogueWriter(std::string path, int fd, int zstd_level);
  absl::Status Write(const proto::Catalogue& record);
  absl::Status FlushPending();
  absl::Status Compress(absl::string_view data, bool end);
  absl::Status WriteOut(size_t n);

  std::string path_;
  int fd_;
  struct Stream;
  std::unique_ptr<Stream> z_;
  std::string out_;
  proto::Catalogue pending_;  // entries or chunks gathered for the next line
  bool finished_ = false;
};

// Reads a catalogue record by record. `read(buf, n)` gives up to n bytes of the file (0 at its end).
class CatalogueReader {
 public:
  using Source = std::function<absl::StatusOr<size_t>(char* buf, size_t n)>;
  // `what` names the catalogue in errors.
  CatalogueReader(Source read, std::string what);
  ~CatalogueReader();
  CatalogueReader(const CatalogueReader&) = delete;
  CatalogueReader& operator=(const CatalogueReader&) = delete;

  // The next record into `*record` (cleared first); false after the last. kDataLoss when the file is damaged or
  // cut short, naming the catalogue.
  absl::StatusOr<bool> Next(proto::Catalogue* record);

 private:
  absl::Status Refill();
  absl::Status CheckFormat(const proto::Catalogue& record) const;

  Source read_;
  std::string what_;
  struct Stream;
  std::unique_ptr<Stream> z_;
  std::string in_, text_;  // compressed bytes read ahead; text decompressed and not yet parsed
  size_t in_at_ = 0, text_at_ = 0;
  bool plain_ = false, started_ = false, eof_ = false, frame_done_ = true;
};

// Calls `fn` with each record of the catalogue at `path`, in order (a record at a time in memory). Errors: as
// ReadCatalogueFile's, and `fn`'s, which stops the read.
using RecordVisitor = std::function<absl::Status(proto::Catalogue& record)>;
absl::Status ForEachCatalogueRecord(const std::string& path, const RecordVisitor& fn);
// Every record of the catalogue at `path`, merged. kNotFound when there is none; kDataLoss when it is damaged.
absl::StatusOr<proto::Catalogue> ReadCatalogueFile(const std::string& path);
// The same from the file's bytes in memory.
absl::StatusOr<proto::Catalogue> ParseCatalogue(absl::string_view bytes, const std::string& what = "catalogue");

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_CATALOGUE_FILE_H_
