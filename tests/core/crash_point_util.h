// The crash-point harness (issue 9): a write path runs in a forked child over a FaultStorage that
// ends the process after its Nth storage operation, as a kill -9 would, for every N along the
// path. Each N gets its own tree, built afresh in the same old state. On every tree left the
// scenario checks what readers see (old or new state), then GC must succeed on the aged tree, the
// tree must verify clean (no crash leftovers, no verify problems, no temp files), a re-push must
// succeed and give the new state, and nothing outside the storage root may have been touched.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progress.h"
#include "regd/fault_storage.h"
#include "regd/gc.h"
#include "regd/inspect.h"
#include "registry_test_util.h"
#include "verifier.h"

namespace regd::testing {

using namespace std::chrono_literals;

inline constexpr int k_crash_exit = 77;
// A bound on any path's length, so that a path that never ends cannot fork forever.
inline constexpr uint64_t k_max_operations = 500;
// How old the old state is made before the path runs (older than refresh_after, so writers
// refresh the links they rely on) and how old everything is made before GC (older than grace).
inline constexpr std::chrono::seconds k_age = 2h;

inline GcOptions gc_with_grace(std::chrono::seconds grace) {
  GcOptions options;
  options.grace = grace;
  return options;
}

template <class State>
struct CrashScenario {
  // Builds the old state in a fresh tree; returns what the other steps need to know of it.
  // Throws on failure.
  std::function<State(Registry&, Storage&)> setup;
  // The write path under test, over the crashing storage (the GC path needs the storage itself).
  std::function<Status(Registry&, const std::shared_ptr<Storage>&, const State&)> write;
  // What readers see on the tree left: the old state, or with `completed` the new one.
  std::function<void(Registry&, const std::shared_ptr<Storage>&, const State&, bool completed)> check_readers;
  // A client retrying the write on that tree after GC (uncrashed); asserts it succeeds and may
  // note in `State` what it made.
  std::function<void(Registry&, const std::shared_ptr<Storage>&, State&)> repush;
  // The new state after the re-push, fully.
  std::function<void(Registry&, const std::shared_ptr<Storage>&, const State&)> check_new;
  // The GC that runs on the aged tree.
  GcOptions gc = gc_with_grace(1h);
  // Wait between the crashes and the checks (lets the lease of a crashed GC expire).
  std::chrono::seconds settle{0};
};

// One tree: <dir>/root is the storage root, <dir>/cwd the child's working directory; nothing
// else may appear in <dir>.
template <class State>
struct CrashTree {
  std::unique_ptr<TempDir> dir = std::make_unique<TempDir>();
  uint64_t crash_point = 0;
  bool completed = false;
  State state{};
  std::filesystem::path root() const { return dir->path() / "root"; }
  std::filesystem::path cwd() const { return dir->path() / "cwd"; }
};

// Makes every file and directory of the tree look `age` old.
inline void age_tree(const std::filesystem::path& root, std::chrono::seconds age) {
  auto when = std::filesystem::file_time_type::clock::now() - age;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    std::filesystem::last_write_time(entry.path(), when);
  }
}

// ---- old state shared by the scenarios ----

inline constexpr std::string_view k_repo = "team/app";

// The value of a Result a scenario's setup needs; throws (failing the test) otherwise.
template <class T>
T must(Result<T> result, std::string_view what) {
  if (!result) {
    throw std::runtime_error(std::string(what) + ": " + result.error().message);
  }
  if constexpr (!std::is_void_v<T>) {
    return std::move(*result);
  }
}

// The image every old state starts with, tagged v1 in k_repo: acknowledged long ago, so no crash
// of any path may change a byte of it.
inline const ImageSpec& base_spec() {
  static const ImageSpec spec("{\"image\":\"base\"}", {"base layer one", "base layer two"});
  return spec;
}
inline std::string base_manifest() {
  return image_manifest(base_spec());
}
inline void push_base(Registry& registry) {
  must(push_image(registry, k_repo, "v1", base_spec()), "push base image");
}

// ---- reader predicates shared by the scenarios ----

inline std::string read_all(ReadFile& file) {
  std::string out(file.size(), '\0');
  uint64_t done = 0;
  while (done < out.size()) {
    auto got = file.read_at(done, std::span<char>(out.data() + done, out.size() - done));
    if (!got || *got == 0) {
      break;
    }
    done += *got;
  }
  out.resize(done);
  return out;
}

// The blob as `repo` serves it: nullopt when blob_unknown (any other error fails the test), else
// its bytes, which must be exactly `content` by both stat_blob and open_blob.
inline std::optional<std::string> served_blob(Registry& registry, std::string_view repo, std::string_view content) {
  Digest digest = digest_of(content);
  auto info = registry.stat_blob(repo, digest);
  if (!info) {
    EXPECT_EQ(errc_name(info.error().code), errc_name(Errc::blob_unknown)) << info.error().message;
    auto opened = registry.open_blob(repo, digest);
    EXPECT_FALSE(opened.has_value()) << digest.str() << ": open_blob found what stat_blob did not";
    if (!opened) {
      EXPECT_EQ(errc_name(opened.error().code), errc_name(Errc::blob_unknown)) << opened.error().message;
    }
    return std::nullopt;
  }
  EXPECT_EQ(info->size, content.size()) << digest.str();
  auto file = registry.open_blob(repo, digest);
  EXPECT_TRUE(file.has_value()) << digest.str() << ": stat_blob found it, open_blob did not";
  if (!file) {
    return std::nullopt;
  }
  std::string bytes = read_all(**file);
  EXPECT_EQ(bytes, content) << digest.str();
  return bytes;
}

inline void expect_blob(Registry& registry, std::string_view repo, std::string_view content) {
  EXPECT_TRUE(served_blob(registry, repo, content).has_value())
      << "blob " << digest_of(content).str() << " of " << repo << " lost";
}

// The manifest `reference` resolves to: nullopt when manifest_unknown (any other error fails the
// test), else its content.
inline std::optional<std::string> served_manifest(Registry& registry, std::string_view repo,
                                                  std::string_view reference) {
  auto manifest = registry.get_manifest(repo, reference);
  if (!manifest) {
    EXPECT_EQ(errc_name(manifest.error().code), errc_name(Errc::manifest_unknown))
        << reference << ": " << manifest.error().message;
    return std::nullopt;
  }
  EXPECT_EQ(manifest->digest, digest_of(manifest->content)) << reference;
  return manifest->content;
}

// Manifest contents a reference may resolve to; nullopt stands for manifest_unknown.
using Allowed = std::vector<std::optional<std::string>>;

// `reference` resolves to exactly one of `allowed`.
inline void expect_manifest_in(Registry& registry, std::string_view repo, std::string_view reference,
                               const Allowed& allowed) {
  auto served = served_manifest(registry, repo, reference);
  bool found = std::find(allowed.begin(), allowed.end(), served) != allowed.end();
  EXPECT_TRUE(found) << reference << " resolves to "
                     << (served ? digest_of(*served).str() : std::string("manifest_unknown"));
}

inline void expect_manifest(Registry& registry, std::string_view repo, std::string_view reference,
                            std::string_view content) {
  expect_manifest_in(registry, repo, reference, {std::string(content)});
}

// Pushes every blob of `spec` (a client's retry does the same: HEAD, then upload what is missing).
inline void expect_pushed_blobs(Registry& registry, std::string_view repo, const ImageSpec& spec) {
  for (const std::string& layer : spec.layers) {
    EXPECT_OK(push_blob(registry, repo, layer));
  }
  EXPECT_OK(push_blob(registry, repo, spec.config));
}

inline void expect_image_blobs(Registry& registry, std::string_view repo, const ImageSpec& spec) {
  for (const std::string& layer : spec.layers) {
    expect_blob(registry, repo, layer);
  }
  expect_blob(registry, repo, spec.config);
}

inline void expect_base(Registry& registry) {
  expect_manifest(registry, k_repo, "v1", base_manifest());
  expect_manifest(registry, k_repo, digest_of(base_manifest()).str(), base_manifest());
  expect_image_blobs(registry, k_repo, base_spec());
}

// list_tags lists exactly the tags that resolve, out of `candidates` (every tag the repository
// may have); returns them.
inline std::set<std::string> expect_tags_consistent(Registry& registry, std::string_view repo,
                                                    const std::set<std::string>& candidates) {
  auto page = registry.list_tags(repo, 1000, "");
  EXPECT_TRUE(page.has_value()) << (page ? "" : page.error().message);
  std::set<std::string> listed;
  if (page) {
    listed.insert(page->items.begin(), page->items.end());
  }
  std::set<std::string> resolving;
  for (const std::string& tag : candidates) {
    if (registry.get_manifest(repo, tag)) {
      resolving.insert(tag);
    }
  }
  EXPECT_EQ(listed, resolving) << "list_tags of " << repo << " differs from the tags that resolve";
  return listed;
}

// ---- verification after GC ----

// No crash leftover, no verify problem, no temp file anywhere in the tree.
inline void expect_clean(const std::shared_ptr<Storage>& storage, Registry& registry,
                         const std::filesystem::path& root) {
  {
    LeftoverOptions options;
    options.dry_run = true;
    options.grace = 0s;
    auto leftovers = collect_leftovers(storage, options);
    EXPECT_OK(leftovers);
    for (const Leftover& left : leftovers ? leftovers->found : std::vector<Leftover>{}) {
      ADD_FAILURE() << "leftover of kind " << static_cast<int>(left.kind) << ": " << left.path;
    }
  }
  auto inspector = make_inspector(storage);
  cli::Progress progress(false, "verify");
  auto verified = cli::verify_storage(storage, registry, *inspector, cli::VerifyOptions{}, progress);
  ASSERT_OK(verified);
  for (const cli::Problem& problem : verified->problems) {
    ADD_FAILURE() << "verify: " << problem.kind << " " << problem.repository << " " << problem.digest << " "
                  << problem.path << ": " << problem.detail;
  }
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.path().filename().string().starts_with(".tmp-")) {
      ADD_FAILURE() << "temp file left: " << entry.path();
    }
  }
}

// ---- the runner ----

// Runs the path once, uncrashed but counted, on a fresh tree: its number of operations.
template <class State>
uint64_t learn_length(const CrashScenario<State>& scenario) {
  TempDir dir;
  auto plain = open_storage(dir.path());
  State state = scenario.setup(*make_registry(plain), *plain);
  age_tree(dir.path(), k_age);
  auto faults = std::shared_ptr<FaultStorage>(make_fault_storage(open_storage(dir.path())));
  faults->crash_after(std::numeric_limits<uint64_t>::max(), k_crash_exit);
  auto registry = make_registry(faults);
  auto done = scenario.write(*registry, faults, state);
  EXPECT_TRUE(done.has_value()) << "the path fails uncrashed: " << (done ? "" : done.error().message);
  return faults->operations();
}

// Builds the old state in `tree`, then runs the path in a child that crashes after `n`
// operations. Sets tree.completed when the path ran to its end.
template <class State>
void crash_at(const CrashScenario<State>& scenario, uint64_t n, CrashTree<State>& tree) {
  std::filesystem::create_directories(tree.root());
  std::filesystem::create_directories(tree.cwd());
  auto plain = open_storage(tree.root());
  tree.state = scenario.setup(*make_registry(plain), *plain);
  age_tree(tree.root(), k_age);
  tree.crash_point = n;
  pid_t pid = ::fork();
  if (pid == 0) {
    int code = 2;
    try {
      if (::chdir(tree.cwd().c_str()) == 0) {
        auto faults = std::shared_ptr<FaultStorage>(make_fault_storage(open_storage(tree.root())));
        faults->crash_after(n, k_crash_exit, true);
        auto registry = make_registry(faults);
        auto done = scenario.write(*registry, faults, tree.state);
        if (!done) {
          std::fprintf(stderr, "crash point %llu: path failed: %s\n", static_cast<unsigned long long>(n),
                       done.error().message.c_str());
        }
        code = done ? 0 : 1;
      }
    } catch (...) {
      code = 3;
    }
    ::_exit(code);
  }
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "crash point " << n << ": child died of a signal";
  int code = WEXITSTATUS(status);
  ASSERT_TRUE(code == 0 || code == k_crash_exit) << "crash point " << n << ": child exited " << code;
  tree.completed = code == 0;
}

// Steps a)-d) on one tree left by a crash (or by the completed run).
template <class State>
void check_tree(const CrashScenario<State>& scenario, CrashTree<State>& tree) {
  SCOPED_TRACE("crash point " + std::to_string(tree.crash_point) + (tree.completed ? " (completed)" : ""));
  auto storage = open_storage(tree.root());
  auto registry = make_registry(storage);
  scenario.check_readers(*registry, storage, tree.state, tree.completed);

  age_tree(tree.root(), k_age);
  auto report = collect_garbage(storage, scenario.gc);
  ASSERT_OK(report);
  for (const GcIncomplete& incomplete : report->incomplete) {
    ADD_FAILURE() << "GC incomplete: " << incomplete.repository << ": " << incomplete.reason;
  }
  expect_clean(storage, *registry, tree.root());

  scenario.repush(*registry, storage, tree.state);
  scenario.check_new(*registry, storage, tree.state);
  expect_clean(storage, *registry, tree.root());

  std::vector<std::string> outside;
  for (const auto& entry : std::filesystem::directory_iterator(tree.dir->path())) {
    outside.push_back(entry.path().filename().string());
  }
  std::sort(outside.begin(), outside.end());
  EXPECT_EQ(outside, (std::vector<std::string>{"cwd", "root"})) << "written outside the storage root";
  EXPECT_TRUE(std::filesystem::is_empty(tree.cwd())) << "written to the working directory";
}

// Crashes the path after every N = 0, 1, 2, ... until it completes; every N below the learned
// length must crash, the learned length must complete. Then checks every tree left.
template <class State>
void run_crash_points(const CrashScenario<State>& scenario) {
  uint64_t length = learn_length(scenario);
  ASSERT_GT(length, 0u);
  ASSERT_LT(length, k_max_operations);
  std::vector<CrashTree<State>> trees(length + 1);
  for (uint64_t n = 0; n <= length; ++n) {
    ASSERT_NO_FATAL_FAILURE(crash_at(scenario, n, trees[n]));
    ASSERT_EQ(trees[n].completed, n == length) << "crash point " << n << " of a path of " << length << " operations "
                                               << (trees[n].completed ? "completed" : "crashed");
  }
  std::this_thread::sleep_for(scenario.settle);
  for (auto& tree : trees) {
    check_tree(scenario, tree);
  }
}

}  // namespace regd::testing
