#include "offline_seed/agent/catalogue_file.h"

#include <unistd.h>

#include "common/file/file_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

// A catalogue of `files` entries (names with bytes that are not UTF-8, newlines included) and their chunks, as the
// whole message and as it is written: roots and image size, chunks, entries, image count.
proto::Catalogue Sample(int files) {
  proto::Catalogue cat;
  cat.add_roots("/srv/source");
  cat.set_imagesize(1 << 30);
  for (int i = 0; i < files; ++i) {
    proto::Chunk* c = cat.add_chunks();
    c->set_sha256(std::string(63, 'a') + static_cast<char>('0' + i % 10));
    c->set_offset(1000u * i);
    c->set_compressedlength(900);
    c->set_length(1200 + i);
  }
  for (int i = 0; i < files; ++i) {
    proto::Entry* e = cat.add_entries();
    e->set_path("0/dir\n/\xff" + std::to_string(i));
    e->set_type("file");
    e->set_size(1200 + i);
    e->add_chunks(cat.chunks(i).sha256());
  }
  cat.set_images(1);
  cat.set_format(kCatalogueFormat);  // the writer's first record
  return cat;
}

absl::Status Write(const proto::Catalogue& cat, const std::string& path) {
  absl::StatusOr<std::unique_ptr<CatalogueWriter>> w = CatalogueWriter::Create(path);
  if (!w.ok()) return w.status();
  proto::Catalogue head;
  *head.mutable_roots() = cat.roots();
  head.set_imagesize(cat.imagesize());
  if (absl::Status s = (*w)->Add(head); !s.ok()) return s;
  for (const proto::Chunk& c : cat.chunks()) {
    if (absl::Status s = (*w)->AddChunk(c); !s.ok()) return s;
  }
  for (const proto::Entry& e : cat.entries()) {
    if (absl::Status s = (*w)->AddEntry(e); !s.ok()) return s;
  }
  proto::Catalogue tail;
  tail.set_images(cat.images());
  if (absl::Status s = (*w)->Add(tail); !s.ok()) return s;
  return (*w)->Finish();
}

TEST(CatalogueFile, RecordsWrittenOneByOneReadBackAsTheWholeCatalogue) {
  const std::string path = vmb::testing::PerTestDir() + "/catalogue.json";
  const proto::Catalogue cat = Sample(5000);
  ASSERT_THAT(Write(cat, path), IsOk());
  EXPECT_FALSE(file::ReadFile(path + ".tmp").ok()) << "renamed into place";
  absl::StatusOr<proto::Catalogue> read = ReadCatalogueFile(path);
  ASSERT_THAT(read.status(), IsOk());
  EXPECT_EQ(read->SerializeAsString(), cat.SerializeAsString());
  std::string bytes = *file::ReadFile(path);
  EXPECT_LT(bytes.size(), 5000u * 40) << "compressed";
  absl::StatusOr<proto::Catalogue> parsed = ParseCatalogue(bytes);
  ASSERT_THAT(parsed.status(), IsOk());
  EXPECT_EQ(parsed->SerializeAsString(), cat.SerializeAsString());
}

TEST(CatalogueFile, ARecordAtATime) {
  const std::string path = vmb::testing::PerTestDir() + "/catalogue.json";
  ASSERT_THAT(Write(Sample(300), path), IsOk());
  std::string bytes = *file::ReadFile(path);
  CatalogueReader reader(
      [&bytes](char* buf, size_t n) -> absl::StatusOr<size_t> {
        size_t k = std::min<size_t>({n, bytes.size(), 7});  // a few bytes at a time
        bytes.copy(buf, k);
        bytes.erase(0, k);
        return k;
      },
      "test");
  std::vector<std::string> kinds;
  std::vector<int> items;
  proto::Catalogue record;
  for (;;) {
    absl::StatusOr<bool> more = reader.Next(&record);
    ASSERT_THAT(more.status(), IsOk());
    if (!*more) break;
    kinds.push_back(record.format() != 0    ? "format"
                    : record.roots_size()   ? "head"
                    : record.chunks_size()  ? "chunk"
                    : record.entries_size() ? "entry"
                                            : "tail");
    EXPECT_TRUE(record.chunks_size() == 0 || record.entries_size() == 0) << "a line holds one kind";
    items.push_back(record.chunks_size() + record.entries_size());
  }
  // The format first; entries and chunks are gathered up to 256 a line, in order; the head and the tail are lines
  // of their own.
  EXPECT_EQ(kinds, (std::vector<std::string>{"format", "head", "chunk", "chunk", "entry", "entry", "tail"}));
  EXPECT_EQ(items, (std::vector<int>{0, 0, 256, 44, 256, 44, 0}));
}

// A stream in a format newer than this build knows is refused (an older seedagent would take a packed file's whole
// segment for the file), naming it and the way out.
TEST(CatalogueFile, ANewerFormatIsRefused) {
  const std::string path = vmb::testing::PerTestDir() + "/catalogue.json";
  absl::StatusOr<std::unique_ptr<CatalogueWriter>> w = CatalogueWriter::Create(path);
  ASSERT_THAT(w.status(), IsOk());
  proto::Catalogue newer;
  newer.set_format(kCatalogueFormat + 1);
  ASSERT_THAT((*w)->Add(newer), IsOk());
  ASSERT_THAT((*w)->Add(Sample(3)), IsOk());
  ASSERT_THAT((*w)->Finish(), IsOk());
  EXPECT_THAT(ReadCatalogueFile(path).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("was written by a newer seedagent (format 3; this one reads up to 2)")));
}

TEST(CatalogueFile, DamageAndTruncationAreDataLoss) {
  const std::string dir = vmb::testing::PerTestDir();
  ASSERT_THAT(Write(Sample(2000), dir + "/catalogue.json"), IsOk());
  const std::string bytes = *file::ReadFile(dir + "/catalogue.json");
  for (size_t cut : {bytes.size() - 1, bytes.size() / 2, size_t{5}}) {
    EXPECT_THAT(ParseCatalogue(bytes.substr(0, cut), "the catalogue").status(),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr("the catalogue is cut short")))
        << cut;
  }
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x55;
  EXPECT_FALSE(ParseCatalogue(flipped).ok());
  EXPECT_THAT(ParseCatalogue(bytes + "junk").status(), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(CatalogueFile, APlainJsonCatalogueFromBeforeIsRead) {
  const std::string path = vmb::testing::PerTestDir() + "/catalogue.json";
  ASSERT_THAT(
      file::WriteFileAtomic(path, R"({"roots":["/srv"],"entries":[{"path":"MA==","type":"dir"}],"images":2})", 0600),
      IsOk());
  absl::StatusOr<proto::Catalogue> read = ReadCatalogueFile(path);
  ASSERT_THAT(read.status(), IsOk());
  EXPECT_EQ(read->entries_size(), 1);
  EXPECT_EQ(read->entries(0).path(), "0");
  EXPECT_EQ(read->images(), 2u);
  EXPECT_FALSE(ParseCatalogue("").ok());
  EXPECT_FALSE(ParseCatalogue("{").ok());
}

TEST(CatalogueFile, AnUnfinishedCatalogueLeavesNothing) {
  const std::string dir = vmb::testing::PerTestDir();
  {
    absl::StatusOr<std::unique_ptr<CatalogueWriter>> w = CatalogueWriter::Create(dir + "/catalogue.json");
    ASSERT_THAT(w.status(), IsOk());
    ASSERT_THAT((*w)->AddEntry(proto::Entry()), IsOk());
  }
  EXPECT_FALSE(file::ReadFile(dir + "/catalogue.json").ok());
  EXPECT_FALSE(file::ReadFile(dir + "/catalogue.json.tmp").ok());
  EXPECT_THAT(ReadCatalogueFile(dir + "/catalogue.json").status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(CatalogueWriter::Create(dir + "/no/such/catalogue.json").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("cannot create")));
}

}  // namespace
}  // namespace vmb::offline
