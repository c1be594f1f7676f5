#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "regd/manifest.h"
#include "registry_test_util.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;

constexpr int k_processes = 4;
constexpr int k_rounds = 12;

std::string common_layer() {
  return std::string(256 * 1024, 'c');
}

bool chunked_upload(Registry& registry, std::string_view repo, const std::string& content) {
  auto started = registry.start_upload(repo);
  if (!started) {
    return false;
  }
  size_t half = content.size() / 2;
  for (auto [offset, size] : {std::pair<size_t, size_t>{0, half}, {half, content.size() - half}}) {
    auto writer = registry.append_upload(repo, started->id, offset);
    if (!writer || !(*writer)->write(std::string_view(content).substr(offset, size)) || !(*writer)->close()) {
      return false;
    }
  }
  return registry.finish_upload(repo, started->id, digest_of(content)).has_value();
}

// One process's work: the shared blob, its own blobs, the shared tags moved over and over.
bool stress_round(Registry& registry, int process, int round) {
  std::string unique = "process " + std::to_string(process) + " round " + std::to_string(round) + " ";
  unique.append(64 * 1024 + process * 1000 + round, static_cast<char>('a' + process));
  ImageSpec spec{R"({"process":)" + std::to_string(process) + R"(,"round":)" + std::to_string(round) + "}",
                 {common_layer(), unique}};
  if (!push_blob(registry, "stress", common_layer()) || !chunked_upload(registry, "stress", unique) ||
      !push_blob(registry, "stress", spec.config)) {
    return false;
  }
  auto put = registry.put_manifest("stress", "latest", media_type::oci_manifest, image_manifest(spec));
  if (!put || !registry.set_tag("stress", "moving", put->digest)) {
    return false;
  }
  std::string own = "proc" + std::to_string(process);
  return push_image(registry, own, "latest", spec).has_value();
}

// Every stored blob re-hashes to the digest its path names.
void expect_blobs_intact(const fs::path& blobs) {
  size_t checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(blobs)) {
    std::string name = entry.path().filename().string();
    EXPECT_FALSE(name.starts_with(".tmp-")) << entry.path();
    if (!entry.is_regular_file() || name != "data") {
      continue;
    }
    fs::path dir = entry.path().parent_path();
    std::string algorithm = dir.parent_path().parent_path().filename().string();
    auto digest = Digest::parse(algorithm + ":" + dir.filename().string());
    ASSERT_OK(digest);
    DigestAlgorithm alg = digest->algorithm();
    EXPECT_EQ(digest_of(read_disk(entry.path()), alg), *digest);
    ++checked;
  }
  EXPECT_GT(checked, 0u);
}

// The tag resolves to a parseable manifest whose blobs the repository serves.
void expect_complete_image(Registry& registry, std::string_view repo, std::string_view tag) {
  auto manifest = registry.get_manifest(repo, tag);
  ASSERT_OK(manifest);
  auto parsed = parse_manifest(manifest->media_type, manifest->content);
  ASSERT_OK(parsed);
  ASSERT_TRUE(parsed->config.has_value());
  EXPECT_OK(registry.stat_blob(repo, parsed->config->digest));
  ASSERT_EQ(parsed->layers.size(), 2u);
  for (const Descriptor& layer : parsed->layers) {
    auto info = registry.stat_blob(repo, layer.digest);
    ASSERT_OK(info);
    EXPECT_EQ(info->size, layer.size);
  }
}

class RegistryImplTest : public RegistryTest {};

TEST_F(RegistryImplTest, InstancesOverOneRootSeeEachOthersWrites) {
  auto writer = another_registry();
  auto digest = push_image(*writer, "shared", "v1", ImageSpec{"{}", {"x"}});
  ASSERT_OK(digest);
  auto seen = m_registry->get_manifest("shared", "v1");
  ASSERT_OK(seen);
  EXPECT_EQ(seen->digest, *digest);
  ASSERT_OK(writer->delete_tag("shared", "v1"));
  EXPECT_ERRC(m_registry->get_manifest("shared", "v1"), Errc::manifest_unknown);
}

TEST_F(RegistryImplTest, OneRegistryServesManyThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int process = 0; process < k_processes; ++process) {
    threads.emplace_back([&, process] {
      for (int round = 0; round < 4; ++round) {
        if (!stress_round(*m_registry, process, round)) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failures.load(), 0);
  expect_blobs_intact(v2() / "blobs");
  expect_complete_image(*m_registry, "stress", "latest");
  expect_complete_image(*m_registry, "stress", "moving");
}

TEST_F(RegistryImplTest, ManyProcessesPushIntoOneRoot) {
  fs::path root = m_dir.path();
  std::vector<pid_t> children;
  for (int process = 0; process < k_processes; ++process) {
    children.push_back(spawn([root, process] {
      auto registry = make_registry(open_storage(root));
      for (int round = 0; round < k_rounds; ++round) {
        if (!stress_round(*registry, process, round)) {
          return false;
        }
      }
      return true;
    }));
  }
  for (pid_t child : children) {
    EXPECT_TRUE(wait_child(child, std::chrono::seconds(300)));
  }
  expect_blobs_intact(v2() / "blobs");
  expect_complete_image(*m_registry, "stress", "latest");
  expect_complete_image(*m_registry, "stress", "moving");
  for (int process = 0; process < k_processes; ++process) {
    expect_complete_image(*m_registry, "proc" + std::to_string(process), "latest");
  }
  auto manifests = m_registry->list_manifests("stress");
  ASSERT_OK(manifests);
  EXPECT_EQ(manifests->size(), static_cast<size_t>(k_processes * k_rounds));
  EXPECT_TRUE(fs::is_empty(repo_path("stress") / "_uploads"));
  auto repos = m_registry->list_repositories(100, "");
  ASSERT_OK(repos);
  EXPECT_EQ(repos->items, (std::vector<std::string>{"proc0", "proc1", "proc2", "proc3", "stress"}));
}

}  // namespace
}  // namespace regd::testing
