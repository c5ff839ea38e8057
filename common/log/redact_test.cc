#include "common/log/redact.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(RedactSecrets, Table) {
  struct Case {
    std::string in;
    std::string secret;  // must be gone
    std::string kept;    // must remain
  };
  const Case cases[] = {
      // The seeds' sample SAS URIs, plain and JSON-escaped.
      {"https://sopattna5365.blob.core.windows.net/vhds/vmwin1404ltsc201652903941.vhd?sv=2014-02-14&sr=b&sig="
       "TywkROXL1zvhXcLujtCut8g3jTpgbE6JpSWRLZxAdtA%3D&st=2017-11-09T14%3A23%3A28Z&se=2017-11-09T17%3A38%3A28Z&sp=rw",
       "TywkROXL1zvhXcLujtCut8g3jTpgbE6JpSWRLZxAdtA",
       "vmwin1404ltsc201652903941.vhd?sv=2014-02-14&sr=b&sig=REDACTED&st="},
      {R"(["https:\/\/a.blob.core.windows.net\/vhds\/d.vhd?sv=2014-02-14&sig=5S0A6YDWvVwq%2BS&se=x"])", "5S0A6YDWvVwq",
       "sig=REDACTED&se=x"},
      {"?SIG=abc", "abc", "SIG=REDACTED"},
      {"copy source https%3A%2F%2Fa%2Fc%2Fb%3Fsig%3Dsecretsig%26se%3D1", "secretsig", "sig%3DREDACTED"},
      {"Authorization: SharedKey devstoreaccount1:Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==", "Zm9vYmFyYmF6",
       "devstoreaccount1:REDACTED"},
      {"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey="
       "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=x",
       "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1", "AccountKey=REDACTED;BlobEndpoint=x"},
      {"recovery password 002816-008470-014080-019712-025344-030976-036608-042240 for drive 1", "036608",
       "for drive 1"},
      {"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----", "MIIEvQIBADAN",
       "PRIVATE KEY"},
      {R"({"protectedSettingsCertThumbprint":"AB12","protectedSettings":"MIIBsAYJKoZIhvcNAQcDoIIBoTCCAZ0CAQA="})",
       "MIIBsAYJKoZIhvcNAQcD", "AB12"},
  };
  for (const Case& c : cases) {
    std::string out = RedactSecrets(c.in);
    EXPECT_THAT(out, Not(HasSubstr(c.secret))) << c.in;
    EXPECT_THAT(out, HasSubstr(c.kept)) << out;
  }
}

TEST(RedactSecrets, LeavesOrdinaryTextAlone) {
  const std::string plain =
      "snapshot of https://a.blob.core.windows.net/vhds/d.vhd?sv=2014-02-14&sr=b took 3 ms; "
      "taskId e07354cf-041e-4370-929f-25a319ce8933_1, ticks 636458000000000000";
  EXPECT_EQ(RedactSecrets(plain), plain);
}

}  // namespace
}  // namespace vmb
