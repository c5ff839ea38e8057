// Scale (issue 20): our initial backup (`seedagent initiate`) beside restic, borg and `tar | zstd` on real data
// shapes at three sizes each, every tool its own child process with a fresh output:
//   (a) many small files (0.5-2 KB, text and random, 1000 to a folder)  --quick 1k/10k/100k, full 10k/100k/1M files
//   (b) Debian's linux-source-6.1 tree (fs/, arch/, all), when /usr/src/linux-source-6.1.tar.xz is installed
//   (c) four large files, half compressible                              --quick 16/64/256 MiB, full 128/512/2048
//   (d) a sparse VM-image-like file (apparent/data)   --quick 256M/4M..4G/64M, full 6.25G/64M..100G/1G
// For each: wall time (output synced), the child's peak RSS (wait4), output bytes on disk; per tool the growth
// exponents of time and memory against size; the targets (speed >= the faster of restic and borg, size <= 1.02x
// tar|zstd, peak RSS <= 256 MiB) with verdicts. On (a) and (b) at the middle size also the restores (no slower than
// restic restore), and on (a) at the largest size a repeat run with nothing changed (ours: the incremental backup
// into the vault on Azurite; no slower than restic's repeat).
// Run:  bazel run -c opt //offline_seed/bench:scale_bench -- --quick [--only=acd] [--json=FILE]
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/bench/report.h"
#include "common/blob/blob_client.h"
#include "common/http/curl_transport.h"
#include "common/process/subprocess.h"
#include "common/status/status_macros.h"
#include "common/testing/azurite.h"
#include "offline_seed/agent/endpoints.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/bench/bench_util.h"
#include "offline_seed/bench/scale_corpus.h"
#include "offline_seed/bench/scale_plot.h"
#include "offline_seed/bench/scale_report.h"
#include "offline_seed/bench/scale_tools.h"
#include "offline_seed/vault/vault.h"
#include "simulators/import_export/control_plane.h"
#include "simulators/import_export/sim_admin.h"

namespace {

using namespace vmb::offline::bench;  // NOLINT: this file is the bench's main

constexpr uint64_t kMiB = 1ull << 20;

struct Options {
  vmb::bench::CommonFlags flags;
  std::string only = "abcd";
  std::string seedagent;
  int sizes = 3;     // run only the first N sizes of each corpus (a shorter run while working on the bench)
  std::string plot;  // the PNG of time and memory against size ("": beside --json's file, else none)
};

struct CorpusSpec {
  std::string key, title, name;
  bool by_files = false;
  std::vector<std::string> labels;
  // Makes the tree of size i under `dir` (or names an existing one) and returns its root.
  std::function<absl::StatusOr<std::string>(int i, const std::string& dir)> make;
  bool generated = true;  // false: the tree is a kept cache, never removed
};

std::vector<CorpusSpec> Specs(bool quick, const std::string& cache) {
  std::vector<CorpusSpec> specs;
  std::vector<uint64_t> files =
      quick ? std::vector<uint64_t>{1000, 10000, 100000} : std::vector<uint64_t>{10000, 100000, 1000000};
  specs.push_back({"a", "many small files (0.5-2 KB, half text, 1000 per folder)", "small files", true, {}, nullptr});
  for (uint64_t n : files) specs.back().labels.push_back(n >= 1000000 ? "1M files" : absl::StrCat(n / 1000, "k files"));
  specs.back().make = [files](int i, const std::string& dir) -> absl::StatusOr<std::string> {
    absl::Status s = MakeSmallFiles(dir, files[i], 20 + i);
    if (!s.ok()) return s;
    return dir;
  };
  static const char* const kKernelParts[] = {"fs", "arch", ""};
  specs.push_back(
      {"b", "Debian linux-source-6.1 tree", "kernel tree", true, {"fs/", "arch/", "whole tree"}, nullptr, false});
  specs.back().make = [cache](int i, const std::string&) -> absl::StatusOr<std::string> {
    absl::StatusOr<std::string> tree = KernelTree(cache);
    if (!tree.ok()) return tree.status();
    return *kKernelParts[i] ? absl::StrCat(*tree, "/", kKernelParts[i]) : *tree;
  };
  std::vector<uint64_t> large = quick ? std::vector<uint64_t>{16, 64, 256} : std::vector<uint64_t>{128, 512, 2048};
  specs.push_back({"c", "four large files (half compressible)", "large files", false, {}, nullptr});
  for (uint64_t m : large) specs.back().labels.push_back(absl::StrCat(m, " MiB"));
  specs.back().make = [large](int i, const std::string& dir) -> absl::StatusOr<std::string> {
    absl::Status s = MakeLargeFiles(dir, large[i] * kMiB, 30 + i);
    if (!s.ok()) return s;
    return dir;
  };
  // Apparent MiB and data MiB of the sparse image.
  std::vector<std::pair<uint64_t, uint64_t>> sparse =
      quick ? std::vector<std::pair<uint64_t, uint64_t>>{{256, 4}, {1024, 16}, {4096, 64}}
            : std::vector<std::pair<uint64_t, uint64_t>>{{6400, 64}, {25600, 256}, {102400, 1024}};
  specs.push_back({"d", "sparse VM-image-like file (apparent size / data)", "sparse image", false, {}, nullptr});
  for (auto [apparent, data] : sparse) {
    specs.back().labels.push_back(absl::StrFormat("%gG/%dM", apparent / 1024.0, data));
  }
  specs.back().make = [sparse](int i, const std::string& dir) -> absl::StatusOr<std::string> {
    absl::Status s = MakeSparseImage(dir, sparse[i].first * kMiB, sparse[i].second * kMiB, 40 + i);
    if (!s.ok()) return s;
    return dir;
  };
  return specs;
}

void RemoveTree(const std::string& path) { vmb::process::RunCommand({"rm", "-rf", path}).IgnoreError(); }

struct Context {
  Tools* tools;
  std::string root;
  vmb::bench::proto::Report* report;
};

// Restores of the backups in `outs` (target: no slower than restic restore).
void RunRestores(Context& ctx, const CorpusSpec& spec, const TreeCount& count, const std::vector<std::string>& outs,
                 const std::string& label) {
  std::vector<Row> restores;
  for (size_t t = 0; t < outs.size(); ++t) {
    Tool tool = kAllTools[t];
    std::string target = absl::StrCat(ctx.root, "/restore-", t);
    Row r{tool, 1, {}, ctx.tools->Restore(tool, outs[t], target)};
    r.source = CountTree(target);  // what came back, to compare with the source's count
    restores.push_back(r);
    RemoveTree(target);
    std::fprintf(stderr, "scale: restore %s %.2f s\n", ToolName(tool), r.outcome.run.seconds);
  }
  std::printf("%s", ExtraTable(absl::StrFormat("restore, corpus (%s) at %s (files and MiB: what came back; source "
                                               "has %d files, %.1f MiB)",
                                               spec.key, label, count.files, count.bytes / double(kMiB)),
                               label, restores)
                        .c_str());
  const Outcome& ours = restores[0].outcome;
  const Outcome& restic = restores[1].outcome;
  if (ours.run.ok() && restic.run.ok()) {
    double mb = count.bytes / 1e6;
    *ctx.report->add_figures() = vmb::bench::AtLeastRatio(
        absl::StrCat("scale.", spec.key, ".restore"), absl::StrCat("restore speed, ", spec.name, ", ", label),
        mb / ours.run.seconds, "MB/s", mb / restic.run.seconds, "MB/s restic restore", 1.0);
  }
}

// Each backup in `outs` run again with nothing changed (target: ours no slower than restic's repeat).
void RunRepeats(Context& ctx, const std::string& source, const TreeCount& count, const std::vector<std::string>& outs,
                int size_index, const std::string& label) {
  std::vector<Row> repeats;
  for (size_t t = 0; t < outs.size(); ++t) {
    Tool tool = kAllTools[t];
    repeats.push_back(Row{tool, size_index, count, ctx.tools->Repeat(tool, source, outs[t], "second")});
    std::fprintf(stderr, "scale: repeat %s %.2f s\n", ToolName(tool), repeats.back().outcome.run.seconds);
  }
  std::printf("%s", ExtraTable("repeat backup with nothing changed, corpus (a) at " + label +
                                   " (output MiB: what the repository grew by)",
                               label, repeats)
                        .c_str());
  std::fflush(stdout);
  const Outcome& ours = repeats[0].outcome;
  const Outcome& restic = repeats[1].outcome;
  if (ours.run.ok() && restic.run.ok()) {
    *ctx.report->add_figures() =
        vmb::bench::AtMostRatio("scale.a.repeat", "incremental, nothing changed, small files, " + label,
                                ours.run.seconds, "s", restic.run.seconds, "s restic repeat", 1.0);
  }
  if (ours.run.ok()) {
    *ctx.report->add_figures() = vmb::bench::AtMost(
        "scale.a.repeat.memory", "incremental peak RSS, nothing changed, small files, " + label, ours.run.peak_rss_mib,
        "MiB", 256, restic.run.ok() ? restic.run.peak_rss_mib : 0, "MiB restic");
  }
  for (size_t t = 1; t < 3; ++t) {
    if (!repeats[t].outcome.run.ok()) continue;
    *ctx.report->add_figures() = vmb::bench::Info(absl::StrCat("scale.a.repeat.", ToolName(repeats[t].tool)),
                                                  absl::StrCat(ToolName(repeats[t].tool), " repeat backup, ", label),
                                                  repeats[t].outcome.run.seconds, "s");
  }
}

// Every tool on every size of one corpus; nullopt-like empty result when the corpus cannot be made here.
CorpusResult RunCorpus(Context& ctx, const CorpusSpec& spec) {
  CorpusResult c{spec.key, spec.title, spec.name, spec.by_files, spec.labels, {}};
  std::fprintf(stderr, "scale: corpus (%s) %s; load average %s\n", spec.key.c_str(), spec.title.c_str(),
               LoadAverage().c_str());
  for (int i = 0; i < static_cast<int>(spec.labels.size()); ++i) {
    std::string dir = ctx.root + "/src";
    absl::StatusOr<std::string> source = spec.make(i, dir);
    if (!source.ok()) {
      c.sizes.resize(i);
      if (i == 0) c.sizes.clear();
      std::printf("\ncorpus (%s) %s: skipped: %s\n", spec.key.c_str(), spec.title.c_str(),
                  std::string(source.status().message()).c_str());
      break;
    }
    ::sync();  // the corpus's write-back must not land in the first tool's time
    TreeCount count = CountTree(*source);
    std::vector<std::string> outs;
    for (Tool tool : kAllTools) {
      std::string out = absl::StrCat(ctx.root, "/out-", outs.size());
      Row r{tool, i, count, ctx.tools->Backup(tool, *source, out, absl::StrCat("scale-", spec.key, i))};
      std::fprintf(stderr, "scale:   %-9s %-14s %.2f s, %.1f MiB RSS%s\n", ToolName(tool), spec.labels[i].c_str(),
                   r.outcome.run.seconds, r.outcome.run.peak_rss_mib, r.outcome.run.ok() ? "" : " (FAILED)");
      c.rows.push_back(std::move(r));
      outs.push_back(out);
    }
    if ((spec.key == "a" || spec.key == "b") && i == 1) RunRestores(ctx, spec, count, outs, spec.labels[i]);
    if (spec.key == "a" && i + 1 == static_cast<int>(spec.labels.size())) {
      RunRepeats(ctx, *source, count, outs, i, spec.labels[i]);
    }
    for (const std::string& out : outs) RemoveTree(out);
    if (spec.generated) RemoveTree(dir);
  }
  return c;
}

// Puts the local image file `path` into the page blob `blob` (its size rounded up to whole pages).
absl::Status PutImage(vmb::blob::BlobClient& client, const std::string& path, const vmb::blob::BlobUri& blob) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  const uint64_t size = (static_cast<uint64_t>(in.tellg()) + 511) / 512 * 512;
  in.seekg(0);
  RETURN_IF_ERROR(client.CreatePageBlob(blob, size));
  std::string piece;
  for (uint64_t at = 0; at < size; at += piece.size()) {
    piece.assign(std::min<uint64_t>(size - at, 4u << 20), '\0');
    in.read(piece.data(), static_cast<std::streamsize>(piece.size()));  // the last page's tail stays zero
    RETURN_IF_ERROR(client.PutPages(blob, at, piece));
  }
  return absl::OkStatus();
}

// Recovery point 1 in the vault on `endpoint` from the staging location, as after the import: the images put as page
// blobs where the import puts them, then the vault copy into the vault `seedagent backup` finds there (its own
// Connect and VaultFor); the images are deleted after (the vault holds its own copy).
absl::Status SeedVault(const std::string& endpoint, const std::string& staging) {
  ASSIGN_OR_RETURN(vmb::offline::proto::ImportJobRecord job, vmb::offline::ReadStagedJob(staging));
  vmb::offline::Flags flags = {{"blob-endpoint", endpoint}};
  ASSIGN_OR_RETURN(vmb::offline::Endpoints e, vmb::offline::Connect(flags, nullptr));
  const vmb::blob::BlobUri imports = e.account.WithContainer(job.container());
  for (const vmb::blob::BlobUri& c : {imports, e.vault_container}) {
    absl::Status made = e.vault_client->CreateContainer(c);
    if (!made.ok() && !absl::IsAlreadyExists(made)) return made;
  }
  std::vector<vmb::blob::BlobUri> images;
  for (uint32_t i = 0; i < job.images(); ++i) {
    images.push_back(imports.WithBlob(absl::StrFormat("%s/image-%04u.vhd", job.jobname(), i)));
    RETURN_IF_ERROR(PutImage(*e.storage, absl::StrFormat("%s/images/image-%04u.vhd", staging, i), images.back()));
  }
  vmb::vault::VaultOptions vo = vmb::offline::VaultFor(e, job, {});
  vo.progress = nullptr;  // set up, not measured: no progress lines
  vmb::vault::Vault vault(vo);
  absl::Status seeded = vault.Seed(images, vmb::offline::CataloguePath(staging), job.stagedbytes()).status();
  for (const vmb::blob::BlobUri& image : images) (void)e.storage->DeleteBlob(image);
  return seeded;
}

int ParseFlags(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (a == "--help") {
      std::printf(
          "usage: scale_bench [--quick] [--only=abcd] [--sizes=1|2|3] [--seedagent=PATH] [--json=FILE] "
          "[--plot=FILE.png]\n"
          "  corpora: a small files, b linux-source-6.1 tree, c large files, d sparse image\n"
          "  --sizes=N: only the first N of the three sizes (the growth exponents need 2 or more)\n"
          "  --plot=FILE.png: time and peak memory against size per corpus (gnuplot; default: beside --json's\n"
          "    file, as scale.png for scale.json)\n"
          "  scratch under $TMPDIR (default /tmp), removed at the end; the kernel tree is unpacked once into\n"
          "  $TMPDIR/vmbackup-bench-cache and kept\n");
      return 0;
    }
    if (vmb::bench::ParseCommonFlag(argv[i], &o->flags)) continue;
    if (absl::ConsumePrefix(&a, "--only=") && !a.empty() && a.find_first_not_of("abcd") == absl::string_view::npos) {
      o->only = std::string(a);
    } else if (absl::ConsumePrefix(&a, "--sizes=") && (a == "1" || a == "2" || a == "3")) {
      o->sizes = a[0] - '0';
    } else if (absl::ConsumePrefix(&a, "--plot=") && !a.empty()) {
      o->plot = std::string(a);
    } else if (absl::ConsumePrefix(&a, "--seedagent=") && !a.empty()) {
      o->seedagent = std::string(a);
    } else {
      std::fprintf(stderr, "scale_bench: unknown argument %s (see --help)\n", argv[i]);
      return 2;
    }
  }
  return -1;
}

// The seedagent binary: --seedagent, else in the runfiles (the working directory under `bazel run` and the suite),
// else beside this binary's runfiles tree.
std::string FindSeedagent(const Options& o, const char* argv0) {
  if (!o.seedagent.empty()) return o.seedagent;
  for (std::string p : {std::string("offline_seed/agent/seedagent"),
                        std::string(argv0) + ".runfiles/vmbackup/offline_seed/agent/seedagent"}) {
    if (::access(p.c_str(), X_OK) == 0) {
      char* real = ::realpath(p.c_str(), nullptr);
      std::string abs = real ? real : p;
      std::free(real);
      return abs;
    }
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (int rc = ParseFlags(argc, argv, &o); rc >= 0) return rc;
  std::string seedagent = FindSeedagent(o, argv[0]);
  if (seedagent.empty()) {
    std::fprintf(stderr, "scale_bench: seedagent not found; run through bazel or give --seedagent=PATH\n");
    return 1;
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string base = tmp != nullptr && *tmp ? tmp : "/tmp";
  std::string root = absl::StrCat(base, "/scale_bench.", ::getpid());
  if (!vmb::file::MakeDirs(root, 0700).ok()) {
    std::fprintf(stderr, "scale_bench: cannot create %s\n", root.c_str());
    return 1;
  }
  // seedagent's own folders are the bench's, not the machine's (initiate records its staging location there).
  ::setenv("VMBACKUP_AGENT_DIR", (root + "/agent").c_str(), 1);
  ::setenv("VMBACKUP_SCRATCH_DIR", (root + "/agent/scratch").c_str(), 1);
  std::string load_start = LoadAverage();
  // The Import/Export simulator initiate checks the job name with (nothing else is contacted).
  vmb::ie::ControlPlane plane({root + "/plane", "bench-token"});
  absl::StatusOr<std::string> url = plane.Start();
  if (!url.ok()) {
    std::fprintf(stderr, "scale_bench: control plane: %s\n", std::string(url.status().message()).c_str());
    return 1;
  }
  auto transport = vmb::http::NewCurlTransport();
  vmb::ie::SimAdmin admin(transport.get(), *url, "bench-token");
  (void)admin.PutStorageAccount("sub", "offlinebackup", "acct", "westeurope");
  ToolEnv env{seedagent, *url, "bench-token", MakePublishSettings(root), root};
  // The vault ours repeats its backup into (Azurite, in memory; seedagent finds its development key by itself).
  absl::StatusOr<std::unique_ptr<vmb::testing::Azurite>> azurite = vmb::testing::Azurite::Start();
  if (azurite.ok()) {
    env.blob_endpoint = (*azurite)->endpoint();
    env.seed_vault = [endpoint = env.blob_endpoint](const std::string& staging) {
      return SeedVault(endpoint, staging);
    };
  } else {
    env.no_vault = std::string(azurite.status().message());
  }
  Tools tools(env);
  vmb::bench::proto::Report report;
  Context ctx{&tools, root, &report};

  std::printf("scale bench (%s sizes) on %ld cores; load average at start %s; scratch %s\n",
              o.flags.quick ? "quick" : "full", ::sysconf(_SC_NPROCESSORS_ONLN), load_start.c_str(), root.c_str());
  std::printf("%sthe page cache is not dropped: every tool reads a corpus just written (warm), the same for all\n",
              ToolSettings().c_str());
  std::fflush(stdout);
  std::vector<CorpusResult> corpora;
  for (CorpusSpec& spec : Specs(o.flags.quick, base + "/vmbackup-bench-cache")) {
    if (o.only.find(spec.key) == std::string::npos) continue;
    spec.labels.resize(std::min<size_t>(spec.labels.size(), o.sizes));
    CorpusResult c = RunCorpus(ctx, spec);
    if (c.sizes.empty()) continue;
    std::printf("%s", CorpusTable(c).c_str());
    std::fflush(stdout);
    AddFigures(c, &report);
    corpora.push_back(std::move(c));
  }
  std::string plot = o.plot;
  if (plot.empty() && absl::EndsWith(o.flags.json_path, ".json")) {
    plot = o.flags.json_path.substr(0, o.flags.json_path.size() - 5) + ".png";
  }
  if (plot.empty()) {
    std::printf("\n(no plot: give --plot=FILE.png, or --json=FILE.json for one beside it)\n");
  } else if (absl::Status p = WritePlot(corpora, plot); p.ok()) {
    std::printf("\nplot of time and peak memory against size: %s\n", plot.c_str());
  } else {
    std::printf("\nno plot: %s\n", std::string(p.message()).c_str());
  }
  std::printf("\nnot measured: a repeat of tar|zstd, which keeps no state between runs.\n");
  std::printf(
      "load average at start %s, at end %s (2 cores shared with other work: a load near or above 2 means the "
      "figures are slowed by it)\n\n",
      load_start.c_str(), LoadAverage().c_str());
  plane.Stop();
  RemoveTree(root);
  absl::Status es = vmb::bench::Emit(report, o.flags);
  if (!es.ok()) std::fprintf(stderr, "scale_bench: %s\n", std::string(es.message()).c_str());
  return 0;
}
