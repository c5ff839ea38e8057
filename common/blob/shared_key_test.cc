// Shared Key and SAS signing checked against vectors made by Microsoft's SDK (@azure/storage-blob):
// testdata/blob/signing_vectors.tsv, produced by tools/vectors/make_signing_vectors.js.
#include "common/blob/shared_key.h"

#include "absl/strings/str_split.h"
#include "common/blob/dev_account.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::blob {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::vmb::testing::StatusIs;

// The vectors were made with the development account's key (tools/vectors/make_signing_vectors.js).
constexpr const char* kAzuriteKey = kDevAccountKey;

std::vector<std::vector<std::string>> Vectors(absl::string_view kind) {
  absl::StatusOr<std::string> text = file::ReadFile("testdata/blob/signing_vectors.tsv");
  EXPECT_TRUE(text.ok()) << text.status();
  std::vector<std::vector<std::string>> out;
  for (absl::string_view line : absl::StrSplit(text.value_or(""), '\n', absl::SkipEmpty())) {
    std::vector<std::string> fields = absl::StrSplit(line, '\t');
    if (fields[0] == kind) out.push_back(fields);
  }
  return out;
}

absl::Time ParseIso(const std::string& s) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime("%Y-%m-%dT%H:%M:%SZ", s, absl::UTCTimeZone(), &t, &err)) << s;
  return t;
}

TEST(SharedKey, MatchesSdkVectors) {
  SharedKeyCredential cred = *SharedKeyCredential::Create("devstoreaccount1", kAzuriteKey);
  std::vector<std::vector<std::string>> vectors = Vectors("sharedkey");
  ASSERT_GE(vectors.size(), 9u);
  for (const auto& v : vectors) {
    http::HttpRequest req;
    req.method = v[2];
    req.url = v[3];
    for (absl::string_view line : absl::StrSplit(*crypto::Base64Decode(v[4]), '\n', absl::SkipEmpty())) {
      std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits(':', 1));
      req.headers.push_back(kv);
    }
    EXPECT_EQ(cred.StringToSign(req), *crypto::Base64Decode(v[5])) << v[1];
    cred.Sign(&req);
    EXPECT_EQ(req.Header("Authorization"), v[6]) << v[1];
  }
}

TEST(Sas, MatchesSdkVectors) {
  SharedKeyCredential cred = *SharedKeyCredential::Create("devstoreaccount1", kAzuriteKey);
  std::vector<std::vector<std::string>> vectors = Vectors("sas");
  ASSERT_GE(vectors.size(), 5u);
  for (const auto& v : vectors) {
    SasOptions o;
    o.container = v[3];
    o.blob = v[4] == "-" ? "" : v[4];
    o.permissions = v[5];
    if (v[6] != "-") o.start = ParseIso(v[6]);
    o.expiry = ParseIso(v[7]);
    o.snapshot = v[9] == "-" ? "" : v[9];
    absl::StatusOr<SasToken> token = MakeServiceSas(cred, o);
    ASSERT_TRUE(token.ok()) << token.status();
    EXPECT_EQ(token->string_to_sign, *crypto::Base64Decode(v[10])) << v[1];
    EXPECT_EQ(token->query, v[11]) << v[1];
  }
}

TEST(SharedKey, BadKeysAreRefusedWithoutEchoingThem) {
  absl::StatusOr<SharedKeyCredential> c = SharedKeyCredential::Create("acct", "not*base64!");
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("portal")));
  EXPECT_THAT(std::string(c.status().message()), Not(HasSubstr("not*base64")));
  EXPECT_THAT(SharedKeyCredential::Create("", kAzuriteKey), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(HttpDate, Rfc1123) { EXPECT_EQ(HttpDate(absl::FromUnixSeconds(1700000000)), "Tue, 14 Nov 2023 22:13:20 GMT"); }

}  // namespace
}  // namespace vmb::blob
