// Helpers for the Registry tests: a registry over a private temp root, blob pushing, manifest
// documents, on-disk file access, and bounded child processes for the multi-process tests.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "regd/digest.h"
#include "regd/registry.h"
#include "regd/storage.h"
#include "test_util.h"

namespace regd::testing {

inline constexpr std::string_view k_v2 = "docker/registry/v2";

inline std::shared_ptr<Storage> open_storage(const std::filesystem::path& root) {
  auto storage = make_posix_storage(root);
  if (!storage) {
    throw std::runtime_error("make_posix_storage: " + storage.error().message);
  }
  return std::shared_ptr<Storage>(std::move(*storage));
}

inline std::string read_disk(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_disk(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

// A descriptor JSON object for `content` stored as a blob.
inline nlohmann::json descriptor_json(std::string_view media_type, std::string_view content,
                                      DigestAlgorithm algorithm = DigestAlgorithm::sha256) {
  return {{"mediaType", media_type}, {"digest", digest_of(content, algorithm).str()}, {"size", content.size()}};
}

struct ImageSpec {
  explicit ImageSpec(std::string config_ = "{}", std::vector<std::string> layers_ = {})
      : config(std::move(config_)), layers(std::move(layers_)) {}

  std::string config;
  std::vector<std::string> layers;
  std::optional<Digest> subject;
  uint64_t subject_size = 0;
  std::string artifact_type;
  std::map<std::string, std::string> annotations;
};

// An OCI image manifest over the given config and layer contents.
inline std::string image_manifest(const ImageSpec& spec) {
  nlohmann::json doc = {{"schemaVersion", 2},
                        {"mediaType", media_type::oci_manifest},
                        {"config", descriptor_json("application/vnd.oci.image.config.v1+json", spec.config)},
                        {"layers", nlohmann::json::array()}};
  for (const std::string& layer : spec.layers) {
    doc["layers"].push_back(descriptor_json("application/vnd.oci.image.layer.v1.tar", layer));
  }
  if (spec.subject) {
    doc["subject"] = {
        {"mediaType", media_type::oci_manifest}, {"digest", spec.subject->str()}, {"size", spec.subject_size}};
  }
  if (!spec.artifact_type.empty()) {
    doc["artifactType"] = spec.artifact_type;
  }
  if (!spec.annotations.empty()) {
    doc["annotations"] = spec.annotations;
  }
  return doc.dump();
}

// An OCI index over the given manifest contents.
inline std::string index_manifest(const std::vector<std::string>& manifests) {
  nlohmann::json doc = {
      {"schemaVersion", 2}, {"mediaType", media_type::oci_index}, {"manifests", nlohmann::json::array()}};
  for (const std::string& manifest : manifests) {
    doc["manifests"].push_back(descriptor_json(media_type::oci_manifest, manifest));
  }
  return doc.dump();
}

// Uploads `content` through put_blob; returns its digest (or an error).
inline Result<Digest> push_blob(Registry& registry, std::string_view repo, std::string_view content,
                                DigestAlgorithm algorithm = DigestAlgorithm::sha256) {
  Digest digest = digest_of(content, algorithm);
  auto writer = registry.put_blob(repo, digest);
  if (!writer) {
    return std::unexpected(writer.error());
  }
  if (*writer) {
    if (auto written = (*writer)->write(content); !written) {
      return std::unexpected(written.error());
    }
    if (auto committed = (*writer)->commit(); !committed) {
      return std::unexpected(committed.error());
    }
  }
  return digest;
}

// Pushes the config and layers of `spec`, then the manifest under `reference`.
inline Result<Digest> push_image(Registry& registry, std::string_view repo, std::string_view reference,
                                 const ImageSpec& spec) {
  for (const std::string& blob : spec.layers) {
    if (auto pushed = push_blob(registry, repo, blob); !pushed) {
      return pushed;
    }
  }
  if (auto pushed = push_blob(registry, repo, spec.config); !pushed) {
    return pushed;
  }
  auto put = registry.put_manifest(repo, reference, media_type::oci_manifest, image_manifest(spec));
  if (!put) {
    return std::unexpected(put.error());
  }
  return put->digest;
}

// Forwards to a real storage and runs `hook` once, around the first rename whose target contains
// `match`: before it (a writer that lands just before the rename) or after it.
class RenameHookStorage final : public Storage {
 public:
  enum class When { before, after };
  RenameHookStorage(std::shared_ptr<Storage> inner, std::string match, When when, std::function<void()> hook)
      : m_inner(std::move(inner)), m_match(std::move(match)), m_when(when), m_hook(std::move(hook)) {}
  Result<std::string> read(const std::string& p, size_t max) override { return m_inner->read(p, max); }
  Result<std::unique_ptr<ReadFile>> open_read(const std::string& p) override { return m_inner->open_read(p); }
  Result<std::unique_ptr<WriteFile>> create(const std::string& p) override { return m_inner->create(p); }
  Result<std::unique_ptr<AppendFile>> open_append(const std::string& p, bool c) override {
    return m_inner->open_append(p, c);
  }
  Status rename(const std::string& from, const std::string& to) override {
    bool hooked = m_hook && to.find(m_match) != std::string::npos;
    if (hooked && m_when == When::before) {
      std::exchange(m_hook, nullptr)();
    }
    auto moved = m_inner->rename(from, to);
    if (hooked && m_hook) {
      std::exchange(m_hook, nullptr)();
    }
    return moved;
  }
  Status list(const std::string& d, const std::function<Status(const DirEntry&)>& v) override {
    return m_inner->list(d, v);
  }
  Status list_temps(const std::string& d, const std::function<Status(const DirEntry&, const FileInfo&)>& v) override {
    return m_inner->list_temps(d, v);
  }
  Status remove(const std::string& p) override { return m_inner->remove(p); }
  Status remove_all(const std::string& p) override { return m_inner->remove_all(p); }
  Result<FileInfo> stat(const std::string& p) override { return m_inner->stat(p); }
  Status touch(const std::string& p) override { return m_inner->touch(p); }
  Result<std::unique_ptr<Lock>> lock(const std::string& p, bool w) override { return m_inner->lock(p, w); }
  Result<Clock::time_point> now(const std::string& p) override { return m_inner->now(p); }

 private:
  std::shared_ptr<Storage> m_inner;
  std::string m_match;
  When m_when;
  std::function<void()> m_hook;
};

// `count` distinct repository names of one to three components drawn from `parts`, the same
// for the same `seed`.
inline std::set<std::string> random_repository_names(const std::vector<std::string>& parts, unsigned seed,
                                                     size_t count) {
  std::mt19937 random(seed);
  std::set<std::string> names;
  while (names.size() < count) {
    std::string name = parts[random() % parts.size()];
    for (size_t depth = random() % 3; depth > 0; --depth) {
      name += "/" + parts[random() % parts.size()];
    }
    names.insert(name);
  }
  return names;
}

// Checks every catalog page of `registry` against a brute-force sort of `names`: for each `last`
// and n of 1, 3 and 1000, the names after `last` and whether more follow.
inline void expect_catalog_matches(Registry& registry, const std::set<std::string>& names,
                                   const std::vector<std::string>& lasts) {
  for (const std::string& last : lasts) {
    for (size_t n : {1u, 3u, 1000u}) {
      std::vector<std::string> expected;
      for (auto it = names.upper_bound(last); it != names.end() && expected.size() < n; ++it) {
        expected.push_back(*it);
      }
      auto page = registry.list_repositories(n, last);
      ASSERT_OK(page);
      EXPECT_EQ(page->items, expected) << "last=" << last << " n=" << n;
      EXPECT_EQ(page->more, std::distance(names.upper_bound(last), names.end()) > static_cast<long>(n));
    }
  }
}

// A registry over a fresh temp root.
class RegistryTest : public ::testing::Test {
 protected:
  RegistryTest() : m_storage(open_storage(m_dir.path())), m_registry(make_registry(m_storage)) {}

  std::filesystem::path v2() const { return m_dir.path() / k_v2; }
  std::filesystem::path repo_path(std::string_view repo) const { return v2() / "repositories" / repo; }
  std::filesystem::path blob_path(const Digest& digest) const {
    return v2() / "blobs" / digest.algorithm_name() / digest.hex().substr(0, 2) / digest.hex() / "data";
  }
  std::unique_ptr<Registry> another_registry() { return make_registry(open_storage(m_dir.path())); }

  TempDir m_dir;
  std::shared_ptr<Storage> m_storage;
  std::unique_ptr<Registry> m_registry;
};

// Runs `body` in a forked child; the child exits 0 when body returns true. Returns the pid.
inline pid_t spawn(const std::function<bool()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    bool ok = false;
    try {
      ok = body();
    } catch (...) {
      ok = false;
    }
    ::_exit(ok ? 0 : 1);
  }
  return pid;
}

// Waits for a child at most `limit`; kills it on timeout. True when it exited with status 0.
inline bool wait_child(pid_t pid, std::chrono::seconds limit = std::chrono::seconds(120)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return false;
}

}  // namespace regd::testing
