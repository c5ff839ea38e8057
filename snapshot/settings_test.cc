#include "snapshot/settings.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snapshot/enable_job.h"
#include "snapshot/error_codes.h"
#include "snapshot/proto/handler.pb.h"
#include "snapshot/status_report.h"
#include "snapshot/testing/enable_job_fixture.h"

namespace vmb::snapshot {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::vmb::testing::StatusIs;

TEST(Ticks, IntegerAndDisplayForms) {
  absl::StatusOr<CommandTicks> t = ParseTicks("636458000000000000");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->ticks, 636458000000000000);
  EXPECT_EQ(t->uncertainty, absl::ZeroDuration());
  // The seeds' form: six significant digits, so +/- 0.5e12 ticks = 50000 s.
  t = ParseTicks("6.36458E+17");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->ticks, 636458000000000000);
  EXPECT_EQ(t->uncertainty, absl::Seconds(50000));
  EXPECT_EQ(absl::FormatTime("%Y-%m-%d", TicksToTime(t->ticks), absl::UTCTimeZone()), "2017-11-09");
  EXPECT_EQ(ParseTicks(" 6.36458e17 ")->ticks, 636458000000000000);
  absl::Time now = absl::FromUnixSeconds(1763818801);
  EXPECT_EQ(TicksToTime(TimeToTicks(now)), now);
  EXPECT_EQ(TimeToTicks(absl::UnixEpoch()), kUnixEpochTicks);
}

// Each seed's sample commandStartTimeUTCTicks, as its property table prints it: the sv and fr translations set the
// exponent's sign apart (sv with ASCII spaces, fr with no-break spaces U+00A0). All are the same .NET tick count,
// 636458000000000000 (2017-11-09), to six significant digits.
TEST(Ticks, EverySeedsSampleIsTheSameNumber) {
  struct Case {
    const char* seed;
    std::string text;
  } cases[] = {
      {"000 (de)", "6.36458E+17"},
      {"001 (nl)", "6.36458E+17"},
      {"002 (sv)", "6.36458E + 17"},
      {"003 (fr)", "6.36458E\u00a0+\u00a017"},
      {"tab, narrow and thin no-break spaces", "6.36458\tE\u202f+\u2009 17"},
      {"blanks around the whole text", "\u00a0 6.36458e + 17 \u00a0"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<CommandTicks> t = ParseTicks(c.text);
    ASSERT_TRUE(t.ok()) << c.seed << ": " << t.status();
    EXPECT_EQ(t->ticks, 636458000000000000) << c.seed;
    EXPECT_EQ(t->uncertainty, absl::Seconds(50000)) << c.seed;
  }
  absl::StatusOr<CommandTicks> negative_exponent = ParseTicks("6.36458E - 1");
  ASSERT_TRUE(negative_exponent.ok()) << negative_exponent.status();
  EXPECT_EQ(negative_exponent->ticks, 1) << "0.636458 rounds to 1";
}

TEST(Ticks, BadValuesAreCode11) {
  for (const char* bad : {"", "abc", "-5", "1.5E+30", "0x10"}) {
    absl::StatusOr<CommandTicks> t = ParseTicks(bad);
    EXPECT_THAT(t, StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
    EXPECT_EQ(CodeOf(t.status(), -1), kBadParameter) << bad;
  }
  // Blanks are dropped only beside "E" and the sign: inside the digits, or without an exponent, they still refuse.
  for (const char* bad : {"6.36458E + 1 7", "6.36 458E+17", "6.36458 + 17", "6.36458E +", "E + 17", "6.36458E + + 17",
                          "636 458 000 000 000 000"}) {
    EXPECT_THAT(ParseTicks(bad),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         absl::StrCat("commandStartTimeUTCTicks \"", bad,
                                      "\" is neither an integer tick count nor a number like 6.36458E+17")))
        << bad;
  }
}

// vmType: the two types the real extension knows (VMBackup common.py VmTypeV2, VmTypeV1), in any letter case as Azure
// compares resource types, or none (the seeds do not list it as required); anything else is code 11.
TEST(VmType, KnownTypesInAnyCaseOrNone) {
  for (const char* ok :
       {"microsoft.compute/virtualmachines", "Microsoft.Compute/virtualMachines", "MICROSOFT.COMPUTE/VIRTUALMACHINES",
        "microsoft.classiccompute/virtualmachines", "Microsoft.ClassicCompute/virtualMachines", ""}) {
    EXPECT_TRUE(CheckVmType(ok).ok()) << ok;
  }
  for (const char* bad : {"Microsoft.Compute/virtualMachineScaleSets", "microsoft.compute/virtualmachines/",
                          " microsoft.compute/virtualmachines", "microsoft.hybridcompute/machines", "vm"}) {
    absl::Status s = CheckVmType(bad);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                            absl::StrCat("vmType \"", bad,
                                         "\" is not a VM type this extension serves: expected "
                                         "microsoft.compute/virtualmachines (Resource Manager VMs) or "
                                         "microsoft.classiccompute/virtualmachines (classic VMs), in any letter case")))
        << bad;
    EXPECT_EQ(CodeOf(s, -1), kBadParameter) << bad;
  }
}

TEST(ObjectStr, JsonBase64QuotedAndEscaped) {
  const std::string json = R"({"blobSASUri":["https:\/\/a.blob.core.windows.net\/vhds\/d.vhd?sig=x"],)"
                           R"("backupMetadata":[{"Key":"k1","Value":"v1"}]})";
  for (const std::string& form :
       {json, crypto::Base64Encode(json), " '" + crypto::Base64Encode(json) + "'\n", "'" + json + "'"}) {
    absl::StatusOr<ObjectStrContent> o = ParseObjectStr(form);
    ASSERT_TRUE(o.ok()) << o.status() << " for " << form;
    ASSERT_EQ(o->blob_sas_uris.size(), 1u);
    EXPECT_EQ(o->blob_sas_uris[0], "https://a.blob.core.windows.net/vhds/d.vhd?sig=x");
    ASSERT_EQ(o->metadata.size(), 1u);
    EXPECT_EQ(o->metadata[0].first, "k1");
  }
  EXPECT_THAT(ParseObjectStr("!!!"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("neither JSON nor base64")));
  EXPECT_THAT(ParseObjectStr(""), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no disks")));
  EXPECT_THAT(ParseObjectStr(R"({"blobSASUri": {"not": "a list"}})"), StatusIs(absl::StatusCode::kInvalidArgument));
}

// The required public settings, through the whole enable flow: a refusal is code 11 (error_parameter, the code the
// real extension reports for bad settings), names the field, reaches the status file and the status blob, and comes
// before any freeze or snapshot; the job is not recorded as processed, so the service's next try runs.
class RequiredSettingsTest : public EnableJobTest {
 protected:
  // Runs enable on <seq>.settings and checks the refusal with `detail` everywhere it is reported.
  void ExpectRefused(int seq, const std::string& detail) {
    EnableResult r = RunEnable(options_);
    EXPECT_EQ(r.code, kBadParameter);
    EXPECT_EQ(r.status, "error");
    EXPECT_EQ(r.exit_code, 0) << "the outcome is in the status file";
    EXPECT_EQ(r.message, absl::StrCat("Invalid extension settings: ", detail));
    EXPECT_EQ(freeze_.freezes, 0);
    EXPECT_EQ(SnapshotCalls(), 0);
    // The host's copy (status file, substatus[0]) and the backup service's (status blob) say the same.
    absl::StatusOr<proto::StatusDocument> blob_doc = ParseStatus(Blob("logs", "vm.Status.txt"), "status blob");
    ASSERT_TRUE(blob_doc.ok()) << blob_doc.status();
    for (const proto::StatusDocument& doc : {HostStatus(seq), *blob_doc}) {
      EXPECT_EQ(doc.status().status(), "error");
      EXPECT_EQ(doc.status().code(), kBadParameter);
      proto::JobMessage message;
      ASSERT_TRUE(json::Parse(doc.status().formattedmessage().message(), &message, "message").ok());
      EXPECT_EQ(message.messagestr(), absl::StrCat("Ungültige Erweiterungseinstellungen: ", detail));
      EXPECT_EQ(message.jobmessage(), detail);
    }
    std::string status_blob = Blob("logs", "vm.Status.txt");
    std::string status_file = file::ReadFile(absl::StrCat(dir_, "/status/", seq, ".status")).value_or("");
    for (const std::string& text : {status_blob, status_file, Blob("logs", "vm.Logs.txt")}) {
      EXPECT_THAT(text, Not(HasSubstr("SECRETSIG")));
    }
  }

  std::string SettingsPath(int seq) { return absl::StrCat(dir_, "/config/", seq, ".settings"); }
};

TEST_F(RequiredSettingsTest, MissingTaskIdIsRefusedBeforeAnyFreeze) {
  int seq = 0;
  for (const std::string task : {"", "  "}) {
    WriteSettings(seq, Disks(2), task);
    options_.seq = seq;
    ExpectRefused(seq, absl::StrCat("taskId is missing from the public settings in ", SettingsPath(seq),
                                    ": it names the backup job this status answers, and the backup service sends it "
                                    "with every job; nothing was frozen or snapshotted, the service must send the job "
                                    "again"));
    ++seq;
  }
  // Nothing was lost: the job sent again with its taskId runs.
  WriteSettings(seq, Disks(2), "task-2");
  options_.seq = seq;
  EnableResult r = RunEnable(options_);
  EXPECT_EQ(r.code, kSuccessAppConsistent) << r.message;
  EXPECT_EQ(r.snapshots_taken, 2);
}

TEST_F(RequiredSettingsTest, UnknownVmTypeIsRefusedBeforeAnyFreeze) {
  int seq = 0;
  for (const char* vm_type : {"Microsoft.Compute/virtualMachineScaleSets", "microsoft.hybridcompute/machines"}) {
    WriteSettings(seq, Disks(2), absl::StrCat("task-", seq));
    EditPublicSettings(seq, [&](proto::PublicSettings& pub) { pub.set_vmtype(vm_type); });
    options_.seq = seq;
    ExpectRefused(seq, absl::StrCat("vmType \"", vm_type,
                                    "\" is not a VM type this extension serves: expected "
                                    "microsoft.compute/virtualmachines (Resource Manager VMs) or "
                                    "microsoft.classiccompute/virtualmachines (classic VMs), in any letter case"));
    ++seq;
  }
}

TEST_F(RequiredSettingsTest, KnownVmTypesInAnyCaseAreAccepted) {
  int seq = 0;
  for (const char* vm_type : {"microsoft.compute/virtualmachines", "Microsoft.Compute/virtualMachines",
                              "microsoft.classiccompute/virtualmachines", "Microsoft.ClassicCompute/virtualMachines"}) {
    WriteSettings(seq, Disks(1), absl::StrCat("task-", seq));
    EditPublicSettings(seq, [&](proto::PublicSettings& pub) { pub.set_vmtype(vm_type); });
    options_.seq = seq;
    EnableResult r = RunEnable(options_);
    EXPECT_EQ(r.code, kSuccessAppConsistent) << vm_type << ": " << r.message;
    EXPECT_EQ(HostStatus(seq).status().code(), kSuccessAppConsistent) << vm_type;
    ++seq;
  }
  EXPECT_EQ(freeze_.freezes, seq);
}

// The sv and fr seeds' form of the ticks runs a job like the plain form (the command is checked for lateness).
TEST_F(RequiredSettingsTest, SpacedTicksOfTheSvAndFrSeedsRunTheJob) {
  int seq = 0;
  for (const char* glue : {"E+", "E + ", "E\u00a0+\u00a0"}) {
    WriteSettings(seq, Disks(1), absl::StrCat("task-", seq));
    std::string now = absl::StrFormat("%.5E", static_cast<double>(TimeToTicks(absl::Now())));
    std::string ticks = absl::StrCat(now.substr(0, now.find('E')), glue, now.substr(now.find('E') + 2));
    EditPublicSettings(seq, [&](proto::PublicSettings& pub) { pub.set_commandstarttimeutcticks(ticks); });
    options_.seq = seq;
    EnableResult r = RunEnable(options_);
    EXPECT_EQ(r.code, kSuccessAppConsistent) << ticks << ": " << r.message;
    EXPECT_THAT(r.message, HasSubstr("too imprecise")) << ticks;
    EXPECT_EQ(HostStatus(seq).status().commandstarttimeutcticks(), ticks) << "reported as sent";
    ++seq;
  }
}

TEST(ErrorCodes, TableAndLanguages) {
  EXPECT_STREQ(InfoFor(402).name, "FailedGuestAgentInvokedCommandTooLate");
  EXPECT_TRUE(InfoFor(402).is_error);
  EXPECT_FALSE(InfoFor(3).is_error);
  EXPECT_EQ(InfoFor(305).code, 300);
  EXPECT_EQ(InfoFor(99999).code, 2);
  EXPECT_EQ(LangTag("de-de"), "de-DE");
  EXPECT_EQ(LangTag("xx"), "en-US");
  EXPECT_THAT(LocalizedMessage(402, "de-de"), HasSubstr("zu spät"));
  EXPECT_THAT(LocalizedMessage(402, "nl-NL"), HasSubstr("te laat"));
  EXPECT_THAT(LocalizedMessage(402, "sv-SE"), HasSubstr("för sent"));
  EXPECT_THAT(LocalizedMessage(402, "fr-fr"), HasSubstr("trop tard"));
  EXPECT_THAT(LocalizedMessage(402, "ja-jp", "detail"), HasSubstr("too late: detail"));
  for (const CodeInfo& c : AllCodes()) {
    for (const char* l : {"en", "de", "nl", "sv", "fr"}) EXPECT_FALSE(LocalizedMessage(c.code, l).empty());
  }
}

}  // namespace
}  // namespace vmb::snapshot
