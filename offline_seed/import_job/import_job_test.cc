// The client's requests as Azure defines them (Microsoft's SDK judges the same in the e2e test; these pin the shape
// in the fast suite): paths, api-version on every call, compact bodies, nextLink paging, ARM errors.
#include <map>

#include "absl/strings/match.h"
#include "common/http/recording_transport.h"
#include "common/json/json.h"
#include "common/status/http_status.h"
#include "common/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/import_job/arm_client.h"
#include "offline_seed/import_job/directory_client.h"
#include "offline_seed/import_job/job_progress.h"

namespace vmb::ie {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

http::HttpResponse Ok(const std::string& body) {
  http::HttpResponse r;
  r.status = 200;
  r.body = body;
  return r;
}

TEST(ArmImportJobClient, EveryCallCarriesItsApiVersionAndAzuresPath) {
  http::RecordingTransport t([](const http::HttpRequest& req) -> absl::StatusOr<http::HttpResponse> {
    if (absl::StrContains(req.url, "listBitLockerKeys"))
      return Ok(R"({"value":[{"driveId":"S1","bitLockerKey":"k"}]})");
    if (absl::StrContains(req.url, "/locations/")) return Ok(R"({"name":"westeurope"})");
    return Ok("{}");
  });
  ArmImportJobClient c(&t, "https://arm", "tok");
  JobRef ref{"sub", "rg", "job1"};
  ASSERT_TRUE(c.GetJob(ref).ok());
  ASSERT_TRUE(c.GetStorageAccount("sub", "rg", "acct").ok());
  ASSERT_TRUE(c.GetLocation("westeurope").ok());
  absl::StatusOr<std::vector<proto::DriveBitLockerKey>> keys = c.ListBitLockerKeys(ref);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ((*keys)[0].driveid(), "S1");
  std::vector<http::HttpRequest> r = t.requests();
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].url,
            "https://arm/subscriptions/sub/resourceGroups/rg/providers/Microsoft.ImportExport/jobs/job1"
            "?api-version=2021-01-01");
  EXPECT_EQ(r[1].url,
            "https://arm/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct"
            "?api-version=2021-06-01");
  EXPECT_EQ(r[2].url, "https://arm/providers/Microsoft.ImportExport/locations/westeurope?api-version=2021-01-01");
  EXPECT_EQ(r[3].method, "POST");
  EXPECT_EQ(r[3].url,
            "https://arm/subscriptions/sub/resourceGroups/rg/providers/Microsoft.ImportExport/jobs/job1"
            "/listBitLockerKeys?api-version=2021-01-01");
  for (const auto& req : r) {
    bool auth = false;
    for (const auto& [k, v] : req.headers) auth |= k == "Authorization" && v == "Bearer tok";
    EXPECT_TRUE(auth) << req.url;
  }
}

TEST(ArmImportJobClient, CreateSendsOnlyPutJobParametersAndNumbersAsNumbers) {
  proto::Job job;
  job.set_id("/should/not/be/sent");
  job.set_name("job1");
  job.set_type("Microsoft.ImportExport/jobs");
  job.set_location("westeurope");
  auto* p = job.mutable_properties();
  p->set_storageaccountid("/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a");
  p->set_jobtype("Import");
  p->set_state("Shipping");
  p->set_provisioningstate("Succeeded");
  p->set_backupdrivemanifest(true);
  p->set_loglevel("Verbose");
  auto* d = p->add_drivelist();
  d->set_driveid("WD-WCC4E1234567");
  d->set_state("Completed");
  d->set_bytessucceeded(5e9);
  std::string body = PutJobBody(job);
  EXPECT_THAT(body, Not(HasSubstr("\"id\"")));
  EXPECT_THAT(body, Not(HasSubstr("\"name\"")));
  EXPECT_THAT(body, Not(HasSubstr("\"type\"")));
  EXPECT_THAT(body, Not(HasSubstr("\"state\"")));
  EXPECT_THAT(body, Not(HasSubstr("provisioningState")));
  EXPECT_THAT(body, Not(HasSubstr("bytesSucceeded")));
  EXPECT_THAT(body, Not(HasSubstr("\"\"")));  // no empty strings for fields left unset
  EXPECT_THAT(body, HasSubstr(R"("backupDriveManifest":true)"));
  EXPECT_THAT(body, HasSubstr(R"("driveId":"WD-WCC4E1234567")"));
  EXPECT_THAT(body, HasSubstr(R"("location":"westeurope")"));
  proto::DriveStatus number;
  number.set_bytessucceeded(5e9);
  EXPECT_EQ(json::ToJsonCompact(number), R"({"bytesSucceeded":5000000000})");
}

TEST(ArmImportJobClient, PatchCarriesOnlyWhatChanges) {
  http::RecordingTransport t([](const http::HttpRequest&) -> absl::StatusOr<http::HttpResponse> { return Ok("{}"); });
  ArmImportJobClient c(&t, "https://arm", "tok");
  proto::UpdateJobParameters patch;
  patch.mutable_properties()->set_state("Shipping");
  ASSERT_TRUE(c.UpdateJob({"sub", "rg", "job1"}, patch).ok());
  EXPECT_EQ(t.requests()[0].method, "PATCH");
  EXPECT_EQ(t.requests()[0].body, R"({"properties":{"state":"Shipping"}})");
}

TEST(ArmImportJobClient, ListFollowsNextLinkToTheLastPage) {
  std::map<std::string, std::string> pages = {
      {"https://arm/subscriptions/sub/providers/Microsoft.ImportExport/jobs?api-version=2021-01-01",
       R"({"value":[{"name":"a"},{"name":"b"}],"nextLink":"https://arm/subscriptions/sub/providers/Microsoft.ImportExport/jobs?api-version=2021-01-01&$skiptoken=2"})"},
      {"https://arm/subscriptions/sub/providers/Microsoft.ImportExport/jobs?api-version=2021-01-01&$skiptoken=2",
       R"({"value":[{"name":"c"}]})"}};
  http::RecordingTransport t([&](const http::HttpRequest& req) -> absl::StatusOr<http::HttpResponse> {
    auto it = pages.find(req.url);
    if (it == pages.end()) return absl::NotFoundError(req.url);
    return Ok(it->second);
  });
  ArmImportJobClient c(&t, "https://arm", "tok");
  absl::StatusOr<std::vector<proto::Job>> jobs = c.ListJobs("sub");
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 3u);
  EXPECT_EQ((*jobs)[2].name(), "c");
}

TEST(ArmImportJobClient, ArmErrorsKeepTheirCodeAndSayWhatToDo) {
  http::RecordingTransport t([](const http::HttpRequest&) -> absl::StatusOr<http::HttpResponse> {
    http::HttpResponse r;
    r.status = 401;
    r.body = R"({"error":{"code":"ExpiredAuthenticationToken","message":"The access token expiry has passed."}})";
    return r;
  });
  ArmImportJobClient c(&t, "https://arm", "secret-token");
  absl::Status s = c.GetJob({"sub", "rg", "job1"}).status();
  EXPECT_THAT(std::string(s.message()), HasSubstr("ExpiredAuthenticationToken"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("az account get-access-token"));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("secret-token")));
}

// A transient failure is retried after a backoff timed on the injected clock (no real sleep): GET up to 5 attempts,
// a POST that could register twice only once.
TEST(ArmImportJobClient, RetriesTransientFailuresOnTheInjectedClock) {
  int calls = 0;
  http::RecordingTransport t([&calls](const http::HttpRequest&) -> absl::StatusOr<http::HttpResponse> {
    if (++calls < 3) {
      http::HttpResponse busy;
      busy.status = 503;
      return busy;
    }
    return Ok(R"({"name":"job1"})");
  });
  FakeClock clock;
  const absl::Time start = clock.Now();
  ArmImportJobClient c(&t, "https://arm", "tok", &clock);
  absl::StatusOr<proto::Job> job = c.GetJob({"sub", "rg", "job1"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->name(), "job1");
  EXPECT_EQ(t.requests().size(), 3u);
  EXPECT_GT(clock.total_slept(), absl::ZeroDuration()) << "the backoff went through the clock";
  EXPECT_EQ(clock.Now() - start, clock.total_slept());

  calls = 0;
  FakeClock graph_clock;
  DirectoryClient d(&t, "https://graph", "gtok", &graph_clock);
  proto::Application app;
  app.set_displayname("x");
  EXPECT_EQ(HttpStatusOf(d.CreateApplication(app).status()).value_or(0), 503);
  EXPECT_EQ(calls, 1) << "a POST is sent once";
  EXPECT_EQ(graph_clock.total_slept(), absl::ZeroDuration());
}

TEST(DirectoryClient, FindsByODataFilterAndReadsTheValueList) {
  http::RecordingTransport t([](const http::HttpRequest& req) -> absl::StatusOr<http::HttpResponse> {
    if (absl::StrContains(req.url, "none")) return Ok(R"({"value":[]})");
    return Ok(R"({"value":[{"id":"o1","appId":"a1","displayName":"Backup's app"}]})");
  });
  DirectoryClient c(&t, "https://graph", "gtok");
  absl::StatusOr<proto::Application> app = c.FindApplication("Backup's app");
  ASSERT_TRUE(app.ok()) << app.status();
  EXPECT_EQ(app->appid(), "a1");
  EXPECT_EQ(DisplayNameFilter("Backup's app"), "displayName eq 'Backup''s app'");
  EXPECT_THAT(t.requests()[0].url, HasSubstr("https://graph/v1.0/applications?$filter=displayName%20eq%20"));
  EXPECT_EQ(c.FindApplication("none").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace vmb::ie

namespace vmb::ie {
namespace {

proto::Job JobIn(const std::string& state, std::vector<std::string> drives) {
  proto::Job j;
  j.mutable_properties()->set_state(state);
  for (const auto& d : drives) j.mutable_properties()->add_drivelist()->set_state(d);
  return j;
}

// The tools follow the drives: the data is in the account while the job is still Packaging (return shipping).
TEST(JobProgress, DataIsDoneWhenEveryDriveFinishedWhateverTheJobIsDoing) {
  EXPECT_FALSE(ProgressOf(JobIn("Shipping", {"Specified", "Specified"})).data_done);
  EXPECT_FALSE(ProgressOf(JobIn("Transferring", {"Completed", "Transferring"})).data_done);
  EXPECT_TRUE(ProgressOf(JobIn("Transferring", {"Completed", "Completed"})).data_done);
  EXPECT_TRUE(ProgressOf(JobIn("Packaging", {"Completed", "Completed"})).data_done);
  EXPECT_FALSE(ProgressOf(JobIn("Packaging", {"Completed", "Completed"})).needs_repair);
  JobProgress errors = ProgressOf(JobIn("Packaging", {"Completed", "CompletedMoreInfo", "NeverReceived"}));
  EXPECT_TRUE(errors.data_done);
  EXPECT_TRUE(errors.needs_repair);
  EXPECT_EQ(errors.summary, "Packaging; drives: 1 Completed, 1 CompletedMoreInfo, 1 NeverReceived");
  EXPECT_TRUE(ProgressOf(JobIn("Closed", {"ShippedBack"})).needs_repair);
  EXPECT_TRUE(ProgressOf(JobIn("Completed", {"ShippedBack", "ShippedBack"})).data_done);
  EXPECT_FALSE(ProgressOf(JobIn("Completed", {})).data_done) << "a job with no drives imported nothing";
  EXPECT_THAT(JobGoneExplanation("j1"), HasSubstr("90 days"));
}

}  // namespace
}  // namespace vmb::ie
