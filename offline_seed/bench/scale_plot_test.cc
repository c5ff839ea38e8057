// The scale plot: its data blocks (one per corpus and tool, completed runs only, in the order the script indexes
// them) and a picture that gnuplot really draws.
#include "offline_seed/bench/scale_plot.h"

#include "common/file/file_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::offline::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::vmb::testing::IsOk;

CorpusResult Sample() {
  CorpusResult c;
  c.key = "a";
  c.name = "small files";
  c.by_files = true;
  c.sizes = {"1k files", "10k files"};
  for (int i = 0; i < 2; ++i) {
    for (Tool t : {Tool::kOurs, Tool::kRestic}) {
      Row r;
      r.tool = t;
      r.size_index = i;
      r.source.files = i == 0 ? 1000 : 10000;
      r.source.bytes = r.source.files * 1200;
      r.outcome.run.started = true;
      r.outcome.run.exit_code = (t == Tool::kRestic && i == 1) ? 1 : 0;  // a failed run is left out
      r.outcome.run.seconds = 0.5 * (i + 1) * (t == Tool::kOurs ? 1 : 2);
      r.outcome.run.peak_rss_mib = 30 + i;
      c.rows.push_back(r);
    }
  }
  return c;
}

TEST(ScalePlot, OneBlockPerCorpusAndToolWithItsCompletedRuns) {
  const std::string data = PlotData({Sample()});
  EXPECT_THAT(data, HasSubstr("# small files ours\n1000 0.5000 30.00\n10000 1.0000 31.00\n\n\n"));
  EXPECT_THAT(data, HasSubstr("# small files restic\n1000 1.0000 30.00\n\n\n")) << "the failed run is not a point";
  EXPECT_THAT(data, Not(HasSubstr("borg"))) << "no block for a tool without a completed run";
  const std::string script = PlotScript({Sample()}, "/d/scale.dat", "/d/scale.png");
  EXPECT_THAT(script, HasSubstr("set output '/d/scale.png'"));
  EXPECT_THAT(script, HasSubstr("'/d/scale.dat' index 0 using 1:2 with linespoints title 'ours', "
                                "'/d/scale.dat' index 1 using 1:2 with linespoints title 'restic'"));
  EXPECT_THAT(script, HasSubstr("'/d/scale.dat' index 1 using 1:3 with linespoints title 'restic'\n"));
  EXPECT_THAT(script, Not(HasSubstr("borg")));
}

TEST(ScalePlot, GnuplotDrawsIt) {
  const std::string dir = vmb::testing::PerTestDir();
  const std::string png = dir + "/scale.png";
  CorpusResult large = Sample();
  large.name = "large files";
  large.by_files = false;
  ASSERT_THAT(WritePlot({Sample(), large}, png), IsOk());
  absl::StatusOr<std::string> picture = file::ReadFile(png);
  ASSERT_THAT(picture.status(), IsOk());
  EXPECT_EQ(picture->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_GT(picture->size(), 10000u);
  EXPECT_THAT(file::ReadFile(dir + "/scale.dat").status(), IsOk()) << "the data stays beside the picture";
}

}  // namespace
}  // namespace vmb::offline::bench
