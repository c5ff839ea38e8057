"""fuzz_target: a libFuzzer target and its corpus replay test.

fuzz_target(name = "x_fuzzer", srcs = [...], deps = [...], corpus = glob([...])) makes
  :x_fuzzer              the libFuzzer binary (clang: `bazel build --config=fuzz //pkg:x_fuzzer`; tagged manual and fuzz,
                         so the default gcc build does not try to link it)
  :x_fuzzer_replay_test  a test in the default build that runs the target over its corpus (every seed must pass)
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")

def fuzz_target(name, srcs, deps, corpus = []):
    cc_library(
        name = name + "_lib",
        testonly = True,
        srcs = srcs,
        deps = deps,
        alwayslink = True,
    )
    cc_binary(
        name = name,
        testonly = True,
        linkopts = ["-fsanitize=fuzzer"],
        deps = [":" + name + "_lib"],
        tags = ["manual", "fuzz"],
    )
    cc_test(
        name = name + "_replay_test",
        size = "small",
        args = ["$(location %s)" % c for c in corpus],
        data = corpus,
        deps = [
            ":" + name + "_lib",
            "//tools/fuzz:replay_main",
        ],
    )
